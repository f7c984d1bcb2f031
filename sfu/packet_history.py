"""Recently received packets of one published stream, to answer NACKs (Galène packetcache).

Packets stay at least `min_age_ms`; a hard packet cap bounds memory for a stream that
bursts far above normal rates. Entries are keyed by sequence number; a packet with a
known sequence number but another timestamp (a restarted sender) replaces the old one.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

P = TypeVar("P")


class PacketHistory(Generic[P]):
    def __init__(self, min_age_ms: int, max_packets: int = 8192) -> None:
        if min_age_ms <= 0 or not 0 < max_packets < 32768:
            raise ValueError("history age must be positive and size below 32768")
        self._min_age = min_age_ms / 1000.0
        self._max_packets = max_packets
        self._order: deque[tuple[float, int, object]] = deque()
        self._entries: dict[int, tuple[int, P]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, seq: int, ts: int, packet: P, now: float) -> bool:
        """Store a packet; False if the same packet (seq and timestamp) is already held."""
        held = self._entries.get(seq)
        if held is not None and held[0] == ts:
            return False
        entry = (ts, packet)
        self._entries[seq] = entry
        self._order.append((now, seq, entry))
        self._expire(now)
        return True

    def get(self, seq: int) -> P | None:
        entry = self._entries.get(seq)
        return None if entry is None else entry[1]

    def _expire(self, now: float) -> None:
        order, entries = self._order, self._entries
        horizon = now - self._min_age
        while order and (order[0][0] < horizon or len(order) > self._max_packets):
            _, seq, entry = order.popleft()
            if entries.get(seq) is entry:
                del entries[seq]
