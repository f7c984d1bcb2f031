"""The remaining [whiteboard] limits: undo depth, the drawer window, snapshots kept per room."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wb_helpers import element

from signaling.errors import SignalingError
from whiteboard.board import Actor, Board
from whiteboard.config import WhiteboardConfig
from whiteboard.ids import parse_board_id
from whiteboard.snapshot import SnapshotStore
from whiteboard.validate import Checker

REF = parse_board_id("main")


def test_undo_depth_keeps_only_the_last_entries() -> None:
    config = WhiteboardConfig(undo_depth=2)
    board, alice = Board(REF, config), Actor("p_alice", "Alice")
    ids = []
    for _ in range(3):
        el = element("pen")
        ids.append(el["id"])
        board.run(Checker(config, REF).op({"op": "upsert", "elements": [el]}, alice.id), alice)
    for _ in range(3):
        board.run(Checker(config, REF).op({"op": "undo"}, alice.id), alice)
    live = {i for i, e in board.scene.elements.items() if not e["deleted"]}
    assert live == {ids[0]}  # the oldest action fell off the history


def test_a_drawer_slot_frees_after_the_drawer_window() -> None:
    board = Board(REF, WhiteboardConfig(max_drawers_per_board=1, drawer_window_s=5))
    board.admit_drawer("p_a", now=100.0)
    board.admit_drawer("p_a", now=103.0)  # the same drawer again: fine
    with pytest.raises(SignalingError, match="max_drawers_per_board"):
        board.admit_drawer("p_b", now=107.9)  # p_a drew 4.9 s ago
    board.admit_drawer("p_b", now=108.1)  # 5.1 s: p_a no longer counts


async def test_a_room_keeps_the_newest_max_snapshots(redis_url: str, tmp_path: Path) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        store = SnapshotStore(client, tmp_path, max_per_room=2, quality=80)
        frame = np.zeros((24, 32, 3), np.uint8)
        taken = [await store.save("r_snapshots00001", "t_1", frame, "p_x") for _ in range(3)]
        assert await store.get("r_snapshots00001", taken[0].snapshot_id) is None
        assert not store.path("r_snapshots00001", taken[0].snapshot_id).exists()
        for info in taken[1:]:
            assert await store.get("r_snapshots00001", info.snapshot_id) == info
            assert store.path("r_snapshots00001", info.snapshot_id).stat().st_size > 0
        assert await store.get("r_snapshots00001", "../../etc/passwd") is None
    finally:
        await client.aclose()
