"""Grouping: the level an event's roll-up, missing list, link sheet and
notices are grouped by (docs/protocol.md#grouping).

An event names its ``group_level`` (any level name), or leaves it unset; then
the default is ``district`` when the registry has a district, and otherwise
the first level under the root that has more than one point, in the order of
:data:`DEFAULT_ORDER` (the tiers of territory first: a province's departments
are bodies of the province, not a tier anything rolls up under, so they come
after them). A registry of 2025 (root → communes → points) thus groups by
``commune``; the reference morning of 8 May 2025 by ``district``.

A point's group is the nearest point at the group level on its way up to the
root (itself, if it is at that level); points above that level (the province
hall, the departments) belong to no group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from server.core.errors import BadRequest, NotFound
from server.core.facts import LEVELS

DEFAULT_ORDER = ("commune", "village", "school", "market", "enterprise", "department", "other")


def default_group_level(count: Callable[[str], int]) -> str | None:
    """The default level, from the number of points of each level:
    ``district`` if there is one, else the first of :data:`DEFAULT_ORDER`
    with more than one point, else None (no grouping yet). O(levels)."""
    if count("district") > 0:
        return "district"
    for level in DEFAULT_ORDER:
        if count(level) > 1:
            return level
    return None


def parse_group_level(value: Any) -> str | None:
    """``group_level`` of a create or an edit: a level name, or null (the
    default). Anything else: 400 ``invalid_group_level``."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in LEVELS:
        raise BadRequest(f"group_level must be one of {', '.join(LEVELS)} (or null for the default)",
                         code="invalid_group_level",
                         details=[{"field": "group_level", "message": "not a level name"}])
    return value


def check_group(group_of: Mapping[str, str | None], code: str) -> str:
    """``group=<code>`` names a group of the event (a point at the effective
    group level), or 404 ``group_not_found``."""
    if group_of.get(code) != code:
        raise NotFound(f"{code!r} is not a group of this event (a point at its group level)",
                       code="group_not_found")
    return code
