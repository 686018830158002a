"""An organizer body names only fields its route knows (docs/protocol.md#errors).

A field the server does not know is an error, never ignored: a client that
sends ``"scope"`` to a server without scopes must hear so, not get an
unscoped token. Every route that takes an organizer's JSON body checks it
here before deciding anything, so a refused body changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.core.errors import BadRequest


def known_fields(body: Any, allowed: Iterable[str], what: str = "the body",
                 code: str = "unknown_field") -> dict[str, Any]:
    """``body`` if it is a JSON object naming only ``allowed`` fields; else
    ``400 validation_error`` (not an object) or ``400 unknown_field`` with
    ``details`` ``[{"field", "message": "unknown"}]`` for each unknown one.
    The two routes that refused unknown fields before this rule existed keep
    the code they answered then (``code="validation_error"``: the protocol
    adds, never renames), with the same details."""
    if not isinstance(body, dict):
        raise BadRequest(f"{what} must be a JSON object", code="validation_error",
                         details=[{"field": None, "message": "not an object"}])
    known = tuple(allowed)
    unknown = sorted(str(k) for k in body if k not in known)
    if unknown:
        listed = ", ".join(known) if known else "none (this route takes no body)"
        raise BadRequest(f"unknown field(s) in {what}: {', '.join(unknown)}; known: {listed}",
                         code=code, details=[{"field": k, "message": "unknown"} for k in unknown])
    return body
