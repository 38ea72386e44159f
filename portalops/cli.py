"""The ``portalops`` command: one entry point for the whole toolkit."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from inventory.groups import group_names, pyinfra_groups
from inventory.pyinfra_file import write_inventory_file
from inventory.thanhhoa import TOPOLOGIES, topology
from inventory.units import UnitsTableError, format_units, load_units
from lab import LabError, settings
from loadtests.profiles import PHASES
from portalops import __version__
from tabulate import tabulate


class ClearErrorsGroup(click.Group):
    """A command group that turns the toolkit's own errors (a bad units table, a lab that cannot
    come up) into one-line failures naming the problem, instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (LabError, UnitsTableError) as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=ClearErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portalops")
def main():
    """Deploy, harden, monitor and load-test a province's public-service portal
    and its one-stop servers, from one units table."""


def plain_table(header, rows) -> str:
    """Plain columns for the terminal, each cell as written (tabulate, no number reformatting)."""
    return tabulate(rows, header, tablefmt="plain", disable_numparse=True)


def _hosts_from(units: str | None, topology_name: str):
    return load_units(units) if units else topology(topology_name)


# --- inventory -----------------------------------------------------------------------------


@main.group(cls=ClearErrorsGroup)
def inventory():
    """Check, export and convert units tables (the inventory's one source of truth)."""


@inventory.command("check")
@click.argument("table", type=click.Path(dir_okay=False))
def inventory_check(table):
    """Validate TABLE and summarise its units and groups; exit 1 naming every bad row."""
    hosts = load_units(table)
    tiers = Counter(h.tier for h in hosts)
    groups = {name: members for name, members in pyinfra_groups(hosts).items() if name != "all"}
    click.echo(f"{table}: {len(hosts)} hosts, "
               + ", ".join(f"{tiers[t]} {t}" for t in ("province", "district", "commune")))
    click.echo(plain_table(["group", "hosts"], [(g, len(groups.get(g, []))) for g in group_names()]))


