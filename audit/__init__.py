"""``portalops audit``: Lynis on each host, ssh-audit and testssl.sh from the controller, and the
deploy's own controls checked by a dry run; one verdict per host against the thresholds."""
