"""Validate and bound every remote SDP before aiortc sees it.

Cheap checks come first, so a megabyte of text or an m-section bomb is refused after a
single scan: size, control characters, then the m-section count. Only then is the SDP
split into lines, each checked (sdp_lines), and the whole checked for what CommandPost
needs: BUNDLE, rtcp-mux, ICE credentials, DTLS fingerprints, a mid and a direction on
every m-section. The result is a small summary the media code uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sfu import sdp_lines, sdp_simulcast
from sfu.errors import SdpError
from sfu.sdp_lines import LineError, short

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
BARE_CR = re.compile(r"\r(?!\n)")
M_LINE = re.compile(r"^m=", re.MULTILINE)
LINE = re.compile(r"^[a-z]=")
DTLS_HASHES = ("sha-256", "sha-384", "sha-512")


@dataclass(frozen=True)
class MediaSummary:
    index: int
    kind: str
    port: int
    mid: str
    direction: str
    ssrcs: tuple[int, ...] = ()
    rtx: dict[int, int] = field(default_factory=dict)  # media ssrc -> rtx ssrc (FID)
    rids: tuple[str, ...] = ()  # simulcast layers by rid, lowest first (a=simulcast order)
    sim_ssrcs: tuple[int, ...] = ()  # legacy simulcast layers by ssrc (a=ssrc-group:SIM)
    rid_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # from max-width/height

    @property
    def simulcast(self) -> bool:
        return len(self.rids) > 1 or len(self.sim_ssrcs) > 1

    @property
    def sends(self) -> bool:
        """The remote side sends media on this m-section."""
        return self.port != 0 and self.direction in ("sendonly", "sendrecv")

    @property
    def receives(self) -> bool:
        return self.port != 0 and self.direction in ("recvonly", "sendrecv")


@dataclass(frozen=True)
class SdpSummary:
    media: tuple[MediaSummary, ...]
    bundle: tuple[str, ...]

    def sections(self) -> list[tuple[str, str]]:
        return [(m.kind, m.mid) for m in self.media]


@dataclass
class _Section:
    """Attributes of one level (session or m-section) while scanning."""

    line: int
    kind: str = ""
    port: int = 0
    attrs: dict[str, list[str | None]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.attrs.get(name)
        return values[0] if values else None

    def has(self, name: str) -> bool:
        return name in self.attrs


def check_sdp(sdp: object, *, what: str, max_bytes: int, max_m_sections: int,
              allow_empty: bool = False) -> SdpSummary:
    """Check an offer or answer (`what` names it in messages); raise SdpError if bad.
    allow_empty admits an SDP without m-sections (the answer to an empty offer)."""
    text = _check_bounds(sdp, what, max_bytes, max_m_sections, allow_empty)
    session, media = _scan(text)
    return _summarise(session, media, what)


def check_same_sections(previous: SdpSummary, current: SdpSummary) -> None:
    """A re-offer keeps every earlier m-section in place (aiortc cannot remove or
    recycle m-lines)."""
    if len(current.media) < len(previous.media):
        raise SdpError(f"offer has {len(current.media)} m-sections, the previous offer had "
                       f"{len(previous.media)}; m-sections cannot be removed")
    for old, new in zip(previous.media, current.media):
        if (old.kind, old.mid) != (new.kind, new.mid):
            raise SdpError(f"m-section {new.index} changed from {old.kind} mid {old.mid!r} "
                           f"to {new.kind} mid {new.mid!r}; m-lines cannot be recycled")


def check_answer_sections(offered: list[tuple[str, str]], answer: SdpSummary) -> None:
    """An answer has exactly the offer's m-sections, in order."""
    if answer.sections() != offered:
        raise SdpError(f"answer m-sections {_describe(answer.sections())} do not match "
                       f"the offer's {_describe(offered)}")


def _describe(sections: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{kind}:{mid}" for kind, mid in sections) + "]"


