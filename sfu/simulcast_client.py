"""The sending side of simulcast as a browser does it, for our own clients that are not
browsers: the test suite's simulcast publisher and the benchmark's load generator.

aiortc cannot send simulcast, so these clients offer what Chromium offers (a=rid per
layer, a=simulcast, the mid / rid / repaired-rid header extensions, no a=ssrc on the
video m-section) and write each layer's RTP themselves: one SSRC per layer, the rid
extension on a stream's first packets only. The server never sends simulcast; nothing
in the SFU imports this module.
"""

from __future__ import annotations

import re

from aiortc import rtp
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
RRID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
MID_ID, RID_ID, RRID_ID = 9, 10, 11
RID_PACKETS = 12  # like Chromium: the rid goes on a stream's first packets only


def header_map(mid_id: int = MID_ID) -> rtp.HeaderExtensionsMap:
    """The extension map to serialise layer packets with (ids as in simulcast_offer)."""
    extensions = rtp.HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=mid_id, uri=MID_URI),
        RTCRtpHeaderExtensionParameters(id=RID_ID, uri=RID_URI),
        RTCRtpHeaderExtensionParameters(id=RRID_ID, uri=RRID_URI)]))
    return extensions


def offered_mid_id(sdp: str) -> int | None:
    """The id aiortc gave the mid extension in its offer (the same in every m-section),
    so a bundled audio section and the simulcast video section agree on it."""
    found = re.search(r"a=extmap:(\d+) " + re.escape(MID_URI), sdp)
    return int(found.group(1)) if found else None


def simulcast_offer(sdp: str, rids: tuple[str, ...],
                    restrictions: dict[str, str] | None = None, mid_id: int = MID_ID) -> str:
    """aiortc's offer turned into Chromium's shape: rid extensions, a=rid, a=simulcast,
    no a=ssrc lines on the video m-section."""
    head, video = sdp.split("m=video", 1)
    lines = [line for line in ("m=video" + video).split("\r\n")
             if not line.startswith(("a=ssrc", "a=extmap"))]
    at = lines.index(next(line for line in lines if line.startswith("a=mid:")))
    lines[at + 1:at + 1] = [f"a=extmap:{mid_id} {MID_URI}", f"a=extmap:{RID_ID} {RID_URI}",
                            f"a=extmap:{RRID_ID} {RRID_URI}"]
    end = len(lines) - 1 if lines[-1] == "" else len(lines)
    restrictions = restrictions or {}
    lines[end:end] = [f"a=rid:{rid} send {restrictions[rid]}".rstrip() if rid in restrictions
                      else f"a=rid:{rid} send" for rid in rids]
    lines.insert(end + len(rids), "a=simulcast:send " + ";".join(rids))
    return head + "\r\n".join(lines)
