"""Pieces of the room service on their own: batch merging, live coalescing."""

from __future__ import annotations

from whiteboard.live import LiveBuffer
from whiteboard.service import _Pending, merge_pending
from whiteboard.store import LogEntry


def _batch(seq: int, version: int, ack: str) -> _Pending:
    element = {"id": "el000001", "version": version}
    return _Pending([LogEntry("main", seq, [element], {})], {"main": {"el000001": element}},
                    [(print, {"ref": ack})])


def test_batches_waiting_for_redis_merge_in_tick_order() -> None:
    merged, stop = merge_pending([_batch(1, 1, "a"), _batch(2, 2, "b"), None])
    assert stop is True and merged is not None
    assert [e.seq for e in merged.entries] == [1, 2]
    assert merged.changed["main"]["el000001"]["version"] == 2  # the later copy
    assert [ack["ref"] for _, ack in merged.acks] == ["a", "b"]
    assert merge_pending([None]) == (None, True)


def test_live_points_of_one_stroke_are_appended_and_a_new_stroke_replaces() -> None:
    buffer = LiveBuffer()
    stroke = {"id": "stroke01", "type": "pen", "color": "#000000", "width": 2, "opacity": 1,
              "done": False}
    buffer.add("main", "p1", "A", {"seq": 1, "stroke": {**stroke, "points": [[1, 1]]},
                                   "pointer": {"points": [[1, 1]], "laser": True}})
    buffer.add("main", "p1", "A", {"seq": 2, "stroke": {**stroke, "points": [[2, 2]],
                                                        "done": True}})
    buffer.add("main", "p2", "B", {"pointer": {"points": [[5, 5]], "laser": False}})
    taken = buffer.take()
    first, second = taken["main"]
    assert first["seq"] == 2 and first["stroke"]["points"] == [[1, 1], [2, 2]]  # as given
    assert first["stroke"]["done"] is True and first["pointer"]["laser"] is True
    assert second == {"participant_id": "p2", "name": "B",
                      "pointer": {"points": [[5, 5]], "laser": False}}
    assert not buffer and buffer.take() == {}
    buffer.add("main", "p1", "A", {"stroke": {**stroke, "points": [[1, 1]]}})
    buffer.add("main", "p1", "A", {"stroke": {**stroke, "id": "stroke02", "points": [[9, 9]]}})
    assert buffer.take()["main"][0]["stroke"]["points"] == [[9, 9]]
