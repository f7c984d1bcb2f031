"""The whiteboard side of one serving node: the RoomBoards of its open rooms.

Kept in `node.extension_state["whiteboard"]` (WS handlers only get the node)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from signaling.errors import SignalingError

from whiteboard.board import Board
from whiteboard.config import WhiteboardConfig
from whiteboard.service import RoomBoards
from whiteboard.store import BoardStore

if TYPE_CHECKING:
    from signaling.node import Node

KEY = "whiteboard"


class WhiteboardNode:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.config: WhiteboardConfig = node.services.config.whiteboard
        self.store = BoardStore(node.services.store.redis)
        self.rooms: dict[str, RoomBoards] = {}
        self._locks: dict[str, asyncio.Lock] = {}  # one per room id, never many
        self._closed = False  # the node is stopping: nothing new is loaded or accepted

    @classmethod
    def of(cls, node: Node) -> WhiteboardNode:
        state = node.extension_state.get(KEY)
        if state is None:  # hooks run in order, but never rely on node start for this
            state = node.extension_state[KEY] = cls(node)
        return state  # type: ignore[no-any-return]

    async def boards(self, room: Any) -> RoomBoards:
        """The open room's boards, loaded from Redis on first use."""
        held = self.rooms.get(room.room_id)
        if held is not None and held.room is room:
            return held
        if self._closed:
            raise SignalingError("unavailable", "the server is shutting down")
        async with self._lock(room.room_id):
            held = self.rooms.get(room.room_id)
            if held is not None and held.room is room:
                return held
            if held is not None:  # an earlier Room of the same id: store it all first
                await self._close(held)
            boards = RoomBoards(room.room_id, self.config, self.store, room)
            await boards.load()
            self.rooms[room.room_id] = boards
            return boards

    async def close_room(self, room: Any) -> None:
        async with self._lock(room.room_id):
            held = self.rooms.get(room.room_id)
            if held is not None and held.room is room:
                await self._close(held)

    async def close(self) -> None:
        self._closed = True
        for boards in list(self.rooms.values()):
            await self.close_room(boards.room)

    async def _close(self, boards: RoomBoards) -> None:
        if self.rooms.get(boards.room_id) is boards:
            del self.rooms[boards.room_id]
        await boards.close()

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    async def read_boards(self, room_id: str) -> list[Board]:
        """Boards as they are now: the open room's, else as stored in Redis."""
        held = self.rooms.get(room_id)
        if held is not None:
            return held.ordered_boards()
        boards = [await self._load(room_id, b) for b in await self.store.board_ids(room_id)]
        return [b for b in boards if b is not None]

    async def read_board(self, room_id: str, board_id: str) -> Board | None:
        held = self.rooms.get(room_id)
        if held is not None:
            return held.boards.get(board_id)
        return await self._load(room_id, board_id)

    async def _load(self, room_id: str, board_id: str) -> Board | None:
        loaded = await self.store.load(room_id, board_id)
        return None if loaded is None else Board.restore(loaded, self.config)
