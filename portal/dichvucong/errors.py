"""Errors a request can end in, each with its HTTP status; the app renders them as JSON."""

from __future__ import annotations


class PortalError(Exception):
    """Base: ``status`` is the HTTP status, the message is shown to the caller."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(PortalError):
    status = 400


class Unauthorized(PortalError):
    status = 401


class Forbidden(PortalError):
    status = 403


class NotFound(PortalError):
    status = 404


class Conflict(PortalError):
    status = 409


class PayloadTooLarge(PortalError):
    status = 413


class UnsupportedType(PortalError):
    status = 415


class Upstream(PortalError):
    status = 502
