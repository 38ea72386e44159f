"""portalops: deploy, harden, monitor and load-test a province's public-service portal."""

__version__ = "0.1.0"
