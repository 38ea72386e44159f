"""Every tunable of the deploys, in one place, with why it exists and what changing it costs.

Override per group or per host in pyinfra data (a ``group_data/`` file beside your
inventory, or the inventory's host data), never by editing this file. Each
concern's dictionary is the ``data_defaults`` of its ``@deploy``.
"""

from __future__ import annotations

from inventory.roles import STORES

# pgBackRest's repository on a host: backed up (BACKUP), left out of AIDE's watch (INTRUSION).
BACKUP_REPO_PATH = STORES["backup_repository"].path

BASE = {
    # Admin accounts: [{"name": "nguyenvana", "keys": ["ssh-ed25519 AAAA... comment"]}].
    # They log in by key only and use sudo. The deploy refuses to run on a host when
    # the account it connects as is not among them: that is how nobody locks out.
    "admins": [],
    # Only members of this group may log in over SSH (sshd AllowGroups); admins join it.
    "ssh_login_group": "ssh-users",
    # Persistent journal. Level 3 keeps logs at least three months, centrally (the
    # monitor host) and locally; the size cap protects the disk, raise it on busy hosts.
    "journal_max_use": "2G",
    "journal_max_retention": "1year",
    # Where apt fetches packages: a cache on the province's network (apt-cacher-ng),
    # so hosts patch from one central source. None leaves apt as it is.
    "apt_proxy": None,
    # Security updates install themselves daily from the Debian-Security origin.
    "unattended_upgrades": True,
    # Packages that have no place on a public-service server (clear-text or legacy
    # network services). Removing one a host really needs breaks that host's use of it.
    "unneeded_packages": ["telnet", "rsh-client", "rsh-redone-client", "talk", "nis", "xinetd",
                          "avahi-daemon", "cups", "tftp", "ftp"],
    # NTP servers for systemd-timesyncd; the province's own time source where it has one.
    "ntp_servers": ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"],
    # Security updates already published are installed during the deploy, not a day later
    # by unattended-upgrades. Turning it off leaves known holes open until that run.
    "security_upgrades_on_deploy": True,
    # needrestart after an upgrade: "l" lists the services still running old libraries
    # (in the apt log) and restarts nothing; "a" would restart them, sshd and PostgreSQL
    # included, in the middle of a deploy or an unattended upgrade.
    "needrestart_mode": "l",
    # Shown before every login: on the console (/etc/issue) and over SSH (/etc/issue.net,
    # sshd Banner). The wording is the province's legal notice; clients print it on stderr.
    "login_banner": ("CẢNH BÁO: Hệ thống thông tin của cơ quan nhà nước. Chỉ người được cấp quyền mới được truy cập.\n"
                     "Mọi truy cập đều được ghi nhật ký và giám sát; truy cập trái phép sẽ bị xử lý theo pháp luật.\n"
                     "WARNING: Government information system. Authorised use only.\n"
                     "All access is logged and monitored; unauthorised access is prohibited and dealt with under the law.\n"),
}

SSH = {
    "ssh_port": 22,
    # Modern algorithms only, all of which pyinfra's client (paramiko) and OpenSSH 9 speak.
    "ssh_kex": ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
                "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"],
    "ssh_ciphers": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
                    "aes256-ctr", "aes192-ctr", "aes128-ctr"],
    "ssh_macs": ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"],
    "ssh_host_key_algorithms": ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
    # Level 3: lock after at most 5 failed attempts; sshd drops the connection after 3.
    "ssh_max_auth_tries": 3,
    "ssh_login_grace_seconds": 30,
    # Level 3: admin sessions lock after 5 minutes idle (2 keep-alives 150 s apart = 5 min).
    # Keep interval x count at 300 s when changing either.
    "ssh_client_alive_interval": 150,
    "ssh_client_alive_count_max": 2,
    # Sessions (channels) per connection. pyinfra gathers facts over many channels of one
    # connection at once: at 2, and even 4, it fails with "ChannelException: Connect
    # failed" (seen on the lab), so OpenSSH's own 10, not the 2 Lynis suggests.
    "ssh_max_sessions": 10,
    # Dead clients are found by the encrypted ClientAlive messages above, not by
    # spoofable TCP keep-alives.
    "ssh_tcp_keep_alive": False,
    # Show /etc/issue.net (login_banner) before authentication.
    "ssh_banner": True,
    "ssh_max_startups": "10:30:60",
}

