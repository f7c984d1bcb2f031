"""Who may draw in a room: everyone, presenters or nobody (hosts always may)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from signaling.errors import SignalingError

from whiteboard.validate import bad

MODES = ("everyone", "presenters", "nobody")
MAX_PRESENTERS = 500


@dataclass(frozen=True)
class Permissions:
    mode: str = "everyone"
    presenters: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Permissions:
        mode = raw.get("mode")
        if mode not in MODES:
            raise bad(f"mode must be one of {', '.join(MODES)}")
        presenters = raw.get("presenters") or []
        if not isinstance(presenters, list) or len(presenters) > MAX_PRESENTERS or \
                not all(isinstance(p, str) and 0 < len(p) <= 128 for p in presenters):
            raise bad(f"presenters must be a list of at most {MAX_PRESENTERS} participant ids")
        return cls(mode, tuple(dict.fromkeys(presenters)))

    def can_draw(self, participant_id: str, grants: Collection[str]) -> bool:
        if "admin" in grants or self.mode == "everyone":
            return True
        if self.mode == "presenters":
            return "publish" in grants or participant_id in self.presenters
        return False

    def require(self, participant_id: str, grants: Collection[str]) -> None:
        if not self.can_draw(participant_id, grants):
            raise SignalingError("forbidden", f"drawing is limited to {self.mode} by the host"
                                 if self.mode != "nobody" else "the host has turned drawing off")

    def json(self) -> dict[str, Any]:
        return {"mode": self.mode, "presenters": list(self.presenters)}
