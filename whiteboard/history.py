"""Per-participant undo and redo on one board.

Each entry of a participant's history is the list of changes one of their operations made:
for every element, the copy the operation wrote (`expect`) and the content it replaced
(`restore`, None when the element was new). Undo writes `restore` again as a *new version*
(so it converges like any change), but only where the current copy is still `expect`: an
element somebody else changed since is skipped, so undo never removes others' work. Running
an entry gives its inverse, which goes on the other stack (undo -> redo, redo -> undo), and
the participant's other entries that expected the restored copy now expect the new one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from whiteboard.scene import Element, same_copy


@dataclass(frozen=True)
class Change:
    element_id: str
    expect: Element  # the copy this participant's action left
    restore: Element | None  # what to bring back; None: the element did not exist


Entry = tuple[Change, ...]


class History:
    """Undo/redo stacks of every participant on one board."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._undo: dict[str, deque[Entry]] = {}
        self._redo: dict[str, deque[Entry]] = {}

    def record(self, actor: str, entry: Entry) -> None:
        """A new action of `actor`: it can be undone, and what was undone cannot be redone."""
        if entry:
            self._stack(self._undo, actor).append(entry)
            self._redo.pop(actor, None)

    def pop(self, actor: str, redo: bool) -> Entry | None:
        stack = (self._redo if redo else self._undo).get(actor)
        return stack.pop() if stack else None

    def push_inverse(self, actor: str, entry: Entry, redo: bool) -> None:
        """After running an undo (redo=False) its inverse goes on the redo stack, and back."""
        if entry:
            self._stack(self._undo if redo else self._redo, actor).append(entry)

    def rebase(self, actor: str, replaced: Element, written: Element) -> None:
        """`written` (by an undo/redo of `actor`) stands for the copy `replaced` restored:
        older entries of `actor` that expect `replaced` now expect `written`, so undoing
        twice walks back twice."""
        for stacks in (self._undo, self._redo):
            stack = stacks.get(actor)
            if not stack:
                continue
            rebased = [tuple(Change(c.element_id, written, c.restore)
                             if c.element_id == written["id"] and same_copy(c.expect, replaced)
                             else c for c in entry) for entry in stack]
            stack.clear()
            stack.extend(rebased)

    def can(self, actor: str) -> tuple[bool, bool]:
        return bool(self._undo.get(actor)), bool(self._redo.get(actor))

    def _stack(self, stacks: dict[str, deque[Entry]], actor: str) -> deque[Entry]:
        stack = stacks.get(actor)
        if stack is None:
            stack = stacks[actor] = deque(maxlen=self.depth)
        return stack
