"""H.264 bitstream handling for ingest: NAL units out of Annex-B (RTSP) or AVCC
length-prefixed (FLV/RTMP, MP4) access units, parameter sets from extradata, and the
profile-level-id a subscriber's SDP expects. No decoding: NAL units pass through
byte for byte."""

from __future__ import annotations

from dataclasses import dataclass

NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_FILLER = 12


class H264Error(ValueError):
    """Malformed H.264 input; the message says what and where."""


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units between 3- or 4-byte start codes (trailing zero bytes belong to the
    next start code, as in ITU-T H.264 B.2)."""
    nals: list[bytes] = []
    start = _next_start(data, 0)
    if start < 0:
        raise H264Error("no Annex-B start code in access unit")
    while start >= 0:
        begin = start + 3
        nxt = _next_start(data, begin)
        end = len(data) if nxt < 0 else nxt
        while end > begin and data[end - 1] == 0:
            end -= 1
        if end > begin:
            nals.append(bytes(data[begin:end]))
        start = nxt
    return nals


def _next_start(data: bytes, pos: int) -> int:
    return data.find(b"\x00\x00\x01", pos)


def split_avcc(data: bytes, length_size: int = 4) -> list[bytes]:
    """NAL units each prefixed by a big-endian length of `length_size` bytes."""
    nals: list[bytes] = []
    pos, size = 0, len(data)
    while pos < size:
        if pos + length_size > size:
            raise H264Error(f"truncated NAL length at byte {pos} of {size}")
        length = int.from_bytes(data[pos:pos + length_size], "big")
        pos += length_size
        if length == 0 or pos + length > size:
            raise H264Error(f"NAL length {length} at byte {pos - length_size} "
                            f"does not fit the {size}-byte access unit")
        nals.append(bytes(data[pos:pos + length]))
        pos += length
    return nals


@dataclass(frozen=True)
class StreamFormat:
    """How access units of one stream are framed, and the parameter sets it declared."""

    avcc_length_size: int | None  # None: Annex-B
    sps: tuple[bytes, ...] = ()
    pps: tuple[bytes, ...] = ()


def parse_extradata(extradata: bytes | None) -> StreamFormat:
    """An avcC record (first byte 1) means AVCC framing; anything else is Annex-B,
    possibly carrying SPS/PPS (RTSP's sprop-parameter-sets)."""
    if not extradata:
        return StreamFormat(avcc_length_size=None)
    if extradata[0] == 1:
        return _parse_avcc_record(extradata)
    nals = split_annexb(extradata) if b"\x00\x00\x01" in extradata else []
    return StreamFormat(None, tuple(n for n in nals if nal_type(n) == NAL_SPS),
                        tuple(n for n in nals if nal_type(n) == NAL_PPS))


def _parse_avcc_record(data: bytes) -> StreamFormat:
    if len(data) < 7:
        raise H264Error(f"avcC record of {len(data)} bytes is too short")
    length_size = (data[4] & 0x03) + 1
    if length_size == 3:
        raise H264Error("avcC declares 3-byte NAL lengths, which H.264 does not allow")
    sps, pos = _param_sets(data, 6, data[5] & 0x1F, "SPS")
    if pos >= len(data):
        raise H264Error("avcC record ends before its PPS count")
    pps, pos = _param_sets(data, pos + 1, data[pos], "PPS")
    return StreamFormat(length_size, tuple(sps), tuple(pps))


def _param_sets(data: bytes, pos: int, count: int, what: str) -> tuple[list[bytes], int]:
    out = []
    for _ in range(count):
        if pos + 2 > len(data):
            raise H264Error(f"avcC record truncated in its {what} list")
        length = int.from_bytes(data[pos:pos + 2], "big")
        pos += 2
        if length == 0 or pos + length > len(data):
            raise H264Error(f"avcC {what} of {length} bytes does not fit the record")
        out.append(bytes(data[pos:pos + length]))
        pos += length
    return out, pos


def profile_level_id(sps: bytes) -> str | None:
    """The SDP profile-level-id (hex of profile_idc, constraint flags, level_idc)."""
    if len(sps) < 4 or nal_type(sps) != NAL_SPS:
        return None
    return sps[1:4].hex()


class AccessUnitReader:
    """Turns demuxed packets into NAL lists, remembering the latest SPS/PPS so an IDR
    that arrives without them gets them prepended: a subscriber who joins at that IDR
    can decode (RTMP and MP4 carry them only once, in the extradata)."""

    def __init__(self, fmt: StreamFormat) -> None:
        self._length_size = fmt.avcc_length_size
        self.sps: bytes | None = fmt.sps[0] if fmt.sps else None
        self.pps: bytes | None = fmt.pps[0] if fmt.pps else None

    def nal_units(self, data: bytes) -> list[bytes]:
        if self._length_size is not None:
            nals = split_avcc(data, self._length_size)
        else:
            nals = split_annexb(data)
        nals = [n for n in nals if nal_type(n) not in (NAL_AUD, NAL_FILLER)]
        return self._with_parameter_sets(nals)

    def _with_parameter_sets(self, nals: list[bytes]) -> list[bytes]:
        types = [nal_type(n) for n in nals]
        for nal, kind in zip(nals, types):
            if kind == NAL_SPS:
                self.sps = nal
            elif kind == NAL_PPS:
                self.pps = nal
        if NAL_IDR not in types or (NAL_SPS in types and NAL_PPS in types):
            return nals
        if self.sps is None or self.pps is None:
            return nals  # nothing to add; a decoder will wait for in-band ones
        prefix = [p for p, kind in ((self.sps, NAL_SPS), (self.pps, NAL_PPS))
                  if kind not in types]
        return prefix + nals

    @property
    def profile_level_id(self) -> str | None:
        return None if self.sps is None else profile_level_id(self.sps)
