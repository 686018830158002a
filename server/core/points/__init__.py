"""The point registry, check-in, counts and incidents, by role:

- :mod:`.validation`: a point's fields checked and cleaned; the tree's loops.
- :mod:`.decisions`: the ``decide_*`` commands (pure: facts out, or a coded error).
- :mod:`.folds`: the ``apply_*`` folds of those facts.
- :mod:`.presence`: sockets and clock figures (ephemeral, not facts).
- :mod:`.views`: a point's and an incident's view, status, the filters.

The public names are all here, so ``from server.core import points as pts;
pts.decide_checkin(...)`` works without knowing which module holds them.
Pure and synchronous, no I/O.
"""

from __future__ import annotations

from server.core.points.decisions import (
    MAX_OPEN_INCIDENTS,
    Decision,
    decide_attendees,
    decide_checkin,
    decide_create,
    decide_delete,
    decide_incident,
    decide_patch,
    decide_point_resolve,
    decide_resolve_incident,
    decide_rotate,
    get_point,
    incident_id,
    upsert_applied,
)
from server.core.points.folds import (
    apply_attendees,
    apply_checkin,
    apply_delete,
    apply_incident,
    apply_resolve,
    apply_rotate,
    apply_upsert,
)
from server.core.points.presence import (
    clock_synced,
    connect,
    disconnect,
    refuse_connection,
    set_remote,
)
from server.core.points.validation import (
    MAX_COUNT,
    MAX_NOTE,
    POINT_FIELDS,
    validate_fields,
    would_cycle,
)
from server.core.points.views import STATUSES, incident_view, matches, point_view, status_of

__all__ = [
    "MAX_COUNT",
    "MAX_NOTE",
    "MAX_OPEN_INCIDENTS",
    "POINT_FIELDS",
    "STATUSES",
    "Decision",
    "apply_attendees",
    "apply_checkin",
    "apply_delete",
    "apply_incident",
    "apply_resolve",
    "apply_rotate",
    "apply_upsert",
    "clock_synced",
    "connect",
    "decide_attendees",
    "decide_checkin",
    "decide_create",
    "decide_delete",
    "decide_incident",
    "decide_patch",
    "decide_point_resolve",
    "decide_resolve_incident",
    "decide_rotate",
    "disconnect",
    "get_point",
    "incident_id",
    "incident_view",
    "matches",
    "point_view",
    "refuse_connection",
    "set_remote",
    "status_of",
    "upsert_applied",
    "validate_fields",
    "would_cycle",
]