FIREWALL = {
    # Networks admins reach SSH from. The deploy refuses to load a firewall that would
    # not let the connection it is running over back in.
    "admin_networks": [],
    # New SSH connections per source address per minute before it is dropped; pyinfra
    # needs one per host, the test suite a few dozen, a brute force thousands.
    "ssh_new_per_minute": 30,
    "ssh_new_burst": 60,
    # Addresses refused everything (the named set "blocked"); fail2ban adds its own.
    "blocked_addresses": [],
    # Ports by role: open to everyone ("public") or to hosts of a group ("from").
    "web_ports": [80, 443],
    "postgres_port": 5432,
}

KERNEL = {
    # Network stack hardening; these apply in a container too (it has its own stack).
    # ip_forward is left alone: turning it off breaks hosts that route (containers, VPN).
    "sysctl_net": {
        "net.ipv4.conf.all.rp_filter": 1,
        "net.ipv4.conf.default.rp_filter": 1,
        "net.ipv4.conf.all.accept_redirects": 0,
        "net.ipv4.conf.default.accept_redirects": 0,
        "net.ipv4.conf.all.secure_redirects": 0,
        "net.ipv4.conf.all.send_redirects": 0,
        "net.ipv4.conf.default.send_redirects": 0,
        "net.ipv4.conf.all.accept_source_route": 0,
        "net.ipv4.conf.default.accept_source_route": 0,
        "net.ipv4.conf.all.log_martians": 1,
        "net.ipv4.conf.default.log_martians": 1,
        "net.ipv4.icmp_echo_ignore_broadcasts": 1,
        "net.ipv4.icmp_ignore_bogus_error_responses": 1,
        "net.ipv4.tcp_syncookies": 1,
        "net.ipv6.conf.all.accept_redirects": 0,
        "net.ipv6.conf.default.accept_redirects": 0,
        "net.ipv6.conf.all.accept_source_route": 0,
    },
    # Kernel hardening outside net.*: only a VM or bare metal can set these.
    "sysctl_kernel": {
        "kernel.kptr_restrict": 2,
        "kernel.dmesg_restrict": 1,
        "kernel.yama.ptrace_scope": 1,
        "kernel.randomize_va_space": 2,
        "kernel.unprivileged_bpf_disabled": 1,
        "kernel.perf_event_paranoid": 3,  # Debian kernels: no perf for unprivileged users
        "kernel.sysrq": 0,
        "kernel.ctrl-alt-del": 0,
        "kernel.core_uses_pid": 1,
        "dev.tty.ldisc_autoload": 0,
        "net.core.bpf_jit_harden": 2,  # net.* by name, but the kernel's, not a namespace's
        "fs.protected_hardlinks": 1,
        "fs.protected_symlinks": 1,
        "fs.protected_fifos": 2,
        "fs.protected_regular": 2,
        "fs.suid_dumpable": 0,
    },
    # File systems, protocols and storage buses no portal server mounts, speaks or has.
    # usb-storage and firewire: a USB disk cannot be read on the host (copy restores
    # over the network, or remove them here for a host that needs one).
    "blacklisted_modules": ["cramfs", "freevxfs", "jffs2", "hfs", "hfsplus", "udf", "dccp", "sctp", "rds", "tipc",
                            "usb-storage", "firewire-core", "firewire-ohci"],
}

