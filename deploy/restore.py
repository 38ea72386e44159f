"""Restore a database host from its backups: ``portalops restore INVENTORY HOST --yes``.

Plain pyinfra works too: ``pyinfra INVENTORY deploy/restore.py --config deploy/config.py --limit HOST
--data restore_from=copy --data restore_time='2026-11-27 09:15:00+07'``.
"""

from pyinfra import host

from deploy.backup import restore

restore(source=host.data.get("restore_from") or "local", target_time=host.data.get("restore_time"))