def _check_bounds(sdp: object, what: str, max_bytes: int, max_m_sections: int,
                  allow_empty: bool) -> str:
    if not isinstance(sdp, str):
        raise SdpError(f"{what} must be a string, got {type(sdp).__name__}")
    if len(sdp) > max_bytes:  # a character is at least one byte
        raise SdpError(f"{what} is more than {max_bytes} bytes, limit is {max_bytes}")
    size = len(sdp.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise SdpError(f"{what} is {size} bytes, limit is {max_bytes}")
    if not sdp.strip():
        raise SdpError(f"{what} is empty")
    bad = CONTROL.search(sdp) or BARE_CR.search(sdp)
    if bad:
        raise SdpError(f"{what} contains control character U+{ord(bad.group()):04X} "
                       f"at offset {bad.start()}")
    count = len(M_LINE.findall(sdp))
    if count > max_m_sections:
        raise SdpError(f"{what} has {count} m-sections, limit is {max_m_sections}")
    if count == 0 and not allow_empty:
        raise SdpError(f"{what} has no m-sections")
    return sdp


def _scan(text: str) -> tuple[_Section, list[_Section]]:
    lines = text.split("\n")
    if lines and lines[-1] in ("", "\r"):
        lines.pop()
    session = _Section(line=1)
    media: list[_Section] = []
    current = session
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        try:
            current = _scan_line(number, line, session, media, current)
        except LineError as exc:
            raise SdpError(f"line {number}: {exc}") from None
    return session, media


def _scan_line(number: int, line: str, session: _Section, media: list[_Section],
               current: _Section) -> _Section:
    if number == 1:
        if line != "v=0":
            raise LineError(f"expected 'v=0', got {short(line)}")
        return current
    if not LINE.match(line):
        raise LineError(f"expected '<letter>=<value>', got {short(line)}")
    if line.startswith("m="):
        kind, port, _ = sdp_lines.media_line(line)
        if kind not in ("audio", "video"):
            raise LineError(f"media {short(kind)} is not supported (audio and video only)")
        section = _Section(line=number, kind=kind, port=port)
        media.append(section)
        return section
    if line.startswith("c="):
        sdp_lines.connection(line[2:])
    elif line.startswith("a="):
        name, value = sdp_lines.check_attribute(line)
        current.attrs.setdefault(name, []).append(value)
    return current


def _summarise(session: _Section, media: list[_Section], what: str) -> SdpSummary:
    bundle = _bundle(session)
    summaries = []
    mids: set[str] = set()
    for index, section in enumerate(media):
        summary = _summarise_media(index, section, session, what)
        where = f"m-section {index} ({section.kind})"
        if summary.mid in mids:
            raise SdpError(f"{where}: mid {summary.mid!r} is used twice")
        mids.add(summary.mid)
        if summary.mid not in bundle:
            raise SdpError(f"{where}: mid {summary.mid!r} is not in the BUNDLE "
                           "group; CommandPost needs every m-section bundled")
        summaries.append(summary)
    _check_extmap_ids(media)
    return SdpSummary(media=tuple(summaries), bundle=bundle)


def _bundle(session: _Section) -> tuple[str, ...]:
    for value in session.attrs.get("group", []):
        bits = (value or "").split()
        if bits and bits[0] == "BUNDLE":
            return tuple(bits[1:])
    return ()


def _summarise_media(index: int, section: _Section, session: _Section,
                     what: str) -> MediaSummary:
    where = f"m-section {index} ({section.kind})"
    mid = section.first("mid")
    if mid is None:
        raise SdpError(f"{where}: a=mid is missing")
    directions = [d for d in sdp_lines.DIRECTIONS if section.has(d)]
    if len(directions) != 1:
        raise SdpError(f"{where}: needs exactly one of a=sendrecv, a=sendonly, a=recvonly, "
                       f"a=inactive, found {len(directions)}")
    if not section.has("rtcp-mux"):
        raise SdpError(f"{where}: a=rtcp-mux is required")
    _check_transport(where, section, session, what)
    rtpmaps = {(v or "").split(" ", 1)[0] for v in section.attrs.get("rtpmap", [])}
    for value in section.attrs.get("fmtp", []):
        pt = (value or "").split(" ", 1)[0]
        if pt not in rtpmaps:
            raise SdpError(f"{where}: a=fmtp for payload type {pt} has no a=rtpmap")
    ssrcs, rtx = _ssrcs(section)
    rids = sdp_simulcast.send_rids(section.attrs, section.kind, where, what)
    sim = sdp_simulcast.sim_ssrcs(section.attrs, where)
    sizes = sdp_simulcast.rid_sizes(section.attrs) if rids else {}
    return MediaSummary(index=index, kind=section.kind, port=section.port, mid=mid,
                        direction=directions[0], ssrcs=ssrcs, rtx=rtx, rids=rids,
                        sim_ssrcs=sim, rid_sizes=sizes)


def _check_transport(where: str, section: _Section, session: _Section, what: str) -> None:
    if (section.first("ice-ufrag") or session.first("ice-ufrag")) is None:
        raise SdpError(f"{where}: a=ice-ufrag is missing")
    if (section.first("ice-pwd") or session.first("ice-pwd")) is None:
        raise SdpError(f"{where}: a=ice-pwd is missing")
    fingerprints = section.attrs.get("fingerprint") or session.attrs.get("fingerprint") or []
    if not any((f or "").split()[0].lower() in DTLS_HASHES for f in fingerprints):
        raise SdpError(f"{where}: needs an a=fingerprint with sha-256, sha-384 or sha-512")
    setup = section.first("setup") or session.first("setup")
    if setup is None:
        raise SdpError(f"{where}: a=setup is missing")
    if what == "answer" and setup not in ("active", "passive"):
        raise SdpError(f"{where}: a=setup in an answer must be active or passive, got {setup!r}")


def _ssrcs(section: _Section) -> tuple[tuple[int, ...], dict[int, int]]:
    ssrcs: list[int] = []
    for value in section.attrs.get("ssrc", []):
        ssrc = int((value or "").split(" ", 1)[0])
        if ssrc not in ssrcs:
            ssrcs.append(ssrc)
    rtx: dict[int, int] = {}
    for value in section.attrs.get("ssrc-group", []):
        bits = (value or "").split()
        if bits[0] == "FID" and len(bits) == 3:
            rtx[int(bits[1])] = int(bits[2])
    return tuple(ssrcs), rtx


def _check_extmap_ids(media: list[_Section]) -> None:
    """In a BUNDLE all m-sections share one RTP session: an extension id means one URI."""
    seen: dict[int, str] = {}
    for section in media:
        for value in section.attrs.get("extmap", []):
            ext_id_text, uri = (value or "").split()
            ext_id = int(ext_id_text.split("/")[0])
            if seen.setdefault(ext_id, uri) != uri:
                raise SdpError(f"a=extmap id {ext_id} names two extensions: "
                               f"{short(seen[ext_id], 80)} and {short(uri, 80)}")