ACCOUNTS = {
    # Level 3: lock an account after at most 5 failed logins, for 15 minutes.
    "faillock_deny": 5,
    "faillock_unlock_seconds": 900,
    # Level 3: disable accounts inactive for more than 45 days (password-based ones).
    "inactive_days": 45,
    "password_max_days": 90,
    "password_min_days": 1,
    "umask": "027",
    # Level 3: sessions lock after 15 minutes idle, admins' after 5; servers have admins only.
    "shell_timeout_seconds": 300,
    # Set-user-ID bits removed from programs no server user needs to run as root.
    "suid_removed": ["/usr/bin/chfn", "/usr/bin/chsh", "/usr/bin/newgrp"],
    # Sensitive files and the modes they keep.
    "file_modes": {"/etc/shadow": "640", "/etc/gshadow": "640", "/etc/passwd": "644", "/etc/group": "644",
                   "/etc/crontab": "600", "/etc/ssh/sshd_config": "600"},
    # Directories of scheduled jobs: root reads them, nobody learns what runs when.
    "directory_modes": {"/etc/cron.d": "700", "/etc/cron.hourly": "700", "/etc/cron.daily": "700",
                        "/etc/cron.weekly": "700", "/etc/cron.monthly": "700"},
    # Home directories: no other user reads an admin's files (keys, history). Also the
    # mode useradd gives new homes.
    "home_mode": "750",
    # Password strength (pam_pwquality) for any password set on the host (admins log in
    # by key; this guards the accounts that get one anyway). Raising it only bites the
    # next password change.
    "password_min_length": 14,
    "password_min_classes": 3,
    # Password hashing cost: yescrypt's cost factor (what ENCRYPT_METHOD uses), and SHA
    # rounds for tools that ask for SHA-512 (chpasswd -c SHA512). Higher costs slow each
    # login check and each brute-force guess alike.
    "yescrypt_cost_factor": 7,
    "sha_crypt_rounds": 65536,
}

INTRUSION = {
    # fail2ban: ban after this many failures within the window, for this long.
    "fail2ban_max_retry": 5,
    "fail2ban_find_seconds": 600,
    "fail2ban_ban_seconds": 3600,
    # AIDE's daily check compares files with its database; data that changes by design is
    # left out so a report means something. An excluded path is not watched at all.
    "aide_excluded": [STORES["database"].path, BACKUP_REPO_PATH, "/var/lib/dichvucong", "/var/lib/prometheus",
                      "/var/lib/portalops-exporter"],
    # How often debsums checks installed files against their packages: "daily", "weekly",
    # "monthly" (cron). A check reads every packaged file: daily costs disk reads on small hosts.
    "debsums_schedule": "weekly",
}

AUDIT = {
    # Lynis tests that cannot apply inside a container (systemd-nspawn, LXC...): the
    # deploy writes them as skip-test lines into /etc/lynis/custom.prf on containers only,
    # and the audit lists them beside the score. A VM or bare metal runs them all.
    "lynis_container_skips": {
        "ACCT-9622": "process accounting needs CAP_SYS_PACCT, which the container manager drops",
        "ACCT-9628": "auditd: the kernel's audit subsystem belongs to the host (ids-01 skipped)",
        "FILE-6310": "separate partitions: the container's file system is one directory of the host",
        "FILE-6344": "/proc is mounted by the container manager (hidepid needs CAP_SYS_ADMIN)",
        "FILE-6374": "/dev, /dev/shm and /tmp are mounted by the container manager, with its options",
        "KRNL-5788": "no kernel image of its own: the container runs the host's kernel",
        "MACF-6290": "AppArmor/SELinux profiles are the host kernel's; a container cannot load them",
        "NETW-3200": "protocol modules (dccp, sctp, rds, tipc) load into the host's kernel (os-03 skipped)",
        "STRG-1846": "firewire drivers load into the host's kernel (os-03 skipped)",
        "USB-1000": "usb-storage loads into the host's kernel (os-03 skipped)",
        "USB-3000": "USBGuard: no USB bus in a container",
        # kernel.*, fs.*, dev.* sysctls are the host kernel's, read-only in a container (os-02 skipped).
        **{f"KRNL-6000:{key}": "kernel sysctl: the host kernel's, read-only in a container (os-02 skipped)"
           for key in KERNEL["sysctl_kernel"]},
    },
}

