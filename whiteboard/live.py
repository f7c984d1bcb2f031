"""In-progress strokes and pointers, coalesced per board until the next fan-out tick.

Nothing here is stored: a finished stroke arrives as a `wb_op` upsert. Each participant has
at most one entry per board and tick; points of the same stroke (or pointer) are appended,
so receivers get one `wb_live` per board per tick whatever the number of drawers."""

from __future__ import annotations

from typing import Any


class LiveBuffer:
    def __init__(self) -> None:
        self._boards: dict[str, dict[str, dict[str, Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self._boards)

    def add(self, board_id: str, participant_id: str, name: str, live: dict[str, Any]) -> None:
        users = self._boards.setdefault(board_id, {})
        entry = users.get(participant_id)
        if entry is None:
            users[participant_id] = {"participant_id": participant_id, "name": name, **live}
            return
        if "seq" in live:
            entry["seq"] = live["seq"]
        stroke = live.get("stroke")
        if stroke is not None:
            held = entry.get("stroke")
            if held is not None and held["id"] == stroke["id"]:
                entry["stroke"] = {**stroke, "points": held["points"] + stroke["points"]}
            else:  # a new stroke: the previous one's end comes with its wb_op
                entry["stroke"] = stroke
        pointer = live.get("pointer")
        if pointer is not None:
            held = entry.get("pointer")
            points = (held["points"] if held else []) + pointer["points"]
            entry["pointer"] = {"points": points, "laser": pointer["laser"]}

    def take(self) -> dict[str, list[dict[str, Any]]]:
        """Each board's entries since the last take, and start over."""
        boards, self._boards = self._boards, {}
        return {board_id: list(users.values()) for board_id, users in boards.items()}
