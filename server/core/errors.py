"""One error tree for launchday; every error has a machine-readable code.

The same error becomes an HTTP response (``status`` and the JSON body of
docs/protocol.md#errors) or a WebSocket ``error`` frame (``code`` and
``message``), so a rule is refused the same way on every transport::

    LaunchdayError                      500 internal
    ├── BadRequest                      400 bad_request, invalid_json, validation_error,
    │                                       unknown_message, import_invalid ...
    ├── Unauthorized                    401 unauthorized
    ├── Forbidden                       403 forbidden
    ├── NotFound                        404 not_found, event_not_found, point_not_found,
    │                                       incident_not_found
    ├── Conflict                        409 conflict, duplicate_code, not_checked_in,
    │                                       incident_closed, has_children, and the
    │                                       agenda and launch refusals
    ├── PayloadTooLarge                 413 too_large
    ├── TooMany                         429 rate_limited (with ``retry_after_ms``),
    │                                       too_many_connections
    └── Unavailable                     503 unavailable: the write was not made durable
                                            (the journal failed, Redis unreachable, a
                                            replica did not confirm); nothing was
                                            acknowledged: send again with the same id

Core functions raise these; the I/O shells translate them and never let
one escape as a crash.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LaunchdayError(Exception):
    """Base of every refusal. ``code`` is snake_case and stable (part of the contract)."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The JSON body of an error response."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}

    def to_frame(self, msg_id: str | None) -> dict[str, Any]:
        """The WebSocket ``error`` frame answering a message with id ``msg_id``."""
        return {"type": "error", "id": msg_id, "code": self.code, "message": self.message}


class BadRequest(LaunchdayError):
    status = 400
    default_code = "bad_request"


class Unauthorized(LaunchdayError):
    status = 401
    default_code = "unauthorized"


class Forbidden(LaunchdayError):
    status = 403
    default_code = "forbidden"


class NotFound(LaunchdayError):
    status = 404
    default_code = "not_found"


class Conflict(LaunchdayError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(LaunchdayError):
    status = 413
    default_code = "too_large"


class TooMany(LaunchdayError):
    """A limit was reached (docs/protocol.md#limits). ``retry_after_ms``, when
    known, is when the same request would be accepted; a WebSocket ``error``
    frame and the JSON body carry it, and HTTP adds a ``Retry-After`` header."""

    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, code: str | None = None, retry_after_ms: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_ms = None if retry_after_ms is None else max(1, int(-(-retry_after_ms // 1)))

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        if self.retry_after_ms is not None:
            body["error"]["retry_after_ms"] = self.retry_after_ms
        return body

    def to_frame(self, msg_id: str | None) -> dict[str, Any]:
        frame = super().to_frame(msg_id)
        if self.retry_after_ms is not None:
            frame["retry_after_ms"] = self.retry_after_ms
        return frame


class Unavailable(LaunchdayError):
    """Retryable: the write was not acknowledged (it may or may not have landed;
    resending the same message id applies it at most once)."""

    status = 503
    default_code = "unavailable"
    retry_after_ms: ClassVar[int] = 1_000

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["error"]["retry_after_ms"] = self.retry_after_ms
        return body

    def to_frame(self, msg_id: str | None) -> dict[str, Any]:
        return {**super().to_frame(msg_id), "retry_after_ms": self.retry_after_ms}