WEB = {
    # Where nginx sends requests: the portal's gunicorn on the same host.
    "web_upstream": "127.0.0.1:8000",
    # The province's certificate and key (paths on the controller, PEM); without them the
    # deploy issues one from a lab CA it keeps in tls_ca_dir (default ~/.local/share/portalops/ca).
    "tls_certificate_file": None,
    "tls_key_file": None,
    "tls_ca_dir": None,
    # Where certificates say the CA's revocation list is (None: the first portal host serves
    # the deploy's CA's list at http://<host>/pki/portalops-ca.crl). With the province's CA,
    # its own CRL or OCSP address is in its certificates already.
    "tls_crl_url": None,
    # OCSP stapling needs a CA with a responder: on for the province's CA, off for the lab CA.
    "tls_ocsp_stapling": False,
    "hsts_max_age": 63072000,
    # Dossier attachments: a scanned certificate runs to a few MB; the portal and nginx take
    # their limits from these two numbers (a 1 KB limit would break every upload).
    "upload_max_mb_per_file": 20,
    "upload_max_files": 10,
    # The province portal's sync listener for the one-stop hosts (HTTPS; each one-stop host
    # proves itself with its own client certificate from the deploy's CA, which names its unit).
    "sync_port": 8443,
    # Requests per minute per client address before nginx answers 429.
    "login_rate_per_minute": 20,
    # The payment platform's callbacks need no login: per client address, at most this many a
    # minute reach the portal (each refused one is a security event), except from the payment
    # platform's own addresses (networks its operator publishes), whose callbacks are every
    # citizen's payments and are never limited.
    "payment_callback_rate_per_minute": 60,
    "payment_platform_addresses": [],
    "submit_rate_per_minute": 30,
    # ModSecurity with the OWASP Core Rule Set in front of the portal.
    "waf": True,
    "waf_paranoia_level": 1,
}

DATABASE = {
    # Debian 12's PostgreSQL.
    "postgres_version": 15,
    # The portal's database and the role it logs in as (password generated, see deploy/secrets.py).
    "portal_database": "dichvucong",
    "portal_db_user": "dichvucong",
    # Statements slower than this are logged (level 3 asks that slow work be visible).
    "postgres_log_min_duration_ms": 500,
    "postgres_max_connections": 200,
    # Where generated secrets live on the controller (None: ~/.local/share/portalops/secrets).
    "secrets_dir": None,
}

BACKUP = {
    # pgBackRest on every host that runs PostgreSQL: a repository on the host itself (fast
    # restores) and a copy on the backup hosts, both encrypted (aes-256-cbc, passphrases
    # generated in secrets_dir on the controller: keep that directory safe, offline too,
    # or the backups cannot be read). The stanza is the host's name.
    "backup_repo_path": BACKUP_REPO_PATH,
    # Full backups kept (older ones expire with the WAL they need); a full a week, so
    # about 2 and 4 weeks back. Raising these costs a full backup's space each.
    "backup_local_retention_full": 2,
    "backup_copy_retention_full": 4,
    # When backups run (systemd OnCalendar): a differential every day, a full on this day.
    "backup_local_schedule": "*-*-* 01:30:00",
    "backup_copy_schedule": "*-*-* 03:00:00",
    "backup_full_weekday": "Sun",
    # pgBackRest's own TLS server (client certificates from the deploy's CA) on each side.
    "backup_port": 8432,
}

