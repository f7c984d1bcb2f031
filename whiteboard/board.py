"""One board on the node serving its room: scene, operation counter, histories, drawers.

`Board.run` applies one checked operation all-or-nothing (limits are checked before any
element changes) and returns what changed; storing and sending is the service's job.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signaling.errors import SignalingError

from whiteboard.config import WhiteboardConfig
from whiteboard.history import Change, Entry, History
from whiteboard.ids import BoardRef
from whiteboard.scene import Element, Scene, same_copy, wins
from whiteboard.validate import MAX_NONCE, Op

if TYPE_CHECKING:
    from whiteboard.store import LoadedBoard


@dataclass(frozen=True)
class Actor:
    """Who does an operation: a participant, or the subject of a REST token."""

    id: str
    name: str
    admin: bool = False


@dataclass
class OpResult:
    op: str
    ref: str | None
    applied: list[Element] = field(default_factory=list)  # the copies now held
    stale: list[Element] = field(default_factory=list)  # server copies that beat the sent ones
    skipped: list[str] = field(default_factory=list)  # undo/redo: changed by others since
    seq: int = 0

    def ack(self, board_id: str, can: tuple[bool, bool]) -> dict[str, Any]:
        return {"type": "wb_ack", "board_id": board_id, "ref": self.ref, "op": self.op,
                "seq": self.seq, "applied": [e["id"] for e in self.applied],
                "stale": [e["id"] for e in self.stale], "current": self.stale,
                "skipped": self.skipped, "can_undo": can[0], "can_redo": can[1]}


class Board:
    def __init__(self, ref: BoardRef, config: WhiteboardConfig, scene: Scene | None = None,
                 seq: int = 0, created_at: int | None = None) -> None:
        self.ref = ref
        self.config = config
        self.scene = scene or Scene()
        self.seq = seq
        self.created_at = created_at or now_ms()
        self.updated_at = self.created_at
        self.history = History(config.undo_depth)
        self.ops_since_snapshot = 0
        self.stream_id = "0-0"  # this board's last log entry in Redis
        self.drawers: dict[str, float] = {}  # participant id -> monotonic time of last draw
        self._rng = random.Random()

    @classmethod
    def restore(cls, loaded: LoadedBoard, config: WhiteboardConfig) -> Board:
        """A board as read back from Redis (whiteboard.store)."""
        board = cls(loaded.ref, config, loaded.scene, loaded.seq, loaded.created_at)
        board.updated_at = loaded.updated_at or board.created_at
        board.stream_id = loaded.stream_id
        return board

    @property
    def board_id(self) -> str:
        return self.ref.board_id

    def snapshot_due(self, every_ops: int) -> bool:
        """Every `every_ops` operations, or every n/2 on a board of n elements when that is
        more: writing the scene costs O(n), so the cost per operation stays constant and a
        load replays at most n/2 log entries."""
        return self.ops_since_snapshot >= max(every_ops, len(self.scene.elements) // 2)

    def summary(self) -> dict[str, Any]:
        return {**self.ref.json(), "elements": self.scene.live, "seq": self.seq,
                "created_at": self.created_at, "updated_at": self.updated_at}

    def scene_message(self) -> dict[str, Any]:
        return {"type": "wb_scene", **self.ref.json(), "seq": self.seq,
                "elements": self.scene.ordered()}

    # who draws
    def admit_drawer(self, actor_id: str, now: float | None = None) -> None:
        """Count `actor_id` as drawing; refuse a new drawer beyond max_drawers_per_board."""
        now = time.monotonic() if now is None else now
        horizon = now - self.config.drawer_window_s
        for other in [a for a, t in self.drawers.items() if t < horizon]:
            del self.drawers[other]
        if actor_id not in self.drawers and \
                len(self.drawers) >= self.config.max_drawers_per_board:
            raise SignalingError("limit_reached", f"{len(self.drawers)} people are drawing on "
                                 f"this board, limit is {self.config.max_drawers_per_board} "
                                 "(max_drawers_per_board)")
        self.drawers[actor_id] = now

    # operations
    def run(self, op: Op, actor: Actor) -> OpResult:
        if op.op == "upsert":
            result = self._upsert(op, actor)
        elif op.op == "delete":
            result = self._delete(op, actor)
        elif op.op in ("undo", "redo"):
            result = self._undo(op, actor, redo=op.op == "redo")
        else:
            result = self._clear(op, actor)
        if result.applied:
            self.seq += 1
            self.ops_since_snapshot += 1
            self.updated_at = now_ms()
        result.seq = self.seq
        return result

    def _upsert(self, op: Op, actor: Actor) -> OpResult:
        result = OpResult(op.op, op.ref)
        winners: list[tuple[Element, Element | None]] = []
        for incoming in op.elements:
            current = self.scene.get(incoming["id"])
            if not wins(incoming, current):
                result.stale.append(current)  # type: ignore[arg-type]
                continue
            author = current or {"author_id": actor.id, "author_name": actor.name}
            winners.append(({**incoming, "author_id": author["author_id"],
                             "author_name": author["author_name"], **self._stamp(actor)},
                            current))
        self._commit(actor, winners, result, record=True)
        return result

    def _delete(self, op: Op, actor: Actor) -> OpResult:
        result = OpResult(op.op, op.ref)
        missing = [i for i in op.ids if self.scene.get(i) is None]
        if missing:
            raise SignalingError("not_found", f"no element {missing[0]!r} on this board")
        winners = [(self._next(current, actor, deleted=True), current)
                   for current in (self.scene.elements[i] for i in op.ids)
                   if not current.get("deleted")]
        self._commit(actor, winners, result, record=True)
        return result

    def _undo(self, op: Op, actor: Actor, redo: bool) -> OpResult:
        result = OpResult(op.op, op.ref)
        entry = self.history.pop(actor.id, redo)
        if entry is None:
            return result
        winners: list[tuple[Element, Element | None]] = []
        for change in entry:
            current = self.scene.get(change.element_id)
            if current is None or not same_copy(current, change.expect):
                result.skipped.append(change.element_id)
                continue
            if change.restore is None:
                winners.append((self._next(current, actor, deleted=True), current))
            else:
                winners.append((self._next(change.restore, actor, base=current), current))
        try:
            self._check_room(winners)
        except SignalingError:
            self.history.push_inverse(actor.id, entry, not redo)  # put it back untouched
            raise
        self._commit(actor, winners, result, record=False)
        self.history.push_inverse(actor.id, inverse(winners), redo)
        restored = {c.element_id: c.restore for c in entry if c.restore is not None}
        for new, _ in winners:
            if new["id"] in restored:
                self.history.rebase(actor.id, restored[new["id"]], new)
        return result

    def _clear(self, op: Op, actor: Actor) -> OpResult:
        if not actor.admin:
            raise SignalingError("forbidden", "only a host (admin grant) may clear a board")
        result = OpResult(op.op, op.ref)
        winners = [(self._next(current, actor, deleted=True), current)
                   for current in self.scene.ordered(include_deleted=False)]
        self._commit(actor, winners, result, record=True)
        return result

    # helpers
    def _commit(self, actor: Actor, winners: Sequence[tuple[Element, Element | None]],
                result: OpResult, record: bool) -> None:
        self._check_room(winners)
        for new, _ in winners:
            self.scene.apply(new)
            result.applied.append(new)
        if record:
            self.history.record(actor.id, inverse(winners))

    def _check_room(self, winners: Sequence[tuple[Element, Element | None]]) -> None:
        delta = self.scene.live_delta(new for new, _ in winners)
        limit = self.config.max_elements_per_board
        if delta > 0 and self.scene.live + delta > limit:
            raise SignalingError("limit_reached", f"the board would hold "
                                 f"{self.scene.live + delta} elements, limit is {limit} "
                                 "(max_elements_per_board)")

    def _next(self, content: Element, actor: Actor, deleted: bool | None = None,
              base: Element | None = None) -> Element:
        """`content` as a new version on top of `base` (default: itself)."""
        base = base or content
        new = {**content, "version": base["version"] + 1,
               "version_nonce": self._rng.randint(0, MAX_NONCE), **self._stamp(actor)}
        if deleted is not None:
            new["deleted"] = deleted
        return new

    @staticmethod
    def _stamp(actor: Actor) -> dict[str, Any]:
        return {"updated_by": actor.id, "updated_at": now_ms()}


def inverse(winners: Sequence[tuple[Element, Element | None]]) -> Entry:
    return tuple(Change(new["id"], new, old) for new, old in winners)


def now_ms() -> int:
    return int(time.time() * 1000)
