"""One board's elements and the merge rule that makes every replica converge.

The Excalidraw model: a copy of an element replaces the held one when its `version` is
higher, or the versions are equal and its `version_nonce` is lower. That is a total order on
the copies of one element, so applying the same copies in any order gives the same scene.
Element dicts are never changed in place once held: a change is a new dict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Element = dict[str, Any]


def wins(incoming: Element, current: Element | None) -> bool:
    """True when `incoming` replaces `current` (the same element id)."""
    if current is None:
        return True
    if incoming["version"] != current["version"]:
        return bool(incoming["version"] > current["version"])
    return bool(incoming["version_nonce"] < current["version_nonce"])


def z_key(element: Element) -> tuple[str, str]:
    """Drawing order: fractional index as a plain string, ties by id."""
    return (element.get("index", ""), element["id"])


def frozen(element: Element) -> Element:
    """An element read back from JSON with its points as tuples (see validate.Points)."""
    return {**element, "points": tuple((p[0], p[1]) for p in element["points"])}


def same_copy(a: Element | None, b: Element | None) -> bool:
    return a is not None and b is not None and a["version"] == b["version"] and \
        a["version_nonce"] == b["version_nonce"]


class Scene:
    def __init__(self, elements: Iterable[Element] = ()) -> None:
        self.elements: dict[str, Element] = {}
        self.live = 0  # elements not deleted
        for element in elements:
            self.apply(element)

    def get(self, element_id: str) -> Element | None:
        return self.elements.get(element_id)

    def apply(self, element: Element) -> bool:
        """Merge one copy; True when it won (and is now held)."""
        current = self.elements.get(element["id"])
        if not wins(element, current):
            return False
        self.live += (not element.get("deleted")) - (current is not None and
                                                      not current.get("deleted"))
        self.elements[element["id"]] = element
        return True

    def live_delta(self, copies: Iterable[Element]) -> int:
        """How the live count would change if these copies were applied (without applying)."""
        delta = 0
        for element in copies:
            current = self.elements.get(element["id"])
            if wins(element, current):
                delta += (not element.get("deleted")) - (current is not None and
                                                          not current.get("deleted"))
        return delta

    def ordered(self, include_deleted: bool = True) -> list[Element]:
        items = self.elements.values() if include_deleted else \
            (e for e in self.elements.values() if not e.get("deleted"))
        return sorted(items, key=z_key)

    def prune(self, deleted_before_ms: int) -> int:
        """Drop tombstones last changed before `deleted_before_ms`; returns how many."""
        old = [i for i, e in self.elements.items()
               if e.get("deleted") and e.get("updated_at", 0) < deleted_before_ms]
        for element_id in old:
            del self.elements[element_id]
        return len(old)

    def top_index(self) -> str | None:
        return max((e["index"] for e in self.elements.values()), default=None)
