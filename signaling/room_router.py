"""Which worker serves a request: the room's owner in Redis, or the least-loaded worker.

A room is pinned to a worker through the same `node` field of `cp:room:{id}` that pins
rooms to nodes across machines; the front claims an unassigned room (or one whose node
stopped beating) for its least-loaded worker with the ordinary compare-and-set claim, so a
join reaching a worker directly and a join through the front can never split a room.
Requests the front cannot attribute to a room (or whose room does not exist) go to any
worker, which answers them exactly as a single-process server would (`room_not_found`...).
"""

from __future__ import annotations

import json
import re

from signaling.errors import SignalingError
from signaling.rooms import ROOM_ID_RE
from signaling.shares import ShareStore
from signaling.store import Store
from signaling.tokens import verify_token
from signaling.workers import Worker, WorkerPool

# A (re)starting owner usually answers within a second or two; waiting beats moving the room.
OWNER_WAIT_S = 10.0
_ROOM_PATH_RE = re.compile(r"/(?:api/rooms|whip|whep)/([^/?]+)")


def room_of_path(path: str) -> str | None:
    """The room id of a room-scoped HTTP path (REST, WHIP, WHEP), if it has one."""
    match = _ROOM_PATH_RE.match(path)
    return match.group(1) if match else None


class RoomRouter:
    def __init__(self, pool: WorkerPool, store: Store, shares: ShareStore, secret: str,
                 max_message_bytes: int) -> None:
        self.pool = pool
        self.store = store
        self.shares = shares
        self._secret = secret
        self._max_message_bytes = max_message_bytes

    def any_worker(self) -> Worker:
        worker = self.pool.least_loaded()
        if worker is None:
            raise SignalingError("unavailable", "no SFU worker is running; try again shortly")
        return worker

    async def for_room(self, room_id: str | None, assign: bool) -> Worker:
        """The worker for `room_id`; with `assign`, pin an unowned room to the least-loaded
        worker first (joins, WHIP/WHEP and other writes; reads do not pin)."""
        if room_id is None or not ROOM_ID_RE.fullmatch(room_id):
            return self.any_worker()
        record = await self.store.get_room(room_id)
        if record is None:
            return self.any_worker()
        owner = await self._live_owner(record.node)
        if owner is not None:
            return owner
        chosen = self.pool.least_loaded()
        if not assign or chosen is None:
            return self.any_worker()
        chosen.assigned += 1  # before the await: concurrent joins must spread out
        claimed = await self.store.claim_room(room_id, chosen.node_id)
        if claimed == chosen.node_id:
            return chosen
        chosen.assigned = max(0, chosen.assigned - 1)
        # Another front or node won the race: follow the winner if it is ours, else let a
        # worker answer `wrong_node` with the owner's URL as a single node would.
        return await self._live_owner(claimed or "") or self.any_worker()

    async def _live_owner(self, node_id: str) -> Worker | None:
        worker = self.pool.by_node(node_id) if node_id else None
        if worker is None:
            return None
        if worker.state == "ready":
            return worker
        if await self.store.node_url(node_id) is None:
            return None  # dead: the claim may move the room
        return worker if await self.pool.wait_ready(worker, OWNER_WAIT_S) else None

    async def room_of_join(self, text: str) -> str | None:
        """The room a `join` message asks for (token or share code), None if it is not a
        valid join; the worker then reports the precise error."""
        if len(text) > self._max_message_bytes or '"join"' not in text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("type") != "join":
            return None
        try:
            if isinstance(data.get("token"), str):
                return verify_token(self._secret, data["token"]).room_id
            if isinstance(data.get("code"), str):
                return (await self.shares.resolve(data["code"])).room_id
        except SignalingError:
            return None
        return None
