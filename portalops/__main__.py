"""``python -m portalops`` is the ``portalops`` command."""

from portalops.cli import main

main()