APP = {
    # gunicorn workers per portal host: about one per core plus one.
    "portal_workers": 3,
    # Portal releases a host keeps besides the current one and the previous one (which going
    # back needs), newest first; the switch script (deploy/files/dichvucong-switch) removes
    # the rest after each healthy switch. Each is a whole virtual environment, about 80 MB
    # (1.0.0): more lets an operator go further back by hand (dichvucong-switch RELEASE)
    # without a deploy, at that much disk on every commune host; 0 keeps only the two.
    # The switch script's own default (RELEASES_KEPT) is this number too.
    "releases_kept": 3,
    # The national services the portals call, outside the province: the national SSO (its
    # issuer URL), the national payment platform and the national portal's sync API. Every
    # portal host needs all three; the deploy refuses a portal host before any change without
    # them. The lab's inventory points them at its own stand-ins (lab/national.py), which no
    # production inventory has.
    "national_sso_url": None,
    "national_payment_url": None,
    "national_sync_url": None,
    # More DVC_* settings for the portal (see portal/dichvucong/config.py), e.g. {"DVC_DB_POOL_SIZE": "16"}.
    "portal_extra_env": {},
}

MONITORING = {
    # Every host: Debian's node_exporter and the portalops exporters (one process), both
    # scraped over TLS with a client certificate, from the monitor hosts only (firewall).
    "node_exporter_port": 9100,
    "exporter_port": 9120,
    # Debian's nginx exporter on the web hosts (nginx's counters read from a status page on
    # 127.0.0.1 only) and its PostgreSQL exporter on the database hosts (mutual TLS; a
    # pg_monitor role over the local socket, no password). Debian's nginx exporter cannot ask
    # for a client certificate, so it answers on loopback (nginx_exporter_local_port) and
    # nginx serves it on nginx_exporter_port with mutual TLS.
    "nginx_exporter_port": 9113,
    "nginx_exporter_local_port": 9114,
    "nginx_status_port": 8080,
    "postgres_exporter_port": 9187,
    # The monitor host: Prometheus and Alertmanager (HTTPS and a password; open to the admin
    # networks only).
    "prometheus_port": 9090,
    "alertmanager_port": 9093,
    # How often every target is scraped and probed. Shorter finds an outage sooner and costs
    # every host CPU per scrape (see the exporter footprint in docs/performance.md).
    "scrape_interval": "15s",
    "scrape_timeout": "10s",
    # Level 3 keeps monitoring records at least three months; the size cap guards the disk
    # (Prometheus drops the oldest blocks first when it is reached).
    "prometheus_retention": "120d",
    "prometheus_retention_size": "20GB",
    # Where Alertmanager sends alerts: webhook URLs (a chat bridge, a ticket system), and/or
    # e-mail: {"smarthost": "mail.example:587", "sender": "alerts@...", "to": ["oncall@..."]}.
    # With neither, alerts wait in Alertmanager's pages and API for someone to look.
    "alert_webhook_urls": [],
    "alert_smtp": None,
    # The journey probe: a test citizen searches the catalogue, logs in, files a dossier with
    # an attachment, looks it up, reads the attachment back and withdraws it, on each portal
    # host. It leaves a withdrawn dossier per run and needs a test citizen at the national SSO,
    # so it is off unless the inventory turns it on (the lab's does, with its SSO stand-in).
    "journey_probe": False,
    "journey_probe_interval": "5m",
    "journey_probe_timeout": "30s",
    "journey_citizen": "001099000001",
    "journey_catalogue_query": "khai sinh",
    "journey_procedure_code": "HT.c.001",
}

# Every deploy sees every default: a value one concern sets (the SSH port, the login
# group) is read by another (the firewall, the accounts) without being typed twice.
ALL = {**BASE, **SSH, **FIREWALL, **KERNEL, **ACCOUNTS, **INTRUSION, **AUDIT, **WEB, **DATABASE, **BACKUP, **APP,
       **MONITORING}
