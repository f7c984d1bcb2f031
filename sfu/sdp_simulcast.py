"""Simulcast in SDP (RFC 8853 a=simulcast, RFC 8851 a=rid; legacy a=ssrc-group:SIM).

aiortc knows nothing of simulcast: it ignores a=rid/a=simulcast when parsing and never
writes them. This module decides, per m-section of a publish offer, which layers the
publisher will send (bounded, every rid declared once), and writes the lines our answer
needs so the browser actually sends them: `a=rid:<id> recv` and `a=simulcast:recv ...`.
Pure text work, no aiortc.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sfu.errors import SdpError
from sfu.sdp_lines import LineError, simulcast_streams

MAX_LAYERS = 3
RID_URIS = ("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"

Attrs = Mapping[str, Sequence[str | None]]


def send_rids(attrs: Attrs, kind: str, where: str, what: str) -> tuple[str, ...]:
    """The rids of the layers an m-section sends, lowest first as listed (empty: no
    rid simulcast). Raises SdpError for anything we cannot receive."""
    simulcast = attrs.get("simulcast", [])
    rid_lines = attrs.get("rid", [])
    if not simulcast and not rid_lines:
        return ()
    if what == "answer":
        raise SdpError(f"{where}: simulcast in an answer is not supported "
                       "(CommandPost sends one stream per track)")
    if kind != "video":
        raise SdpError(f"{where}: simulcast is only supported for video")
    declared = _declared_rids(rid_lines, where)
    if len(simulcast) > 1:
        raise SdpError(f"{where}: a=simulcast appears {len(simulcast)} times")
    if not simulcast:
        if len(declared) > 1:
            raise SdpError(f"{where}: {len(declared)} a=rid lines without a=simulcast")
        return tuple(declared)
    try:
        streams = dict(simulcast_streams(simulcast[0]))
    except LineError as exc:  # already checked per line; kept for direct callers
        raise SdpError(f"{where}: {exc}") from None
    if "recv" in streams:
        raise SdpError(f"{where}: receiving simulcast (a=simulcast:recv) is not supported")
    rids = streams.get("send", [])
    if len(rids) > MAX_LAYERS:
        raise SdpError(f"{where}: a=simulcast lists {len(rids)} streams, "
                       f"limit is {MAX_LAYERS}")
    if len(set(rids)) != len(rids):
        raise SdpError(f"{where}: a=simulcast lists a rid twice")
    for rid in rids:
        if rid not in declared:
            raise SdpError(f"{where}: a=simulcast rid {rid!r} has no 'a=rid:{rid} send' line")
    _need_extensions(attrs, where)
    return tuple(rids)


def _need_extensions(attrs: Attrs, where: str) -> None:
    """Layers are told apart by the rid extension and routed by the mid extension."""
    offered = {(value or "").split()[-1] for value in attrs.get("extmap", [])}
    for uri in (RID_URIS[0], MID_URI):
        if uri not in offered:
            raise SdpError(f"{where}: simulcast needs the {uri} header extension (a=extmap)")


def _declared_rids(rid_lines: Sequence[str | None], where: str) -> list[str]:
    declared: list[str] = []
    for value in rid_lines:
        rid, direction = (value or "").split(" ")[:2]
        if direction != "send":
            raise SdpError(f"{where}: a=rid:{rid} {direction}: receiving simulcast is not "
                           "supported")
        if rid in declared:
            raise SdpError(f"{where}: a=rid {rid!r} is declared twice")
        declared.append(rid)
    return declared


def rid_sizes(attrs: Attrs) -> dict[str, tuple[int, int]]:
    """Sizes the offer gives its layers (`a=rid:h send max-width=640;max-height=360`), as a
    first guess until the layer's first keyframe tells."""
    sizes: dict[str, tuple[int, int]] = {}
    for value in attrs.get("rid", []):
        bits = (value or "").split(" ")
        limits = dict(item.partition("=")[::2] for item in bits[2].split(";")) \
            if len(bits) == 3 else {}
        width, height = limits.get("max-width", ""), limits.get("max-height", "")
        if width.isdigit() and height.isdigit() and 0 < int(width) <= 16384 \
                and 0 < int(height) <= 16384:
            sizes[bits[0]] = (int(width), int(height))
    return sizes


def sim_ssrcs(attrs: Attrs, where: str) -> tuple[int, ...]:
    """Legacy SSRC simulcast (a=ssrc-group:SIM low ... high), as SDP munging produces."""
    groups = [(v or "").split() for v in attrs.get("ssrc-group", [])]
    sims = [g for g in groups if g and g[0] == "SIM"]
    if not sims:
        return ()
    if len(sims) > 1:
        raise SdpError(f"{where}: a=ssrc-group:SIM appears {len(sims)} times")
    ssrcs = tuple(int(s) for s in sims[0][1:])
    if not 1 <= len(ssrcs) <= MAX_LAYERS:
        raise SdpError(f"{where}: a=ssrc-group:SIM lists {len(ssrcs)} streams, "
                       f"limit is {MAX_LAYERS}")
    if len(set(ssrcs)) != len(ssrcs):
        raise SdpError(f"{where}: a=ssrc-group:SIM lists an ssrc twice")
    if attrs.get("simulcast") or attrs.get("rid"):
        raise SdpError(f"{where}: a=ssrc-group:SIM together with a=simulcast/a=rid")
    return ssrcs


def answer_with_rids(answer: str, rids_by_mid: Mapping[str, Sequence[str]]) -> str:
    """Add 'a=rid:<id> recv' and 'a=simulcast:recv <ids>' to the answer's m-sections
    whose mid has layers; without them the browser sends a single stream."""
    if not rids_by_mid:
        return answer
    newline = "\r\n" if "\r\n" in answer else "\n"
    lines = answer.split(newline)
    out: list[str] = []
    pending: list[str] = []
    for line in lines:
        if line.startswith("m=") and pending:
            out.extend(pending)
            pending = []
        if line.startswith("a=mid:"):
            rids = rids_by_mid.get(line[6:], ())
            if rids:
                pending = [f"a=rid:{rid} recv" for rid in rids]
                pending.append("a=simulcast:recv " + ";".join(rids))
        if line == "" and pending:  # the final empty string after the last CRLF
            out.extend(pending)
            pending = []
        out.append(line)
    out.extend(pending)
    return newline.join(out)
