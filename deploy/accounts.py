"""Accounts and logins: lock-out after failures, ageing, umask, idle shells, file modes, SUID."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File, FindInFile
from pyinfra.operations import apt, files, server
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.controls import named

# pam-auth-update profiles: Debian's own way to add a module to the common-* stacks.
FAILLOCK_PROFILE = """Name: Lock accounts after repeated failures (portalops)
Default: yes
Priority: 1024
Auth-Type: Primary
Auth-Initial:
	requisite pam_faillock.so preauth
Account-Type: Primary
Account-Initial:
	required pam_faillock.so
"""
FAILLOCK_NOTIFY_PROFILE = """Name: Count failed logins for lock-out (portalops)
Default: yes
Priority: 0
Auth-Type: Primary
Auth-Final:
	[default=die] pam_faillock.so authfail
"""


# Files a package this deploy installs brings: on a fresh host they do not exist yet when
# facts are read, but do by the time their mode is set.
BROUGHT_BY_DEPLOY = {"/etc/crontab"}  # cron, base-13


def login_defs(name: str, key: str, value) -> None:
    """Set ``key`` in /etc/login.defs to ``value`` (the line replaced, or added)."""
    # Basic regular expressions: pyinfra matches with grep and replaces with sed.
    files.line(name=f"{name}: login.defs {key}", path="/etc/login.defs", line=f"^{key}[[:space:]].*$",
               replace=f"{key}\t{value}")


PWQUALITY_PACKAGES = ["libpam-pwquality", "cracklib-runtime", "wamerican"]


@deploy("Accounts", data_defaults=defaults.ALL)
def accounts():
    """Lock-out (acc-01), ageing and inactivity (acc-02), umask and idle shells (acc-03),
    file modes (acc-04), SUID bits (acc-05), private /tmp per session (acc-06), password
    strength and hashing cost (acc-07), closed home directories (acc-08)."""
    data = host.data
    # Both packages add themselves to the PAM stacks (pam-auth-update) when installed, so
    # they come before the faillock profiles are (re)applied below.
    apt.packages(name=named("acc-06") + ": libpam-tmpdir", packages=["libpam-tmpdir"], no_recommends=True)
    # pwquality's dictionary check needs cracklib's dictionary: without it every new password
    # is refused ("error loading dictionary"), so nobody could set one at all.
    apt.packages(name=named("acc-07") + ": libpam-pwquality", packages=PWQUALITY_PACKAGES, no_recommends=True)
    files.put(name=named("acc-07") + ": pwquality.conf", dest="/etc/security/pwquality.conf.d/90-portalops.conf",
              src=StringIO(f"# Written by portalops: [acc-07]\nminlen = {data.password_min_length}\n"
                           f"minclass = {data.password_min_classes}\ndictcheck = 1\nusercheck = 1\n"
                           "enforce_for_root\n"))
    files.put(name=named("acc-01") + ": faillock.conf", dest="/etc/security/faillock.conf",
              src=StringIO(f"# Written by portalops: [acc-01]\ndeny = {data.faillock_deny}\n"
                           f"fail_interval = 900\nunlock_time = {data.faillock_unlock_seconds}\naudit\n"))
    profiles = [files.put(name=named("acc-01") + f": pam profile {name}", dest=f"/usr/share/pam-configs/{name}",
                          src=StringIO(text))
                for name, text in (("portalops-faillock", FAILLOCK_PROFILE),
                                   ("portalops-faillock-notify", FAILLOCK_NOTIFY_PROFILE))]
    # pam-auth-update runs only when a profile changed or the stack lacks the module,
    # so a second deploy reports no change.
    stack_has_it = host.get_fact(FindInFile, path="/etc/pam.d/common-auth", pattern="pam_faillock.so")
    if not stack_has_it:
        server.shell(name=named("acc-01") + ": enabled in the PAM stacks",
                     commands=["pam-auth-update --package --enable portalops-faillock portalops-faillock-notify"])
    else:
        server.shell(name=named("acc-01") + ": PAM stacks refreshed",
                     commands=["pam-auth-update --package --enable portalops-faillock portalops-faillock-notify"],
                     _if=any_changed(*profiles))

    for key, value in (("PASS_MAX_DAYS", data.password_max_days), ("PASS_MIN_DAYS", data.password_min_days),
                       ("UMASK", data.umask), ("ENCRYPT_METHOD", "YESCRYPT")):
        login_defs(named("acc-02"), key, value)
    for key, value in (("YESCRYPT_COST_FACTOR", data.yescrypt_cost_factor),
                       ("SHA_CRYPT_MIN_ROUNDS", data.sha_crypt_rounds), ("SHA_CRYPT_MAX_ROUNDS", data.sha_crypt_rounds)):
        login_defs(named("acc-07"), key, value)
    login_defs(named("acc-08"), "HOME_MODE", "0" + data.home_mode)
    files.line(name=named("acc-02") + ": new accounts expire when inactive", path="/etc/default/useradd",
               line="^#*[[:space:]]*INACTIVE=.*$", replace=f"INACTIVE={data.inactive_days}")

    files.put(name=named("acc-03"), dest="/etc/profile.d/portalops-session.sh", mode="644",
              src=StringIO(f"# Written by portalops: [acc-03]\numask {data.umask}\n"
                           f"TMOUT={data.shell_timeout_seconds}\nreadonly TMOUT\nexport TMOUT\n"))

    for path, mode in data.file_modes.items():
        if path in BROUGHT_BY_DEPLOY or host.get_fact(File, path=path):
            files.file(name=f"{named('acc-04')}: {path}", path=path, mode=mode, touch=False)
    for path, mode in data.directory_modes.items():
        files.directory(name=f"{named('acc-04')}: {path}", path=path, mode=mode)
    # Admins' homes were made before UMASK/HOME_MODE above applied to new ones.
    for admin in data.admins:
        files.directory(name=f"{named('acc-08')}: /home/{admin['name']}", path=f"/home/{admin['name']}",
                        mode=data.home_mode)
    for path in data.suid_removed:
        if host.get_fact(File, path=path):
            files.file(name=f"{named('acc-05')}: {path}", path=path, mode="755", touch=False)