@inventory.command("export")
@click.option("--topology", "topology_name", type=click.Choice(TOPOLOGIES), default=settings.DEFAULT_TOPOLOGY,
              show_default=True, help="Built-in Thanh Hóa topology.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def inventory_export(topology_name, output):
    """Write a built-in topology as a units table, to edit into your own province's."""
    text = format_units(topology(topology_name))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@inventory.command("pyinfra")
@click.argument("table", type=click.Path(dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--ssh-user", default="root", show_default=True, help="User pyinfra logs in as.")
@click.option("--ssh-key", type=click.Path(dir_okay=False), help="Private key pyinfra uses.")
def inventory_pyinfra(table, output, ssh_user, ssh_key):
    """Write OUTPUT, a pyinfra inventory file that reads TABLE each time it loads."""
    load_units(table)  # refuse a bad table now, not at deploy time
    connection = {"ssh_user": ssh_user} | ({"ssh_key": str(Path(ssh_key).resolve())} if ssh_key else {})
    write_inventory_file(Path(table).resolve(), Path(output), connection)
    click.echo(f"wrote {output}; try: pyinfra {output} exec -- uptime")


# --- deploy --------------------------------------------------------------------------------


@main.command("deploy")
@click.argument("inventory")
@click.option("--limit", multiple=True, help="Only these hosts or groups (repeatable).")
@click.option("--dry", is_flag=True, help="Show what would change; change nothing.")
@click.option("--diff", is_flag=True, help="Show the differences of changed files.")
@click.option("--data", multiple=True, metavar="KEY=VALUE",
              help="Override a deploy default for every host, e.g. ssh_max_auth_tries=4 (JSON values).")
@click.option("--batch", metavar="N|N%",
              help="Roll out in waves: a canary, then N hosts (or N% of the targeted hosts) per pyinfra run.")
@click.option("--canary", metavar="HOST", help="With --batch: the host that goes first, alone "
              "[the first one-stop host targeted].")
@click.option("--max-fail", default=0, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="With --batch: stop after a wave with more failed or unreachable hosts than this.")
def deploy_command(inventory, limit, dry, diff, data, batch, canary, max_fail):
    """Provision and harden every host of INVENTORY (a pyinfra inventory file) in parallel.

    Runs deploy/site.py with pyinfra, then lists each host: unchanged, changed, failed (and
    at which control), or unreachable. Exits 1 if any host failed or was unreachable.

    With --batch the change reaches the hosts in waves, each its own pyinfra run (--limit
    narrows the hosts first): the canary, then N hosts at a time; a failed canary, or a
    wave with more than --max-fail failed or unreachable hosts, stops the rollout, and the
    hosts it never touched are listed. Exits 1 if it stopped or any host failed. Without
    --batch every host is in one run, as before: what the first converge of a new province
    needs, since its hosts depend on each other within that run (pyinfra orders operations
    across hosts, so the province's database is up before its portal starts).
    """
    from deploy.rollout import RolloutError, deploy, rollout

    if batch is None:
        if canary or max_fail:
            raise click.UsageError("--canary and --max-fail go with --batch")
        _report(deploy(inventory, limit, dry, diff, data), dry)
        return
    try:
        result = rollout(inventory, batch, limit, canary, max_fail, dry, diff, data,
                         on_wave=lambda wave: _print_wave(wave, dry))
    except RolloutError as error:
        raise click.UsageError(str(error)) from error
    _report_rollout(result)


def _print_outcomes(outcomes, dry: bool = False) -> list:
    """Print the per-host table of a pyinfra run and its totals; the hosts that failed or were unreachable."""
    verb = "would change" if dry else "changed"
    click.echo(plain_table(["host", "state", verb, "unchanged", "failed at"], [
        (o.name, o.state if not dry or o.state == "unreachable" else ("would change" if o.changed else "unchanged"),
         o.changed, o.unchanged, o.failed[0] if o.failed else "") for o in outcomes]))
    bad = [o for o in outcomes if o.state in ("failed", "unreachable")]
    total = sum(o.changed for o in outcomes)
    click.echo(f"{len(outcomes)} hosts, {total} operations {verb}, {len(bad)} failed or unreachable"
               + (f": {', '.join(o.name for o in bad)}" if bad else ""))
    return bad


def _report(outcomes, dry: bool = False) -> None:
    """Print the per-host table of a pyinfra run; exit 1 if any host failed or was unreachable."""
    if _print_outcomes(outcomes, dry):
        sys.exit(1)


def _print_wave(wave, dry: bool = False) -> None:
    """A wave of a rollout as it ends: its hosts' table (pyinfra's log of it is above)."""
    click.echo(f"\n{wave.name}: {len(wave.hosts)} host{'s' if len(wave.hosts) != 1 else ''}")
    _print_outcomes(wave.outcomes, dry)


def _report_rollout(result) -> None:
    """After the waves' tables: the hosts never touched and why; exit 1 if the rollout stopped
    or any host failed or was unreachable."""
    bad = [o.name for wave in result.ran for o in wave.bad]
    if result.not_run:
        click.echo(f"\nrollout stopped: {result.stopped}; not touched:")
        click.echo(plain_table(["host", "wave"], [(name, wave.name) for wave in result.not_run for name in wave.hosts]))
    waves = len(result.ran) + len(result.not_run)
    click.echo(f"\n{len(result.ran)} of {waves} waves ran ({len(result.outcomes)} hosts), "
               f"{len(bad)} failed or unreachable" + (f" ({', '.join(bad)})" if bad else "")
               + f", {len(result.untouched)} not touched")
    if result.not_run or bad:
        sys.exit(1)


@main.command("restore")
@click.argument("inventory")
@click.argument("host")
@click.option("--from", "source", type=click.Choice(["local", "copy"]), default="local", show_default=True,
              help="The host's own repository, or the copy on the backup host.")
@click.option("--time", "target_time", metavar="TIMESTAMP",
              help="Point in time to restore to, e.g. '2026-11-27 09:15:00+07' (default: the latest).")
@click.option("--yes", is_flag=True, help="Really replace the host's database (it is stopped meanwhile).")
def restore_command(inventory, host, source, target_time, yes):
    """Restore HOST's PostgreSQL from its pgBackRest backups, then start it again.

    The latest WAL is archived first if PostgreSQL runs, PostgreSQL is stopped, the data
    directory is brought back to the backup (and WAL up to --time), and the command ends
    when recovery has finished. Everything written after --time is gone from the database.
    """
    from deploy.rollout import RESTORE, deploy

    if not yes:
        raise click.UsageError(f"restoring replaces {host}'s database and stops it meanwhile: add --yes")
    data = [f"restore_from={source}"] + ([f"restore_time={target_time}"] if target_time else [])
    outcomes = deploy(inventory, [host], data=data, script=RESTORE)
    if not outcomes:
        raise click.UsageError(f"{host}: no such host in {inventory}")
    _report(outcomes)


@main.group("tls", cls=ClearErrorsGroup)
def tls_group():
    """The deploy's CA: the certificates it issued to the hosts."""


@tls_group.command("revoke")
@click.argument("host")
def tls_revoke(host):
    """Revoke the certificate the deploy's CA issued to HOST (a one-stop host lost or compromised).

    Then deploy the province's portal hosts (`portalops deploy INVENTORY --limit portal`): their
    sync listener refuses HOST from then on, and only HOST. HOST's own next deploy issues it a
    new certificate, so deploy it only once it is rebuilt and trusted again.
    """
    from deploy.tls import default_ca_dir, revoke

    try:
        serial = revoke(default_ca_dir(), host)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"revoked {host}'s certificate (serial {serial:x}); "
               "now: portalops deploy INVENTORY --limit portal")


@main.command("audit")
@click.argument("inventory")
@click.option("--limit", multiple=True, help="Only these hosts or groups (repeatable).")
@click.option("--check", "checks", multiple=True, type=click.Choice(["lynis", "ssh-audit", "tls", "controls"]),
              help="Only these checks (repeatable; default: all four).")
@click.option("--lynis-min", default=None, type=int, help="Lowest Lynis hardening index that passes [85].")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Also write every finding here.")
def audit_command(inventory, limit, checks, lynis_min, json_file):
    """Audit every host of INVENTORY against the level 3 thresholds; print a table per host.

    Lynis runs on each host (hardening index >= 85, with the tests a container cannot pass
    skipped by the deploy's profile and listed); ssh-audit (no failure or warning) and
    testssl.sh (no HIGH or CRITICAL finding, web hosts) run from here; the deploy's own
    controls are checked by a dry run (nothing would change). Exits 1 if any host fails.
    """
    import dataclasses
    import json

    from audit.report import CHECKS, HEADER, LYNIS_MIN_INDEX, cells, details
    from audit.checks import audit

    lynis_min = LYNIS_MIN_INDEX if lynis_min is None else lynis_min
    audits = audit(inventory, limit, tuple(checks) or CHECKS, log=lambda line: click.echo(line, err=True))
    click.echo(plain_table(HEADER, [cells(a, lynis_min) for a in audits]))
    for line in details(audits, lynis_min):
        click.echo(line)
    failed = [a.target.name for a in audits if not a.passed(lynis_min)]
    click.echo(f"{len(audits)} hosts audited, {len(audits) - len(failed)} pass, {len(failed)} fail"
               + (f": {', '.join(failed)}" if failed else ""))
    if json_file:
        Path(json_file).write_text(json.dumps([dataclasses.asdict(a) for a in audits], indent=2, default=str))
    if failed:
        sys.exit(1)


@main.command("monitor")
@click.argument("inventory")
@click.option("--wait", default=180, show_default=True, help="Seconds to wait for every target to come up.")
def monitor_command(inventory, wait):
    """What the monitor host of INVENTORY sees: every scrape target's health and the alerts firing.

    Waits up to --wait seconds for every target to be up, then prints a table per target
    and the firing alerts with their summaries and runbooks. Exits 1 if a target is down or
    an alert fires.
    """
    from inventory.entries import inventory_entries
    from portalops.prometheus import MonitorError, monitor_of, wait_for

    try:
        monitor = monitor_of(inventory_entries(inventory))
        try:
            wait_for(lambda: all(t["health"] == "up" for t in monitor.targets()), wait, what="every target up")
        except MonitorError as error:
            click.echo(f"portalops monitor: {error}", err=True)
        scraped = sorted(monitor.targets(), key=lambda t: (t["labels"]["job"], t["labels"].get("instance", "")))
        firing = monitor.firing()
    except MonitorError as error:
        raise click.ClickException(str(error)) from error
    click.echo(plain_table(["job", "instance", "health", "last error"],
                            [(t["labels"]["job"], t["labels"].get("instance", ""), t["health"], t["lastError"][:80])
                             for t in scraped]))
    for alert in firing:
        labels, notes = alert["labels"], alert["annotations"]
        click.echo(f"FIRING {labels['alertname']} [{labels.get('severity', '')}] {notes.get('summary', '')}"
                   f"\n    {notes.get('runbook_url', '')}")
    down = [t for t in scraped if t["health"] != "up"]
    click.echo(f"{len(scraped)} targets, {len(scraped) - len(down)} up, {len(down)} down; "
               f"{len(firing)} alerts firing (Prometheus on https://{monitor.address}:{monitor.prometheus_port})")
    if down or firing:
        sys.exit(1)


@main.command("loadtest", context_settings={"ignore_unknown_options": True})
@click.argument("inventory")
@click.option("--profile", "profile_name", type=click.Choice(list(PHASES)), default="peak",
              show_default=True, help="Load profile (see loadtests/profiles.py).")
@click.option("--duration", help="Run length such as 90s or 10m (default: the profile's).")
@click.option("--volume", multiple=True, metavar="NAME=VALUE",
              help="A volume-model number, e.g. dossiers_per_day=5000 (repeatable).")
@click.option("--workers", default=0, show_default=True, help="Locust worker processes under a master (0: one process).")
@click.option("--slo", type=click.Path(dir_okay=False), help="SLO thresholds file [loadtests/slo.toml].")
@click.option("--report-dir", type=click.Path(file_okay=False),
              help="Where result.json and report.html go [~/.local/share/portalops/loadtests/TIME-PROFILE].")
@click.option("--source-addresses", metavar="CIDR",
              help="Send each user's portal requests from one address of this network [the inventory's "
                   "loadtest_sources].")
@click.argument("locust_options", nargs=-1, type=click.UNPROCESSED)
def loadtest_command(inventory, profile_name, duration, volume, workers, slo, report_dir, source_addresses,
                     locust_options):
    """Load the portal of INVENTORY with the province's journeys and gate on the SLOs.

    Prints the volume model's plan (target visits per second per journey and the users
    they need), runs the profile, prints the checks that failed and the verdict, and writes
    an HTML report with plots. Exits 0 when the run passes, 1 when an SLO fails, 2 when the
    run is invalid (the load generator ran out of CPU, or nothing was sent). Any other
    Locust option can follow the inventory.
    """
    from loadtests import driver
    from loadtests.profiles import DURATIONS, parse_duration

    seconds = parse_duration(duration) if duration else DURATIONS[profile_name]
    directory = Path(report_dir) if report_dir else driver.default_report_dir(profile_name)
    options = ["--inventory", inventory, "--load-profile", profile_name, "--duration", f"{seconds}s",
               "--report-dir", str(directory)]
    for item in volume:
        options += ["--volume", item]
    if slo:
        options += ["--slo", slo]
    if source_addresses:
        options += ["--source-addresses", source_addresses]
    code = driver.run(options + list(locust_options), workers, seconds + driver.GRACE_SECONDS)
    sys.exit(code)


# --- portal --------------------------------------------------------------------------------


@main.group(cls=ClearErrorsGroup)
def portal():
    """The reference portal (dichvucong): run it locally, build its release artifact."""


@portal.command("serve")
@click.option("--port", default=8000, show_default=True, help="Portal port on 127.0.0.1.")
@click.option("--standins-port", default=8900, show_default=True, help="Stand-ins (SSO, gateway, national) port.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers.")
@click.option("--directory", type=click.Path(file_okay=False), default="/tmp/portalops-portal", show_default=True,
              help="Where the database, uploads, secrets and logs go.")
def portal_serve(port, standins_port, workers, directory):
    """Run the portal on loopback with its own PostgreSQL, outbox sender and stand-ins (Ctrl-C stops)."""
    import signal
    import time

    from loopback_portal.stack import Stack

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)  # PostgreSQL runs as its own user below it when we are root
    stack = Stack(path, workers=workers, portal_port=port, standins_port=standins_port).start()
    click.echo(f"portal     {stack.province.url}  (log in: {stack.province.url}/auth/login?login_hint=001090000001)")
    click.echo(f"stand-ins  {stack.standins_url}  (SSO, payment gateway, national portal)")
    click.echo(f"logs, database and secrets in {path}; Ctrl-C stops everything")
    for stop_signal in (signal.SIGTERM, signal.SIGINT):  # stop as on Ctrl-C, even if started in the background
        signal.signal(stop_signal, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


@portal.command("build")
@click.option("-o", "--out", type=click.Path(file_okay=False), default="dist", show_default=True)
def portal_build(out):
    """Build the portal's release: wheel + offline wheelhouse + manifest, as one .tar.gz."""
    from deploy.release import build

    archive = build(Path(out))
    click.echo(f"built {archive}")


# --- lab -------------------------------------------------------------------------------------


@main.group(cls=ClearErrorsGroup)
def lab():
    """The province in a box: real Debian 12 hosts on this machine (needs root)."""


@lab.command("up")
@click.option("--topology", "topology_name", type=click.Choice(TOPOLOGIES), default=settings.DEFAULT_TOPOLOGY,
              show_default=True, help="Built-in Thanh Hóa topology to take hosts from.")
@click.option("--units", type=click.Path(dir_okay=False), help="Your own units table instead of a built-in one.")
@click.option("--districts", type=int, help="District-level units to boot [2020: 2, 2025: 0].")
@click.option("--communes", type=int, help="Commune-level units to boot [2020: 3, 2025: 5].")
def lab_up(topology_name, units, districts, communes):
    """Boot the province's hosts and a few one-stop units; keep what already runs."""
    from lab.lifecycle import up
    from lab.selection import select_hosts

    hosts = _hosts_from(units, topology_name)
    default_districts, default_communes = settings.DEFAULT_SIZE[
        topology_name if not units else ("2020" if any(h.tier == "district" for h in hosts) else "2025")]
    chosen = select_hosts(hosts, default_districts if districts is None else districts,
                          default_communes if communes is None else communes)
    report = up(chosen, log=lambda line: click.echo(line, err=True))
    click.echo(f"lab up: {len(chosen)} hosts ({len(report.started)} booted, {len(report.kept)} kept,"
               f" {len(report.removed)} removed)")
    _national_standins_deployed()
    click.echo(f"pyinfra inventory: {settings.INVENTORY_FILE}")
    _print_status()


def _national_standins_deployed() -> None:
    """Deploy the lab's national-service stand-ins on their own host (lab/national.py)."""
    from deploy.rollout import NATIONAL_SITE, deploy

    click.echo(f"deploying the national-service stand-ins on {settings.NATIONAL_HOST}", err=True)
    outcomes = deploy(str(settings.NATIONAL_INVENTORY_FILE), script=NATIONAL_SITE, echo=False)
    bad = [f"{o.name}: {o.unreachable or ', '.join(o.failed)}" for o in outcomes if o.failed or o.unreachable]
    if bad:
        raise click.ClickException("the lab's national-service stand-ins did not deploy: " + "; ".join(bad))
    click.echo(f"national services (lab stand-ins): {settings.NATIONAL_ADDRESS}:{settings.NATIONAL_PORT}")


def _print_status() -> bool:
    from lab.lifecycle import status

    rows = status()
    if not rows:
        click.echo("no lab is up (portalops lab up)")
        return False
    click.echo(plain_table(
        ["host", "tier", "unit", "roles", "address", "state", "ssh"],
        [(r.host.host, r.host.tier, r.host.unit_code, " ".join(r.host.roles), r.host.address,
          "running" if r.running else "stopped", "ok" if r.ssh else "NO") for r in rows],
    ))
    return all(r.ssh for r in rows)


@lab.command("status")
def lab_status():
    """Show each lab host, its role, address, and whether SSH answers; exit 1 if any does not."""
    if not _print_status():
        sys.exit(1)


@lab.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def lab_ssh(host, command):
    """Log in to lab HOST (or run COMMAND there) as the operator."""
    from lab.lifecycle import lab_hosts
    from lab.ssh import ssh_command

    by_name = {h.host: h for h in lab_hosts()}
    if host not in by_name:
        known = ", ".join(sorted(by_name)) or "none: run `portalops lab up`"
        raise click.ClickException(f"no lab host {host!r}; lab hosts: {known}")
    argv = ssh_command(by_name[host].address, *command, batch=False)
    os.execvp(argv[0], argv)


@lab.command("inventory")
def lab_inventory():
    """Print the path of the lab's pyinfra inventory (for portalops deploy or pyinfra)."""
    if not settings.INVENTORY_FILE.exists():
        raise click.ClickException("no lab is up (portalops lab up)")
    click.echo(settings.INVENTORY_FILE)


@lab.command("down")
@click.option("--purge", is_flag=True, help="Also delete the cached base image, packages and operator key.")
def lab_down(purge):
    """Stop every lab host and remove the bridge, mounts and cache process."""
    from lab.lifecycle import down

    down(purge=purge, log=lambda line: click.echo(line, err=True))
    click.echo("lab down: nothing of the lab is left running")


# --- secrets ---------------------------------------------------------------------------------


class EscrowErrorsGroup(ClearErrorsGroup):
    """The secrets commands' group: an escrow that cannot be made or restored is a one-line
    failure naming the problem, like the toolkit's other errors."""

    def invoke(self, ctx):
        from deploy.escrow import EscrowError

        try:
            return super().invoke(ctx)
        except EscrowError as error:
            raise click.ClickException(str(error)) from error


def _store_options(command):
    """--secrets-dir and --ca-dir, defaulting to the deploy's own directories."""
    command = click.option("--ca-dir", type=click.Path(file_okay=False),
                           help="The deploy's CA directory, if the data sets tls_ca_dir (default: the deploy's, "
                                "PORTALOPS_CA_DIR if set).")(command)
    return click.option("--secrets-dir", type=click.Path(file_okay=False),
                        help="The generated secrets' directory, if the data sets secrets_dir (default: the deploy's, "
                             "PORTALOPS_SECRETS_DIR if set).")(command)


@main.group("secrets", cls=EscrowErrorsGroup)
def secrets_group():
    """Escrow the controller's secrets and CA, so that losing this machine loses nothing.

    The backups' passphrases, every database password and token, and the deploy's CA live on
    this controller only: export them encrypted (age) to offline custodians, import them on a
    second operator's controller.
    """


@secrets_group.command("export")
@click.option("--to", "destination", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (mode 0600), e.g. on an offline USB key.")
@click.option("-r", "--recipient", "recipients", multiple=True, metavar="AGE_PUBLIC_KEY",
              help="A custodian's age public key, age1... (repeatable).")
@click.option("-R", "--recipients-file", "recipient_files", multiple=True, type=click.Path(dir_okay=False),
              help="A file of custodians' age public keys, one a line (repeatable).")
@_store_options
@click.option("--force", is_flag=True, help="Replace an existing archive.")
def secrets_export(destination, recipients, recipient_files, secrets_dir, ca_dir, force):
    """Write the secrets and the CA as one archive encrypted to every recipient (age).

    Any one custodian's identity decrypts it; this controller keeps nothing that can.
    """
    from deploy.escrow import Stores, export_archive

    manifest = export_archive(Path(destination), recipients, [Path(f) for f in recipient_files],
                              Stores.of(secrets_dir, ca_dir), force)
    counts = Counter(name.split("/", 1)[0] for name in manifest["files"])
    directories, keys = manifest["directories"], len(manifest["recipients"])
    click.echo(f"wrote {destination}: {counts['secrets']} secrets from {directories['secrets']}, "
               f"{counts['ca']} CA files from {directories['ca']}, encrypted to {keys} recipient{'s' * (keys != 1)}")
    click.echo("keep it offline, away from this controller; restore with `portalops secrets import`")


@secrets_group.command("import")
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False),
              help="The archive `portalops secrets export` wrote.")
@click.option("--identity", required=True, type=click.Path(dir_okay=False),
              help="A custodian's age identity file (age-keygen's output).")
@_store_options
@click.option("--force", is_flag=True, help="Replace existing files that differ from the archive's.")
def secrets_import(source, identity, secrets_dir, ca_dir, force):
    """Restore an escrow archive onto this controller, every file checked against its manifest.

    Writes nothing if the archive is corrupt, not for this identity, or if an existing file
    differs (they are listed; --force replaces them).
    """
    from deploy.escrow import Stores, import_archive

    manifest, restored = import_archive(Path(source), Path(identity), Stores.of(secrets_dir, ca_dir), force)
    click.echo(plain_table(["file", "state"], [(str(r.path), r.state) for r in restored]))
    counts = Counter(r.state for r in restored)
    click.echo(f"from {manifest['host']}, exported {manifest['created']}: {len(restored)} files, "
               + ", ".join(f"{counts[state]} {state}" for state in ("restored", "replaced", "unchanged")))


@secrets_group.command("status")
@_store_options
def secrets_status(secrets_dir, ca_dir):
    """Where the secrets and the CA are, how many secrets, the CA's fingerprint and expiry."""
    from deploy.escrow import Stores, holdings

    held = holdings(Stores.of(secrets_dir, ca_dir))
    click.echo(plain_table(["what", "value"], [
        ("secrets directory", held.stores.secrets),
        ("secrets", held.secrets),
        ("CA directory", held.stores.ca),
        ("CA fingerprint (SHA-256)", held.ca_fingerprint or "no CA"),
        ("CA expires", held.ca_expires.isoformat() if held.ca_expires else "-"),
        ("host certificates issued", held.issued),
    ]))
