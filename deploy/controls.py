"""The controls the deploys satisfy, each named in the operations that apply it.

Ids follow the concern (``ssh-03``), titles say what the control achieves, and
``container`` says whether it can apply inside a container: kernel settings
outside ``net.*``, kernel modules, auditd, process accounting and clock setting
cannot, and a deploy skips them there with a line saying so, never silently. The
Lynis tests that follow from them are listed in ``lynis_container_skips``
(deploy/defaults.py) and skipped through Lynis's profile on containers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra import host, logger

from deploy.facts import Container


@dataclass(frozen=True)
class Control:
    """A hardening control: its id, what it achieves, and whether a container can have it."""

    id: str
    title: str
    container: bool = True


CONTROLS = {c.id: c for c in [
    Control("base-01", "Admin accounts log in by key and use sudo"),
    Control("base-02", "Only the SSH login group may log in"),
    Control("base-03", "Hostname set from the inventory"),
    Control("base-04", "Clock synchronised (systemd-timesyncd)", container=False),
    Control("base-05", "Journal persistent and kept at least three months"),
    Control("base-06", "Packages come from the central cache"),
    Control("base-07", "Security updates install unattended"),
    Control("base-08", "Unneeded network services removed"),
    Control("base-09", "Published security updates applied at deploy"),
    Control("base-10", "Upgrades show their news and the services left on old libraries (apt-listchanges, needrestart)"),
    Control("base-11", "Installed versions visible for patch management (apt-show-versions)"),
    Control("base-12", "Legal warning shown before every login (console and SSH)"),
    Control("base-13", "Scheduled checks run (cron)"),
    Control("ssh-01", "sshd allows modern key exchange, ciphers and MACs only"),
    Control("ssh-02", "No password and no root login over SSH"),
    Control("ssh-03", "Few authentication tries, short login grace, idle sessions closed"),
    Control("ssh-04", "sshd configuration validated (sshd -t) before it is used"),
    Control("fw-01", "Firewall denies by default, allows per role"),
    Control("fw-02", "SSH from admin networks only, new connections rate-limited"),
    Control("fw-03", "Named set of blocked addresses"),
    Control("fw-04", "Firewall rules validated (nft -c) before they are loaded"),
    Control("os-01", "Network stack hardened (sysctl net.*)"),
    Control("os-02", "Kernel hardened (sysctl kernel.*, fs.*)", container=False),
    Control("os-03", "Unused file systems and protocols cannot load", container=False),
    Control("os-04", "Core dumps off"),
    Control("acc-01", "Accounts lock after 5 failed logins (pam_faillock)"),
    Control("acc-02", "Password ageing and inactive accounts disabled after 45 days"),
    Control("acc-03", "Restrictive umask and idle shells closed"),
    Control("acc-04", "Sensitive files keep strict modes"),
    Control("acc-05", "Set-user-ID bits removed where not needed"),
    Control("acc-06", "Each login session gets a private temporary directory (libpam-tmpdir)"),
    Control("acc-07", "Passwords need strength (pam_pwquality) and are hashed at a high cost"),
    Control("acc-08", "Home directories closed to other users"),
    Control("ids-01", "auditd records identity, sudo, time and config changes", container=False),
    Control("ids-02", "fail2ban bans SSH brute force (systemd journal backend)"),
    Control("ids-03", "Lynis installed for the audit, container-only tests skipped in its profile"),
    Control("ids-04", "File integrity checked daily against a baseline (AIDE)"),
    Control("ids-05", "Rootkit scan daily (rkhunter), file properties refreshed after apt"),
    Control("ids-06", "Installed files checked against their packages (debsums)"),
    Control("ids-07", "Process accounting records every command run (acct)", container=False),
    Control("ids-08", "System activity recorded every 10 minutes (sysstat)"),
    Control("web-01", "TLS 1.2/1.3 only, Mozilla intermediate ciphers, HSTS"),
    Control("web-02", "Security headers and no server version"),
    Control("web-03", "Upload size fits dossier attachments, rate limits on login, submission and payment callbacks"),
    Control("web-04", "WAF (ModSecurity, OWASP CRS) blocks attacks before the portal"),
    Control("web-05", "nginx configuration validated (nginx -t) before reload"),
    Control("web-06", "One-stop hosts sync with their own client certificate, for their own unit only"),
    Control("db-01", "PostgreSQL listens only where app hosts reach it, over TLS"),
    Control("db-02", "Passwords hashed with scram-sha-256; pg_hba allows the app hosts only"),
    Control("db-03", "Connections and slow statements logged"),
    Control("db-04", "PostgreSQL configuration validated before reload"),
    Control("bak-01", "Database backed up daily by pgBackRest, encrypted, with retention"),
    Control("bak-02", "A copy of every backup on the backup host"),
    Control("bak-03", "Backup hosts and database hosts authenticate each other (TLS client certificates)"),
    Control("app-01", "Release installed offline into its own directory"),
    Control("app-02", "Service sandboxed by systemd, secrets readable by the service only"),
    Control("app-03", "Atomic switch, health check, automatic rollback"),
    Control("mon-01", "Every host exports its metrics (node_exporter, portalops exporters), sandboxed"),
    Control("mon-02", "Metrics scraped over TLS by clients with a certificate of the deploy's CA only"),
    Control("mon-03", "Prometheus scrapes and probes every inventory host; rules validated before reload"),
    Control("mon-04", "Alerts routed to on-call by Alertmanager; configuration validated before reload"),
    Control("mon-05", "Monitoring records kept at least three months"),
]}


def named(control_id: str) -> str:
    """An operation name carrying the control: ``[ssh-02] No password and no root login``."""
    control = CONTROLS[control_id]
    return f"[{control.id}] {control.title}"


def in_container() -> bool:
    """True when the current host is a container (systemd-detect-virt --container)."""
    return host.get_fact(Container) != "none"


def applies(control_id: str) -> bool:
    """True if the control can apply on this host; otherwise say it is skipped and why."""
    control = CONTROLS[control_id]
    if control.container or not in_container():
        return True
    logger.info(f"[{host.name}] {named(control_id)}: not applicable in a container, skipped")
    host.noop(f"{named(control_id)}: not applicable in a container")
    return False
