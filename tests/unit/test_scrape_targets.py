"""Scrape and probe targets come from the inventory, with the unit's labels on every target."""

from types import SimpleNamespace

from deploy import defaults
from deploy.scrape_targets import Member, targets

PORTS = SimpleNamespace(**defaults.ALL)

PORTAL = Member("portal-1", "198.18.0.10", "000.00.00.H56", "Tỉnh Thanh Hóa", "province", ("portal",))
DB = Member("db-1", "198.18.0.11", "000.00.00.H56", "Tỉnh Thanh Hóa", "province", ("db",))
COMMUNE = Member("xa-1", "198.18.2.1", "000.17.22.H56", "Xã Một", "commune", ("onestop",))


def test_every_host_is_scraped_for_node_and_portalops_metrics_with_its_unit_as_labels():
    jobs = targets([PORTAL, DB, COMMUNE], PORTS, [])
    assert [t["targets"] for t in jobs["node"]] == [["198.18.0.10:9100"], ["198.18.0.11:9100"], ["198.18.2.1:9100"]]
    assert [t["targets"] for t in jobs["portalops"]][2] == ["198.18.2.1:9120"]
    assert jobs["node"][2]["labels"] == {"instance": "xa-1", "unit_code": "000.17.22.H56", "unit_name": "Xã Một",
                                         "tier": "commune", "roles": ",onestop,"}


def test_only_web_hosts_are_scraped_for_portal_metrics_and_probed_over_https():
    jobs = targets([PORTAL, DB, COMMUNE], PORTS, ["https_portal", "journey"])
    assert [t["labels"]["instance"] for t in jobs["portal"]] == ["portal-1", "xa-1"]
    assert [t["targets"] for t in jobs["probe_https_portal"]] == [["https://198.18.0.10/readyz"],
                                                                  ["https://198.18.2.1/readyz"]]
    assert jobs["probe_https_portal"][0]["labels"]["module"] == "https_portal"
    assert [t["targets"] for t in jobs["probe_journey"]] == [["https://198.18.0.10"]]


def test_a_new_commune_in_the_inventory_is_a_new_target_everywhere():
    other = Member("xa-2", "198.18.2.2", "000.17.23.H56", "Xã Hai", "commune", ("onestop",))
    before = targets([PORTAL, COMMUNE], PORTS, ["https_portal"])
    after = targets([PORTAL, COMMUNE, other], PORTS, ["https_portal"])
    for job in ("node", "portalops", "portal", "probe_https_portal", "nginx", "postgres"):
        assert len(after[job]) == len(before[job]) + 1


def test_debians_exporters_are_scraped_where_they_run_nginx_on_web_hosts_postgres_on_database_hosts():
    jobs = targets([PORTAL, DB, COMMUNE], PORTS, [])
    assert [t["targets"] for t in jobs["nginx"]] == [["198.18.0.10:9113"], ["198.18.2.1:9113"]]
    assert [t["targets"] for t in jobs["postgres"]] == [["198.18.0.11:9187"], ["198.18.2.1:9187"]]
    assert jobs["postgres"][1]["labels"]["unit_code"] == "000.17.22.H56"
