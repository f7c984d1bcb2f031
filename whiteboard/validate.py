"""Checks of operations and live messages before anything touches a board.

Everything a client sends is checked here: numbers must be finite (Python's JSON reader
accepts NaN and Infinity), point counts and sizes are bounded, and an operation with one
bad element is refused as a whole. Errors are SignalingError with the protocol's codes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from signaling.errors import SignalingError

from whiteboard.config import WhiteboardConfig
from whiteboard.ids import ELEMENT_ID_RE, BoardRef

TYPES = ("pen", "highlighter", "line", "arrow", "rect", "ellipse", "text", "sticky")
# type -> (least, most) points; None: max_points_per_element.
POINTS: dict[str, tuple[int, int | None]] = {
    "pen": (1, None), "highlighter": (1, None), "line": (2, 2), "arrow": (2, 2),
    "rect": (2, 2), "ellipse": (2, 2), "sticky": (2, 2), "text": (1, 1)}
TEXT_TYPES = ("text", "sticky")
OPS = ("upsert", "delete", "undo", "redo", "clear")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
INDEX_RE = re.compile(r"[0-9A-Za-z]{1,64}")
MAX_VERSION = 2**53 - 1
MAX_NONCE = 2**31 - 1
MAX_WIDTH = 1000.0
MIN_OPACITY = 0.05
DEFAULT_FONT_SIZE = 24
REF_MAX = 64
# Points are held as tuples of float pairs: the garbage collector stops tracking tuples of
# numbers, so a board of thousands of strokes costs a full collection almost nothing
# (lists: ~90 ms for 3,000 strokes of 100 points, a stall in everyone's live strokes).
Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Op:
    """A checked operation: `elements` are normalised client copies (no server fields)."""

    op: str
    ref: str | None = None
    elements: tuple[dict[str, Any], ...] = ()
    ids: tuple[str, ...] = ()


def bad(message: str) -> SignalingError:
    return SignalingError("bad_message", message)


def number(value: Any, what: str, lo: float, hi: float) -> float:
    # bool is an int in Python but never a coordinate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(f"{what} must be a number")
    if not math.isfinite(value):
        raise bad(f"{what} must be a finite number (not NaN or Infinity)")
    if not lo <= value <= hi:
        raise bad(f"{what} is {value}, outside {lo:g}..{hi:g}")
    return value


def integer(value: Any, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{what} must be an integer")
    if not lo <= value <= hi:
        raise bad(f"{what} is {value}, outside {lo}..{hi}")
    return value


def op_size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=True).encode("utf-8", "surrogatepass"))


def check_ref(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > REF_MAX:
        raise bad(f"ref must be a string of at most {REF_MAX} characters")
    return value


class Checker:
    """Validation under one board's coordinate system and the configured limits."""

    def __init__(self, config: WhiteboardConfig, board: BoardRef) -> None:
        self.config = config
        self.board = board
        if board.normalised:
            self.lo, self.hi = 0.0, 1.0
        else:
            self.lo, self.hi = -config.max_coordinate, config.max_coordinate

    # operations
    def op(self, payload: dict[str, Any], actor: str) -> Op:
        size = op_size(payload)
        if size > self.config.max_op_bytes:
            raise SignalingError("too_large", f"operation is {size} bytes, limit is "
                                 f"{self.config.max_op_bytes} (max_op_bytes)")
        kind = payload.get("op")
        if kind not in OPS:
            raise bad(f"unknown op {str(kind)[:40]!r}; known: {', '.join(OPS)}")
        ref = check_ref(payload.get("ref"))
        for field in ("participant_id", "author_id"):
            other = payload.get(field)
            if other is not None and other != actor:
                raise SignalingError("forbidden", f"{kind} applies to your own actions only; "
                                     f"{field} names someone else")
        if kind == "upsert":
            return Op(kind, ref, elements=self.elements(payload.get("elements")))
        if kind == "delete":
            return Op(kind, ref, ids=self.ids(payload.get("ids")))
        return Op(kind, ref)

    def elements(self, value: Any) -> tuple[dict[str, Any], ...]:
        if not isinstance(value, list) or not value:
            raise bad("upsert needs elements: a non-empty array")
        if len(value) > self.config.max_elements_per_op:
            raise SignalingError("too_large", f"{len(value)} elements in one operation, limit "
                                 f"is {self.config.max_elements_per_op} (max_elements_per_op)")
        out = [self.element(item, i) for i, item in enumerate(value)]
        if len({e["id"] for e in out}) != len(out):
            raise bad("the same element id appears twice in one operation")
        return tuple(out)

    def ids(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise bad("delete needs ids: a non-empty array")
        if len(value) > self.config.max_elements_per_op:
            raise SignalingError("too_large", f"{len(value)} ids in one operation, limit is "
                                 f"{self.config.max_elements_per_op} (max_elements_per_op)")
        return tuple(dict.fromkeys(element_id(v, "ids[]") for v in value))

    # one element
    def element(self, raw: Any, pos: int = 0) -> dict[str, Any]:
        where = f"elements[{pos}]"
        if not isinstance(raw, dict):
            raise bad(f"{where} must be an object")
        kind = raw.get("type")
        if kind not in TYPES:
            raise bad(f"{where}: unknown element type {str(kind)[:40]!r}; known: "
                      f"{', '.join(TYPES)}")
        out: dict[str, Any] = {
            "id": element_id(raw.get("id"), f"{where}.id"), "type": kind,
            "points": self.points(raw.get("points"), kind, where),
            **self.style(raw, where),
            "index": z_index(raw.get("index"), where),
            "version": integer(raw.get("version"), f"{where}.version", 1, MAX_VERSION),
            "version_nonce": integer(raw.get("version_nonce"), f"{where}.version_nonce",
                                     0, MAX_NONCE),
            "deleted": flag(raw.get("deleted", False), f"{where}.deleted"),
        }
        if kind in TEXT_TYPES:
            out.update(self.text(raw, where))
        return out

    def points(self, value: Any, kind: str, where: str) -> Points:
        if not isinstance(value, list):
            raise bad(f"{where}.points must be an array of [x, y]")
        least, most = POINTS[kind]
        most = self.config.max_points_per_element if most is None else most
        if len(value) > self.config.max_points_per_element:
            raise SignalingError("too_large", f"{where} has {len(value)} points, limit is "
                                 f"{self.config.max_points_per_element} (max_points_per_element)")
        if not least <= len(value) <= most:
            raise bad(f"{where}: a {kind} has {least}..{most} points, not {len(value)}")
        return tuple(self.point(p, f"{where}.points[{i}]") for i, p in enumerate(value))

    def point(self, value: Any, where: str) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise bad(f"{where} must be [x, y]")
        return (number(value[0], f"{where}[0]", self.lo, self.hi),
                number(value[1], f"{where}[1]", self.lo, self.hi))

    def style(self, raw: dict[str, Any], where: str) -> dict[str, Any]:
        color = raw.get("color")
        if not isinstance(color, str) or not COLOR_RE.fullmatch(color):
            raise bad(f"{where}.color must be #rrggbb")
        return {"color": color.lower(),
                "width": number(raw.get("width"), f"{where}.width", 1e-6, MAX_WIDTH),
                "opacity": number(raw.get("opacity", 1), f"{where}.opacity", MIN_OPACITY, 1.0)}

    def text(self, raw: dict[str, Any], where: str) -> dict[str, Any]:
        text = raw.get("text", "")
        if not isinstance(text, str):
            raise bad(f"{where}.text must be a string")
        if len(text) > self.config.max_text_chars:
            raise SignalingError("too_large", f"{where}.text has {len(text)} characters, "
                                 f"limit is {self.config.max_text_chars} (max_text_chars)")
        return {"text": text, "font_size": number(raw.get("font_size", DEFAULT_FONT_SIZE),
                                                  f"{where}.font_size", 1e-3, MAX_WIDTH)}

    # live strokes and pointers (never stored)
    def live(self, msg: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        budget = self.config.max_live_points
        stroke, pointer = msg.get("stroke"), msg.get("pointer")
        count = sum(len(part.get("points") or []) for part in (stroke, pointer)
                    if isinstance(part, dict) and isinstance(part.get("points"), list))
        if count > budget:
            raise SignalingError("too_large", f"wb_live carries {count} points, limit is "
                                 f"{budget} (max_live_points)")
        if stroke is not None:
            out["stroke"] = self.live_stroke(stroke)
        if pointer is not None:
            out["pointer"] = self.live_pointer(pointer)
        if not out:
            raise bad("wb_live needs a stroke or a pointer")
        if msg.get("seq") is not None:
            out["seq"] = integer(msg.get("seq"), "seq", 0, MAX_VERSION)
        return out

    def live_stroke(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise bad("stroke must be an object")
        kind = raw.get("type")
        if kind not in TYPES:
            raise bad(f"stroke: unknown element type {str(kind)[:40]!r}")
        return {"id": element_id(raw.get("id"), "stroke.id"), "type": kind,
                **self.style(raw, "stroke"),
                "points": self.point_list(raw.get("points"), "stroke.points"),
                "done": flag(raw.get("done", False), "stroke.done")}

    def live_pointer(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise bad("pointer must be an object")
        return {"points": self.point_list(raw.get("points"), "pointer.points"),
                "laser": flag(raw.get("laser", False), "pointer.laser")}

    def point_list(self, value: Any, where: str) -> list[tuple[float, float]]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad(f"{where} must be an array of [x, y]")
        return [self.point(p, f"{where}[{i}]") for i, p in enumerate(value)]


def element_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ELEMENT_ID_RE.fullmatch(value):
        raise bad(f"{where} must be 8-64 characters of A-Z a-z 0-9 _ -")
    return value


def z_index(value: Any, where: str) -> str:
    if not isinstance(value, str) or not INDEX_RE.fullmatch(value):
        raise bad(f"{where}.index must be a z-order key of 1-64 characters 0-9A-Za-z")
    return value


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise bad(f"{where} must be true or false")
    return value
