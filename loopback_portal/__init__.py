"""The reference portal with everything it needs, on this machine's loopback.

A private PostgreSQL cluster, the national-service stand-ins, the portal under
gunicorn and its outbox sender: what ``portalops portal serve`` runs for trying
journeys by hand, and what the portal's tests run against.
"""
