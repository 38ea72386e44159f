"""Stand-ins for the national services the portal talks to, never the real ones.

The lab and load tests must not probe the national SSO, VNeID or the payment
platform, so these small services play them: an OpenID Connect issuer, a
payment gateway with signed callbacks, and a national portal that receives the
sync messages. They run together as one app (``dichvucong standins``).
"""
