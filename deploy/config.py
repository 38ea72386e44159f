"""pyinfra settings for every portalops deploy: ``pyinfra INVENTORY deploy/site.py --config deploy/config.py``
(``portalops deploy`` passes it).

Uploads go to /tmp as the login user before sudo moves them into place. pyinfra would
otherwise ask root's TMPDIR, which libpam-tmpdir (acc-06) makes /tmp/user/0: a directory
the login user cannot write.
"""

from pyinfra import config

config.TEMP_DIR = "/tmp"
