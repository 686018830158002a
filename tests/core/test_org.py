"""Organizers: nested roles, tokens issued (hash only) and revoked."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from server.core import facts as f
from server.core import org
from server.core.errors import BadRequest, Forbidden, NotFound

from .conftest import ADMIN, NOW


@pytest.mark.parametrize(
    ("role", "needed", "allowed"),
    [
        ("viewer", "viewer", True),
        ("viewer", "operator", False),
        ("viewer", "admin", False),
        ("operator", "viewer", True),
        ("operator", "operator", True),
        ("operator", "admin", False),
        ("admin", "viewer", True),
        ("admin", "operator", True),
        ("admin", "admin", True),
    ],
)
def test_roles_nest(role: str, needed: str, allowed: bool) -> None:
    assert org.role_allows(role, needed) is allowed
    if allowed:
        org.require(role, needed)
    else:
        with pytest.raises(Forbidden) as info:
            org.require(role, needed)
        assert (info.value.code, info.value.status) == ("forbidden", 403)


@pytest.mark.parametrize("needed", ["viewer", "operator", "admin"])
def test_no_role_is_forbidden(needed: str) -> None:
    with pytest.raises(Forbidden):
        org.require(None, needed)


def test_token_hash_is_sha256_hex() -> None:
    assert org.token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert org.token_hash("abc") != org.token_hash("abd")


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_issue_keeps_only_the_hash(role: str) -> None:
    fact = org.decide_issue(org.OrgState(), {"name": "  Nguyễn  Văn A ", "role": role}, "secret-token", NOW, ADMIN)
    assert isinstance(fact, f.OrganizerTokenIssued)
    assert (fact.name, fact.role, fact.actor, fact.at_ms) == ("Nguyễn Văn A", role, ADMIN, NOW)
    assert fact.token_hash == org.token_hash("secret-token")
    assert "secret-token" not in f.dump_fact(fact)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="null"),
        pytest.param([], id="list"),
        pytest.param({"role": "viewer"}, id="no-name"),
        pytest.param({"name": "  ", "role": "viewer"}, id="blank-name"),
        pytest.param({"name": "x" * 101, "role": "viewer"}, id="long-name"),
        pytest.param({"name": "A"}, id="no-role"),
        pytest.param({"name": "A", "role": "root"}, id="unknown-role"),
        pytest.param({"name": "A", "role": "Admin"}, id="role-case"),
        pytest.param({"name": "A", "role": ["admin"]}, id="role-list"),
    ],
)
def test_issue_validation(body: Any) -> None:
    with pytest.raises(BadRequest) as info:
        org.decide_issue(org.OrgState(), body, "tok", NOW, ADMIN)
    assert info.value.code == "validation_error"


def _org_with(*tokens: tuple[str, str, str]) -> org.OrgState:
    state = org.OrgState()
    for seq, (token, name, role) in enumerate(tokens, start=1):
        org.apply_org(state, org.decide_issue(state, {"name": name, "role": role}, token, NOW + seq, ADMIN), seq)
    return state


def test_apply_and_view() -> None:
    state = _org_with(("t-op", "Điều hành", "operator"), ("t-view", "Xem", "viewer"))
    assert state.seq == 2
    view = org.organizers_view(state)
    assert [(v["name"], v["role"], v["revoked"]) for v in view] == [("Điều hành", "operator", False),
                                                                    ("Xem", "viewer", False)]
    assert view[0]["id"] == org.token_hash("t-op")[:12]
    assert all("t-op" not in str(v) for v in view)


def test_revoke_by_hash_prefix() -> None:
    state = _org_with(("t-op", "Điều hành", "operator"))
    full = org.token_hash("t-op")
    fact = org.decide_revoke(state, full[:12], NOW, ADMIN)
    assert fact.token_hash == full
    org.apply_org(state, fact, 2)
    assert state.by_hash[full].revoked
    assert state.seq == 2
    # A revoked token cannot be revoked again.
    with pytest.raises(NotFound):
        org.decide_revoke(state, full[:12], NOW, ADMIN)


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param(lambda h: h[:7], id="too-short"),
        pytest.param(lambda h: "0" * 12 if not h.startswith("0" * 12) else "f" * 12, id="no-match"),
        pytest.param(lambda h: "", id="empty"),
    ],
)
def test_revoke_refusals(prefix: Any) -> None:
    state = _org_with(("t-op", "Điều hành", "operator"))
    with pytest.raises(NotFound) as info:
        org.decide_revoke(state, prefix(org.token_hash("t-op")), NOW, ADMIN)
    assert info.value.code == "not_found"


def test_revoke_refuses_an_ambiguous_prefix() -> None:
    state = org.OrgState()
    state.by_hash["abcdef0011"] = org.Organizer("A", "viewer", NOW)
    state.by_hash["abcdef0022"] = org.Organizer("B", "viewer", NOW)
    with pytest.raises(NotFound):
        org.decide_revoke(state, "abcdef00", NOW, ADMIN)
    assert org.decide_revoke(state, "abcdef002", NOW, ADMIN).token_hash == "abcdef0022"


def test_apply_org_ignores_unknown_hashes_and_refuses_other_facts() -> None:
    state = _org_with(("t", "A", "admin"))
    org.apply_org(state, f.OrganizerTokenRevoked(at_ms=NOW, token_hash="nope"), 2)
    assert state.seq == 2
    assert [o.revoked for o in state.by_hash.values()] == [False]
    # A fact the organizers' fold does not know stops it, loudly, unapplied.
    with pytest.raises(ValueError, match=r"notice\.sent"):
        org.apply_org(state, f.NoticeSent(at_ms=NOW, text="x"), 3)
    assert state.seq == 2


def test_org_facts_roundtrip_through_json() -> None:
    issued = org.decide_issue(org.OrgState(), {"name": "A", "role": "admin"}, "t", NOW, ADMIN)
    revoked = f.OrganizerTokenRevoked(at_ms=NOW, token_hash=issued.token_hash)
    for fact in (issued, revoked):
        assert f.parse_fact(f.dump_fact(fact)) == fact
