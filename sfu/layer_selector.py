"""Which simulcast layer a subscriber should get (pure; contract A in the session notes).

The wanted layer is the lowest whose picture covers the subscriber's tile, capped by the
highest layer whose measured bitrate fits the down track's budget (layer 0 if none
fits: pausing is the bandwidth allocator's call). The layer actually targeted must also
be arriving: a layer the publisher stopped sending would leave the subscriber waiting
for a keyframe that never comes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sfu.tracks import LayerInfo

# A layer up to this much smaller than the tile still counts as covering it: scaling up
# by <12 % is invisible, and picking the next layer would double the bitrate.
COVER_TOLERANCE = 0.88


def estimated_sizes(layers: Sequence[LayerInfo]) -> list[tuple[int, int] | None]:
    """Known sizes, and for unknown ones the nearest known size scaled by 2 per step
    (the usual simulcast ladder); None everywhere if no size is known yet."""
    known = [(i, (l.width, l.height)) for i, l in enumerate(layers)
             if l.width is not None and l.height is not None]
    if not known:
        return [None] * len(layers)
    sizes: list[tuple[int, int] | None] = []
    for i in range(len(layers)):
        j, (w, h) = min(known, key=lambda item: abs(item[0] - i))
        scale = 2.0 ** (i - j)
        sizes.append((int(w * scale), int(h * scale)))  # type: ignore[operator]
    return sizes


def size_layer(layers: Sequence[LayerInfo], width: int | None, height: int | None) -> int:
    """The lowest layer that covers a width x height tile (object-fit: cover)."""
    top = len(layers) - 1
    if width is None or height is None or top <= 0:
        return max(top, 0)
    for index, size in enumerate(estimated_sizes(layers)):
        if size is None:
            return top
        if size[0] >= width * COVER_TOLERANCE and size[1] >= height * COVER_TOLERANCE:
            return index
    return top


LADDER_STEP = 3  # a simulcast layer costs about this many times the one below (2x the size)


def budget_layer(layers: Sequence[LayerInfo], budget_bps: int | None) -> int:
    """The highest layer whose bitrate fits the budget (0 when none does). A layer not
    measured yet (bitrate 0, e.g. switched off) is taken as LADDER_STEP times the layer
    below it when that one is measured (counting it as free would pick a layer the budget
    cannot carry), and as fitting when nothing below is known (it must be asked for to be
    switched on and measured at all)."""
    if budget_bps is None:
        return max(len(layers) - 1, 0)
    best, below = 0, 0
    for index, layer in enumerate(layers):
        bitrate = layer.bitrate_bps or below * LADDER_STEP
        if bitrate > budget_bps:
            break
        best, below = index, bitrate
    return best


def wanted_layer(layers: Sequence[LayerInfo], width: int | None, height: int | None,
                 budget_bps: int | None) -> int:
    return min(size_layer(layers, width, height), budget_layer(layers, budget_bps))


def arriving_layer(wanted: int, live: Sequence[bool]) -> int:
    """The best arriving layer at or below `wanted`, else the lowest arriving one above,
    else `wanted` itself (nothing arrives yet: wait for it)."""
    for index in range(min(wanted, len(live) - 1), -1, -1):
        if live[index]:
            return index
    for index in range(wanted + 1, len(live)):
        if live[index]:
            return index
    return wanted


class LayerActivity:
    """Which layers the publisher should send: every layer some subscriber wanted in the
    last `idle_s` seconds (a wanted layer is switched on at once, an unwanted one only
    after the hold, so a tile resize does not flap the publisher's encoder)."""

    def __init__(self, count: int, idle_s: float, now: float) -> None:
        self.idle_s = idle_s
        self.active = frozenset(range(count))
        self._wanted_at = [now] * count

    def update(self, wanted: set[int], now: float) -> frozenset[int] | None:
        """The new active set if it changed, else None."""
        for index in wanted:
            if 0 <= index < len(self._wanted_at):
                self._wanted_at[index] = now
        active = frozenset(i for i, at in enumerate(self._wanted_at)
                           if i in wanted or now - at < self.idle_s)
        if active == self.active:
            return None
        self.active = active
        return active
