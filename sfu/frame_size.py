"""Picture size from the first packet of a keyframe, without decoding.

A simulcast layer's resolution decides which subscriber it suits. Browsers do not put it
in the SDP, but every VP8 keyframe starts with its size (RFC 6386 9.1) and every H.264
IDR is preceded by a sequence parameter set (ITU-T H.264 7.3.2.1.1). Both are read from
the RTP payload of the packet `keyframe.is_keyframe_start` accepted.
"""

from __future__ import annotations

from sfu.keyframe import H264_FU_A, H264_SPS, H264_STAP_A

VP8_START_CODE = b"\x9d\x01\x2a"
HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
MAX_SIDE = 16384


class _BitsExhausted(Exception):
    pass


def frame_size(codec: str, payload: bytes) -> tuple[int, int] | None:
    """(width, height) carried by a keyframe's first packet, or None if not found."""
    try:
        if codec == "VP8":
            return vp8_size(payload)
        if codec == "H264":
            return h264_size(payload)
    except (IndexError, _BitsExhausted):
        return None
    return None


def vp8_size(payload: bytes) -> tuple[int, int] | None:
    pos = _vp8_descriptor_length(payload)
    # 3-byte frame tag, 3-byte start code, then 14-bit width and height (little endian)
    if pos is None or len(payload) < pos + 10 or payload[pos] & 0x01:
        return None
    if payload[pos + 3:pos + 6] != VP8_START_CODE:
        return None
    width = (payload[pos + 6] | payload[pos + 7] << 8) & 0x3FFF
    height = (payload[pos + 8] | payload[pos + 9] << 8) & 0x3FFF
    return (width, height) if width and height else None


def _vp8_descriptor_length(payload: bytes) -> int | None:
    if not payload:
        return None
    pos = 1
    if payload[0] & 0x80:
        ext = payload[1]
        pos = 2
        if ext & 0x80:
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    return pos


def h264_size(payload: bytes) -> tuple[int, int] | None:
    sps = _find_sps(payload)
    return None if sps is None else sps_size(sps)


def _find_sps(payload: bytes) -> bytes | None:
    nal_type = payload[0] & 0x1F
    if nal_type == H264_SPS:
        return payload
    if nal_type == H264_STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            length = (payload[pos] << 8) | payload[pos + 1]
            pos += 2
            if payload[pos] & 0x1F == H264_SPS:
                return payload[pos:pos + length]
            pos += length
    if nal_type == H264_FU_A and payload[1] & 0x80 and payload[1] & 0x1F == H264_SPS:
        return bytes([H264_SPS]) + payload[2:]  # an SPS split across packets: its start
    return None


class _Bits:
    """Exp-Golomb reader over an RBSP (emulation-prevention bytes removed)."""

    def __init__(self, data: bytes) -> None:
        self._data = data.replace(b"\x00\x00\x03", b"\x00\x00")
        self._pos = 0

    def bit(self) -> int:
        byte = self._pos >> 3
        if byte >= len(self._data):
            raise _BitsExhausted
        value = (self._data[byte] >> (7 - (self._pos & 7))) & 1
        self._pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise _BitsExhausted
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def sps_size(nal: bytes) -> tuple[int, int] | None:
    bits = _Bits(nal[1:])
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        bits.ue()  # bit_depth_luma
        bits.ue()  # bit_depth_chroma
        bits.bit()  # qpprime_y_zero_transform_bypass
        if bits.bit():  # seq_scaling_matrix_present
            for i in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(min(bits.ue(), 255)):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_allowed
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field
    bits.bit()  # direct_8x8_inference
    width = width_mbs * 16
    height = height_units * 16 * (2 - frame_mbs_only)
    if bits.bit():  # frame_cropping
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        crop_x = 2 if chroma_format in (1, 2) else 1
        crop_y = (2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
        width -= crop_x * (left + right)
        height -= crop_y * (top + bottom)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return None
    return width, height


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se()) % 256
        last = next_scale or last
