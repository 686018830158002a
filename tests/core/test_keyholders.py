"""Key holders: added with a token whose hash only is kept, found by token,
revoked, folded the same after replay and snapshot, and audited."""

from __future__ import annotations

import pytest

from server.core import launch as ln
from server.core.audit import AuditLog
from server.core.errors import LaunchdayError
from server.core.keyholders import (
    decide_add,
    decide_revoke,
    find_by_token,
    keyholders_view,
    token_hash,
)

from .conftest import ADMIN, NOW, Journal, roundtrip

TOKEN_A = "tok-a-" + "0" * 20
TOKEN_B = "tok-b-" + "0" * 20


def added(j: Journal, name: str, token: str) -> str:
    fact = decide_add(j.state, {"name": name}, token, NOW, ADMIN)
    j.fold([fact])
    return fact.keyholder_id


def test_add_find_by_token_and_only_the_hash_is_kept() -> None:
    j = Journal()
    kid = added(j, "Chủ tịch UBND tỉnh", TOKEN_A)
    holder = find_by_token(j.state, TOKEN_A)
    assert holder is not None and (holder.id, holder.name) == (kid, "Chủ tịch UBND tỉnh")
    assert find_by_token(j.state, TOKEN_B) is None
    assert TOKEN_A not in j.facts[-1][1].model_dump_json() and token_hash(TOKEN_A) == holder.token_hash
    (view,) = keyholders_view(j.state)
    assert view["name"] == "Chủ tịch UBND tỉnh" and view["revoked"] is False and "token_hash" not in view


def test_names_are_distinct_ignoring_case_and_diacritics_until_revoked() -> None:
    j = Journal()
    kid = added(j, "Bí thư Tỉnh ủy", TOKEN_A)
    with pytest.raises(LaunchdayError) as exc:
        decide_add(j.state, {"name": "bi thu tinh uy"}, TOKEN_B, NOW, ADMIN)
    assert exc.value.code == "duplicate_keyholder"
    j.fold([decide_revoke(j.state, kid, NOW + 1, ADMIN)])
    assert find_by_token(j.state, TOKEN_A) is None
    added(j, "Bí thư Tỉnh ủy", TOKEN_B)
    assert find_by_token(j.state, TOKEN_B) is not None


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 5}, []])
def test_bad_names_are_refused(body: object) -> None:
    with pytest.raises(LaunchdayError) as exc:
        decide_add(Journal().state, body, TOKEN_A, NOW, ADMIN)
    assert exc.value.code == "validation_error"


def test_revoke_unknown_or_twice_is_not_found() -> None:
    j = Journal()
    kid = added(j, "Chủ tịch UBND tỉnh", TOKEN_A)
    j.fold([decide_revoke(j.state, kid, NOW, ADMIN)])
    for bad in (kid, "k-nope"):
        with pytest.raises(LaunchdayError) as exc:
            decide_revoke(j.state, bad, NOW, ADMIN)
        assert exc.value.code == "keyholder_not_found"


def test_same_addition_folded_twice_is_one_holder() -> None:
    j = Journal()
    fact = decide_add(j.state, {"name": "Chủ tịch UBND tỉnh"}, TOKEN_A, NOW, ADMIN)
    j.fold([fact, fact])
    assert len(keyholders_view(j.state)) == 1


def test_replay_and_snapshot_keep_the_holders() -> None:
    j = Journal()
    kid = added(j, "Chủ tịch UBND tỉnh", TOKEN_A)
    added(j, "Bí thư Tỉnh ủy", TOKEN_B)
    j.fold([decide_revoke(j.state, kid, NOW + 5, ADMIN)])
    for state in (j.replay(), roundtrip(j.state)):
        assert keyholders_view(state) == keyholders_view(j.state)
        assert find_by_token(state, TOKEN_A) is None and find_by_token(state, TOKEN_B) is not None


def test_a_holder_presses_with_their_name_and_it_is_audited() -> None:
    j = Journal()
    added(j, "Chủ tịch UBND tỉnh", TOKEN_A)
    j.fold(ln.decide_arm(j.state, {"keys_required": 1, "rehearsal": True}, NOW, ADMIN).facts)
    holder = find_by_token(j.state, TOKEN_A)
    assert holder is not None
    j.fold(ln.decide_press(j.state, {"key": holder.name}, NOW + 10, holder.name).facts)
    assert ln.launch_view(j.state, NOW + 11)["keys_pressed"] == ["Chủ tịch UBND tỉnh"]
    summaries = [e["summary"] for e in AuditLog().feed_all(j.facts).page()["items"]]
    assert summaries[0] == "Bấm nút: Chủ tịch UBND tỉnh"
    assert "Thêm người bấm nút “Chủ tịch UBND tỉnh”" in summaries
