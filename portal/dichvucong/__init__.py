"""dịch vụ công: the reference public-service portal and back office.

The province's real portal is a vendor's product; this one has the same
journeys, data and failure modes, so that the toolkit deploys, watches and loads
something real. It ships as a wheel with an offline wheelhouse, like a vendor
release would.
"""

__version__ = "1.0.0"
