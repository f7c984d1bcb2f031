"""The task status flow as a table: every (current, wanted) pair is exactly one of stale,
allowed or refused, and replaying any sequence of updates never moves a task backwards."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch import flow
from signaling.errors import SignalingError


def outcome(current: str, wanted: str) -> str:
    if flow.already_done(current, wanted):
        return "stale"
    try:
        flow.check_transition(current, wanted)
    except SignalingError as exc:
        assert exc.code == "invalid_transition" and exc.extra["status"] == current
        assert exc.extra["allowed"] == list(flow.NEXT[current])
        return "refused"
    return "applied"


@pytest.mark.parametrize("current", flow.STATUSES)
def test_each_pair_has_one_outcome(current: str) -> None:
    for wanted in flow.STATUSES:
        result = outcome(current, wanted)
        assert (result == "applied") == (wanted in flow.NEXT[current])
    assert outcome("dispatched", "resolved") == "refused"
    assert outcome("en_route", "acknowledged") == "stale"


@given(st.lists(st.sampled_from(flow.STATUSES), max_size=30))
def test_replayed_updates_never_go_backwards(updates: list[str]) -> None:
    status = "dispatched"
    for wanted in updates:
        if outcome(status, wanted) == "applied":
            if status in flow.RANK and wanted in flow.RANK:
                assert flow.RANK[wanted] == flow.RANK[status] + 1 or wanted == "closed"
            status = wanted
    assert status in flow.STATUSES
