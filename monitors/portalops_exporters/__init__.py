"""Prometheus exporters of portalops: probes, security events, services, dossiers and sync.

Each collector reads at scrape time and is wrapped by :class:`exporter.Scraped`, which
adds ``<name>_up`` and ``<name>_scrape_duration_seconds``. Labels carry only bounded
values from the inventory or the role (unit codes, service names, probe modules):
never citizens' data, addresses typed by a client, or paths a request chose.
"""
