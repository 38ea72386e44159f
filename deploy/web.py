"""nginx in front of the portal: TLS (Mozilla intermediate), security headers, upload and
rate limits, and ModSecurity with the OWASP Core Rule Set; on the province's portals the
one-stop hosts' sync listener (client certificates); the nginx exporter behind mutual TLS. Every file nginx reads is
checked with ``nginx -t`` in place before nginx reloads; a failing one is put back."""

from __future__ import annotations

from io import BytesIO, StringIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import FindInFile
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.controls import named
from deploy.operations import validated_file
from deploy.peers import address_of, addresses_of, present, this_host
from deploy.standard_exporters import NGINX
from deploy.templates import render
from deploy.tls import CRL_PATH, ca_dir, issue, revocation_list
from inventory.roles import MONITOR_HOSTS, ONESTOP_HOSTS, PROVINCE

NGINX_EXPORTER_ARGS = f"/etc/default/{NGINX.package}"

NGINX_CHECK = "nginx -t -q"
TLS_DIR = "/etc/ssl/portalops"
# Written straight into sites-enabled, so that ``nginx -t`` reads it when it is checked.
SITE = "/etc/nginx/sites-enabled/portal.conf"


def certificate() -> tuple[str, str]:
    """(chain PEM, key PEM): the province's files if the data names them, else from the lab CA."""
    data = host.data
    if data.tls_certificate_file and data.tls_key_file:
        return Path(data.tls_certificate_file).read_text(), Path(data.tls_key_file).read_text()
    chain, key, _ = issue(data, host.name, address_of())
    return chain, key


def body_limit_mb() -> int:
    """The largest request nginx reads: every attachment at its limit, plus the form."""
    return host.data.upload_max_mb_per_file * host.data.upload_max_files + 1


@deploy("Web", data_defaults=defaults.ALL)
def web():
    """nginx with TLS and headers (web-01/02), limits (web-03), WAF (web-04), checked (web-05)."""
    data = host.data
    packages = ["nginx"]
    if data.waf:
        packages += ["libnginx-mod-http-modsecurity", "modsecurity-crs"]
    apt.packages(name=named("web-01") + ": nginx", packages=packages, no_recommends=True)
    files.directory(name=named("web-01") + ": certificate directory", path=TLS_DIR, mode="750")
    chain, key = certificate()
    # The deploy's CA proves this host to its own clients (the monitor hosts' Prometheus, the
    # one-stop hosts' sync) and them to it; its revocation list is checked on the sync listener.
    own_chain, own_key, ca = issue(data, host.name, address_of())
    crl = x509.load_der_x509_crl(revocation_list(ca_dir(data))).public_bytes(serialization.Encoding.PEM)
    changed = [
        files.put(name=named("web-01") + ": certificate", dest=f"{TLS_DIR}/server.pem", src=StringIO(chain),
                  mode="644"),
        files.put(name=named("web-01") + ": key", dest=f"{TLS_DIR}/server.key", src=StringIO(key), mode="600"),
        files.put(name=named("mon-02") + ": the deploy's certificate", dest=f"{TLS_DIR}/scrape.pem",
                  src=StringIO(own_chain), mode="644"),
        files.put(name=named("mon-02") + ": the deploy's key", dest=f"{TLS_DIR}/scrape.key", src=StringIO(own_key),
                  mode="600"),
        files.put(name=named("mon-02") + ": the deploy's CA", dest=f"{TLS_DIR}/ca.pem", src=StringIO(ca), mode="644"),
        files.put(name=named("web-06") + ": the deploy's revocation list", dest=f"{TLS_DIR}/ca.crl.pem",
                  src=BytesIO(crl), mode="644"),
        # Debian's own, but with no TLS below 1.2 at the http level (its default allows 1.0
        # and 1.1 to any server block that does not say otherwise) and no server version.
        validated_file(name=named("web-01") + ": nginx.conf", dest="/etc/nginx/nginx.conf",
                       content=render("nginx.conf.j2", data), check=NGINX_CHECK, in_place=True),
    ]
    if data.waf:
        files.directory(name=named("web-04") + ": rules directory", path="/etc/nginx/modsec")
        changed.append(validated_file(
            name=named("web-04") + ": ModSecurity and CRS", dest="/etc/nginx/modsec/portalops.conf",
            content=render("modsecurity.conf.j2", data, client_max_body_bytes=body_limit_mb() * 1024 * 1024),
            check=NGINX_CHECK, in_place=True))
    if not data.tls_certificate_file:  # the deploy's CA: its revocation list, served here
        files.directory(name=named("web-01") + ": revocation list directory", path="/var/www/pki", mode="755")
        files.put(name=named("web-01") + ": the CA's revocation list", dest=f"/var/www{CRL_PATH}", mode="644",
                  src=BytesIO(revocation_list(ca_dir(data))))
    # An older deploy had Debian's nginx exporter on nginx_exporter_port itself: it moves to
    # loopback before nginx takes the port (deploy/monitoring.py keeps it there).
    if host.get_fact(FindInFile, path=NGINX_EXPORTER_ARGS, pattern=f"-web.listen-address=:{data.nginx_exporter_port}"):
        server.shell(name=named("mon-02") + ": nginx exporter off the scrape port", commands=[
            f"sed -i 's/-web.listen-address=:{data.nginx_exporter_port}[^\"]*/"
            f"-web.listen-address=127.0.0.1:{data.nginx_exporter_local_port}/' {NGINX_EXPORTER_ARGS}",
            "systemctl restart prometheus-nginx-exporter"])
    # Debian's default site claims the default server: it goes before the portal's is checked.
    changed.append(files.link(name=named("web-05") + ": default site disabled",
                              path="/etc/nginx/sites-enabled/default", present=False))
    changed.append(validated_file(
        name=named("web-05") + ": portal site", dest=SITE,
        content=render("nginx-portal.conf.j2", data, server_name=host.name, client_max_body_mb=body_limit_mb(),
                       crl_path=CRL_PATH, monitor_addresses=addresses_of(MONITOR_HOSTS), tls_dir=TLS_DIR,
                       sync_listener=this_host().portal == PROVINCE and present(ONESTOP_HOSTS)),
        check=NGINX_CHECK, in_place=True))
    systemd.service(name=named("web-05") + ": nginx running", service="nginx", running=True, enabled=True)
    systemd.service(name=named("web-05") + ": nginx reloaded", service="nginx", reloaded=True,
                    _if=any_changed(*changed))
