"""RTP payloads for one H.264 access unit (RFC 6184, packetization-mode 1).

Parameter sets that precede a slice go together in one STAP-A (a subscriber gets SPS,
PPS and the IDR start in consecutive packets), other NAL units that fit the MTU go as
single-NAL packets, bigger ones as FU-A fragments. The caller sets the marker bit on
the last payload of the access unit.
"""

from __future__ import annotations

from sfu.ingest.h264 import NAL_PPS, NAL_SPS, nal_type

STAP_A = 24
FU_A = 28
DEFAULT_MTU = 1200  # RTP payload bytes; leaves room for headers, SRTP and TURN on 1500


def packetize(nals: list[bytes], mtu: int = DEFAULT_MTU) -> list[bytes]:
    """The RTP payloads of an access unit, in order."""
    if mtu < 64:
        raise ValueError(f"mtu {mtu} is too small for H.264 RTP")
    payloads: list[bytes] = []
    pending: list[bytes] = []  # parameter sets waiting to be aggregated
    for nal in nals:
        if not nal:
            continue
        if nal_type(nal) in (NAL_SPS, NAL_PPS):
            pending.append(nal)
            continue
        payloads.extend(_aggregate(pending, mtu))
        pending = []
        payloads.extend(_single_or_fragments(nal, mtu))
    payloads.extend(_aggregate(pending, mtu))
    return payloads


def _aggregate(nals: list[bytes], mtu: int) -> list[bytes]:
    if not nals:
        return []
    if len(nals) == 1:
        return _single_or_fragments(nals[0], mtu)
    size = 1 + sum(2 + len(n) for n in nals)
    if size > mtu:
        return [p for n in nals for p in _single_or_fragments(n, mtu)]
    nri = max(n[0] & 0x60 for n in nals)  # RFC 6184 5.7.1: the highest NRI of the parts
    out = bytearray([nri | STAP_A])
    for nal in nals:
        out += len(nal).to_bytes(2, "big") + nal
    return [bytes(out)]


def _single_or_fragments(nal: bytes, mtu: int) -> list[bytes]:
    if len(nal) <= mtu:
        return [nal]
    indicator = (nal[0] & 0xE0) | FU_A
    kind = nal[0] & 0x1F
    body = memoryview(nal)[1:]
    count = -(-len(body) // (mtu - 2))
    # Even fragment sizes (differing by at most a byte): no tiny last packet.
    size, extra = divmod(len(body), count)
    out = []
    pos = 0
    for i in range(count):
        end = pos + size + (1 if i < extra else 0)
        header = kind | (0x80 if i == 0 else 0) | (0x40 if i == count - 1 else 0)
        out.append(bytes((indicator, header)) + body[pos:end])
        pos = end
    return out


def depacketize(payloads: list[bytes]) -> list[bytes]:
    """NAL units back out of payloads from `packetize` (for tests and diagnostics)."""
    nals: list[bytes] = []
    fragment: bytearray | None = None
    for payload in payloads:
        kind = payload[0] & 0x1F
        if kind == STAP_A:
            pos = 1
            while pos + 2 <= len(payload):
                length = int.from_bytes(payload[pos:pos + 2], "big")
                nals.append(bytes(payload[pos + 2:pos + 2 + length]))
                pos += 2 + length
        elif kind == FU_A:
            header = payload[1]
            if header & 0x80:
                fragment = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
            if fragment is not None:
                fragment += payload[2:]
                if header & 0x40:
                    nals.append(bytes(fragment))
                    fragment = None
        else:
            nals.append(bytes(payload))
    return nals
