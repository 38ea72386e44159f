"""Account and group changes from shadow's tools (4.13, Debian 12) and pam_unix password changes.

Each program logs some changes twice (``/etc/group`` and ``/etc/gshadow``, ``group`` and
``shadow group``): only one of the two lines is counted, so one change counts once.

    new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/sh, from=/dev/pts/0   (useradd)
    add 'bob' to group 'ssh-users'                                                           (usermod)
    delete user 'bob'                                                                        (userdel)
    group added to /etc/group: name=auditors, GID=1002                                       (groupadd)
    pam_unix(passwd:chauthtok): password changed for bob                                     (passwd)
"""

from __future__ import annotations

import re

from portalops_exporters.security.events import Event

# Each pattern matches a whole line as the tool writes it, so a line that only starts like
# one (garbage, or a user name chosen to look like one) counts nothing.
_MEMBERSHIP = [(r"add '[^']*' to group '[^']*'$", "membership_changed"),
               (r"delete '[^']*' from group '[^']*'$", "membership_changed")]
_RULES: dict[str, list[tuple[str, str]]] = {
    "useradd": [(r"new user: name=[^,]+, UID=\d+, GID=\d+, ", "user_added"),
                (r"new group: name=[^,]+, GID=\d+$", "group_added"), *_MEMBERSHIP],
    "userdel": [(r"delete user '[^']*'$", "user_deleted"), (r"removed group '[^']*' owned by '[^']*'$", "group_deleted"),
                *_MEMBERSHIP],
    "usermod": [(r"change user '[^']*' password$", "password_changed"),
                (r"(?:lock|unlock) user '[^']*' password$", "user_modified"),
                (r"change user name '[^']*' to '[^']*'$", "user_modified"),
                (r"change user '[^']*' (?:UID|GID|home|shell|inactive|expiration) from '[^']*' to '[^']*'$",
                 "user_modified"),
                (r"change '[^']*' to '[^']*' in group '[^']*'$", "membership_changed"), *_MEMBERSHIP],
    "groupadd": [(r"group added to \S*/group: name=[^,]+, GID=\d+$", "group_added")],
    "groupdel": [(r"group '[^']*' removed from \S*/group$", "group_deleted")],
    "groupmod": [(r"group changed in \S*/group \(.+\)$", "group_modified")],
    "gpasswd": [(r"user \S+ (?:added|removed) by \S+ (?:to|from) group \S+$", "membership_changed"),
                (r"(?:members|administrators) of group \S+ set by \S+ to ", "group_modified"),
                (r"password of group \S+ (?:changed|removed) by \S+$", "group_modified"),
                (r"access to group \S+ restricted by \S+$", "group_modified")],
    # passwd through PAM logs only pam_unix's line; passwd -l/-u/-e (no PAM) logs its own.
    "passwd": [(r"pam_unix\(passwd:chauthtok\): password changed for \S+$", "password_changed"),
               (r"password for '[^']*' changed by '[^']*'$", "password_changed")],
    "chpasswd": [(r"pam_unix\(chpasswd:chauthtok\): password changed for \S+$", "password_changed")],
    "chage": [(r"changed password expiry for \S+$", "user_modified")],
    "chfn": [(r"changed user '[^']*' information$", "user_modified")],
    "chsh": [(r"changed user '[^']*' shell to '[^']*'$", "user_modified")],
}
_COMPILED = {program: [(re.compile(pattern), change) for pattern, change in rules] for program, rules in _RULES.items()}
PROGRAMS = tuple(_RULES)
"""The journal identifiers (program names) whose lines :func:`parse` reads."""


def parse(program: str, message: str) -> list[Event]:
    """The account change one line of ``program`` records, if any."""
    for pattern, change in _COMPILED.get(program, ()):
        if pattern.match(message):
            return [("account_changes", (change,))]
    return []
