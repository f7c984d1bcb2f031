"""Syntax of single SDP lines, checked before aiortc's parser sees them.

aiortc's `sdp.SessionDescription.parse` trusts its input: a missing value, a missing
space or a non-number in the wrong place raises KeyError, IndexError, AttributeError,
AssertionError, ValueError or StopIteration. Every line shape it reads is checked here
first, each failure with a message naming the attribute and the expected form.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

FORBIDDEN_PAYLOAD_TYPES = range(72, 77)  # would be mistaken for RTCP (RFC 5761)
FMTP_INT_PARAMETERS = ("apt", "max-fr", "max-fs", "maxplaybackrate", "minptime",
                       "stereo", "useinbandfec")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
SETUP_VALUES = ("actpass", "active", "passive")
CANDIDATE_TYPES = ("host", "srflx", "prflx", "relay")

M_LINE = re.compile(r"^m=([^ ]+) ([0-9]+) ([A-Z/]+) (.+)$")
CONNECTION = re.compile(r"^IN (IP4|IP6) ([^ ]+)$")
ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")
TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]{1,32}$")
FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$")
EXTMAP_ID = re.compile(r"^([0-9]{1,3})(/(sendrecv|sendonly|recvonly|inactive))?$")
RTPMAP = re.compile(r"^([0-9]{1,3}) ([A-Za-z0-9_.\-]+)/([0-9]{1,7})(/([0-9]{1,2}))?$")
FMTP = re.compile(r"^([0-9]{1,3}) (.+)$")
SSRC = re.compile(r"^([0-9]{1,10}) ([^ :]+):(.*)$")
INTEGER = re.compile(r"^[0-9]{1,10}$")
RID_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")  # RFC 8851; 16 bytes fit a one-byte header ext
RID_RESTRICTION = re.compile(r"^[A-Za-z0-9_-]{1,32}(=[A-Za-z0-9_.,:-]{0,64})?$")
SIMULCAST_DIRECTIONS = ("send", "recv")

MAX_SSRC = 0xFFFFFFFF


class LineError(ValueError):
    """A line is malformed; the guard adds the line number."""


def short(text: str, limit: int = 40) -> str:
    """Quote untrusted text for an error message without echoing all of it."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def integer(text: str, what: str, low: int, high: int) -> int:
    if not INTEGER.match(text):
        raise LineError(f"{what} must be an integer, got {short(text)}")
    value = int(text)
    if not low <= value <= high:
        raise LineError(f"{what} {value} is out of range {low}-{high}")
    return value


def ip_literal(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise LineError(f"{what} {short(text)} is not an IP address") from None


def connection(value: str) -> str:
    match = CONNECTION.match(value)
    if not match:
        raise LineError(f"c= must be 'IN IP4|IP6 <address>', got {short(value)}")
    return ip_literal(match.group(2), "c= address")


def payload_type(text: str) -> int:
    pt = integer(text, "payload type", 0, 127)
    if pt in FORBIDDEN_PAYLOAD_TYPES:
        raise LineError(f"payload type {pt} is reserved (72-76 clash with RTCP)")
    return pt


def media_line(line: str) -> tuple[str, int, list[str]]:
    match = M_LINE.match(line)
    if not match:
        raise LineError(f"m= must be 'm=<media> <port> <proto> <fmt> ...', got {short(line)}")
    kind, port_text, _, fmt_text = match.groups()
    port = integer(port_text, "m= port", 0, 65535)
    fmt = fmt_text.split(" ")
    if kind in ("audio", "video"):
        for token in fmt:
            payload_type(token)
    return kind, port, fmt


def _need(value: str | None, attr: str, form: str) -> str:
    if value is None or not value.strip():
        raise LineError(f"a={attr} needs a value: {form}")
    return value


def _fingerprint(value: str | None) -> None:
    form = "'<hash-function> <hex:hex:...>'"
    parts = _need(value, "fingerprint", form).split()
    if len(parts) != 2 or not FINGERPRINT.match(parts[1]):
        raise LineError(f"a=fingerprint must be {form}, got {short(value or '')}")


def _setup(value: str | None) -> None:
    _need(value, "setup", "actpass, active or passive")
    if value not in SETUP_VALUES:
        raise LineError(f"a=setup must be actpass, active or passive, got {short(str(value))}")


def _ice_ufrag(value: str | None) -> None:
    text = _need(value, "ice-ufrag", "4 to 256 ice-chars")
    if not ICE_CHARS.match(text) or not 4 <= len(text) <= 256:
        raise LineError(f"a=ice-ufrag must be 4 to 256 ice-chars, got {short(text)}")


def _ice_pwd(value: str | None) -> None:
    text = _need(value, "ice-pwd", "22 to 256 ice-chars")
    if not ICE_CHARS.match(text) or not 22 <= len(text) <= 256:
        raise LineError(f"a=ice-pwd must be 22 to 256 ice-chars, got {len(text)} characters")


def _group(value: str | None) -> None:
    _need(value, "group", "'<semantics> <mid> ...'")


def _msid_semantic(value: str | None) -> None:
    _need(value, "msid-semantic", "'WMS <id> ...'")


def _candidate(value: str | None) -> None:
    bits = _need(value, "candidate", "'<foundation> <component> <transport> <priority> "
                 "<address> <port> typ <type>'").split()
    if len(bits) < 8 or bits[6] != "typ":
        raise LineError("a=candidate must be '<foundation> <component> <transport> "
                        f"<priority> <address> <port> typ <type> ...', got {short(value or '')}")
    integer(bits[1], "candidate component", 1, 256)
    if bits[2].lower() not in ("udp", "tcp"):
        raise LineError(f"candidate transport must be udp or tcp, got {short(bits[2])}")
    integer(bits[3], "candidate priority", 0, 0xFFFFFFFF)
    if not bits[4].endswith(".local"):
        ip_literal(bits[4], "candidate address")
    integer(bits[5], "candidate port", 0, 65535)
    if bits[7] not in CANDIDATE_TYPES:
        raise LineError(f"candidate type must be host, srflx, prflx or relay, got {short(bits[7])}")
    for i in range(8, len(bits) - 1, 2):
        if bits[i] == "rport":
            integer(bits[i + 1], "candidate rport", 0, 65535)


def _extmap(value: str | None) -> None:
    form = "'<id>[/<direction>] <uri>'"
    parts = _need(value, "extmap", form).split()
    if len(parts) != 2:
        raise LineError(f"a=extmap must be {form}, got {short(value or '')}")
    match = EXTMAP_ID.match(parts[0])
    if not match:
        raise LineError(f"a=extmap id must be 1-255 with an optional /direction, got {short(parts[0])}")
    integer(match.group(1), "a=extmap id", 1, 255)


def _integer_attr(attr: str, low: int, high: int) -> Callable[[str | None], None]:
    def check(value: str | None) -> None:
        integer(_need(value, attr, "an integer").strip(), f"a={attr}", low, high)
    return check


def _mid(value: str | None) -> None:
    if not TOKEN.match(_need(value, "mid", "a token of 1 to 32 characters")):
        raise LineError(f"a=mid must be a token of 1 to 32 characters, got {short(value or '')}")


def _rtcp(value: str | None) -> None:
    bits = _need(value, "rtcp", "'<port> [IN IP4 <address>]'").split(" ", 1)
    integer(bits[0], "a=rtcp port", 0, 65535)
    if len(bits) > 1:
        connection(bits[1])


def _rtpmap(value: str | None) -> None:
    form = "'<payload type> <encoding>/<clock rate>[/<channels>]'"
    match = RTPMAP.match(_need(value, "rtpmap", form))
    if not match:
        raise LineError(f"a=rtpmap must be {form}, got {short(value or '')}")
    payload_type(match.group(1))
    integer(match.group(3), "a=rtpmap clock rate", 1, 1000000)
    if match.group(5) is not None:
        integer(match.group(5), "a=rtpmap channels", 1, 16)


def _sctpmap(value: str | None) -> None:
    bits = _need(value, "sctpmap", "'<port> <application>'").split(" ", 1)
    if len(bits) != 2:
        raise LineError(f"a=sctpmap must be '<port> <application>', got {short(value or '')}")
    integer(bits[0], "a=sctpmap port", 0, 65535)


def _ssrc_group(value: str | None) -> None:
    bits = _need(value, "ssrc-group", "'<semantics> <ssrc> ...'").split()
    for item in bits[1:]:
        integer(item, "a=ssrc-group ssrc", 0, MAX_SSRC)


def _ssrc(value: str | None) -> None:
    form = "'<ssrc> <attribute>:<value>'"
    match = SSRC.match(_need(value, "ssrc", form))
    if not match:
        raise LineError(f"a=ssrc must be {form}, got {short(value or '')}")
    integer(match.group(1), "a=ssrc", 0, MAX_SSRC)


def _fmtp(value: str | None) -> None:
    form = "'<payload type> <parameters>'"
    match = FMTP.match(_need(value, "fmtp", form))
    if not match:
        raise LineError(f"a=fmtp must be {form}, got {short(value or '')}")
    payload_type(match.group(1))
    for param in match.group(2).split(";"):
        key, eq, val = param.partition("=")
        if eq and key in FMTP_INT_PARAMETERS:
            integer(val, f"fmtp {key}", 0, 0xFFFFFFFF)


def _rtcp_fb(value: str | None) -> None:
    form = "'<payload type|*> <type> [<parameter>]'"
    bits = _need(value, "rtcp-fb", form).split(" ", 2)
    if len(bits) < 2 or not bits[1]:
        raise LineError(f"a=rtcp-fb must be {form}, got {short(value or '')}")
    if bits[0] != "*":
        payload_type(bits[0])


def rid_id(text: str, what: str) -> str:
    if not RID_ID.match(text):
        raise LineError(f"{what} must be 1 to 16 letters, digits, '-' or '_', got {short(text)}")
    return text


def _rid(value: str | None) -> None:
    form = "'<id> send|recv [<restriction>;...]'"
    bits = _need(value, "rid", form).split(" ")
    if len(bits) not in (2, 3):
        raise LineError(f"a=rid must be {form}, got {short(value or '')}")
    rid_id(bits[0], "a=rid id")
    if bits[1] not in SIMULCAST_DIRECTIONS:
        raise LineError(f"a=rid direction must be send or recv, got {short(bits[1])}")
    if len(bits) == 3:
        for restriction in bits[2].split(";"):
            if not RID_RESTRICTION.match(restriction):
                raise LineError(f"a=rid restriction must be '<name>[=<value>]', "
                                f"got {short(restriction)}")


def simulcast_streams(value: str | None) -> list[tuple[str, list[str]]]:
    """'send q;h;f recv a' -> [("send", ["q", "h", "f"]), ("recv", ["a"])].
    A stream given as alternatives ('1,2') is refused: we forward one rid per layer."""
    form = "'send|recv <rid>;<rid>... [send|recv <rid>;...]'"
    bits = _need(value, "simulcast", form).split(" ")
    if len(bits) not in (2, 4):
        raise LineError(f"a=simulcast must be {form}, got {short(value or '')}")
    result: list[tuple[str, list[str]]] = []
    for direction, streams in zip(bits[0::2], bits[1::2]):
        if direction not in SIMULCAST_DIRECTIONS or direction in (d for d, _ in result):
            raise LineError(f"a=simulcast must be {form}, got {short(value or '')}")
        rids = []
        for stream in streams.split(";"):
            if "," in stream:
                raise LineError(f"a=simulcast alternatives {short(stream)} are not supported; "
                                "list one rid per stream")
            rids.append(rid_id(stream.removeprefix("~"), "a=simulcast rid"))
        result.append((direction, rids))
    return result


def _simulcast(value: str | None) -> None:
    simulcast_streams(value)


# Attributes aiortc reads (plus the ones we refuse), mapped to their syntax check.
ATTRIBUTES: dict[str, Callable[[str | None], None]] = {
    "fingerprint": _fingerprint,
    "setup": _setup,
    "ice-ufrag": _ice_ufrag,
    "ice-pwd": _ice_pwd,
    "group": _group,
    "msid-semantic": _msid_semantic,
    "candidate": _candidate,
    "extmap": _extmap,
    "max-message-size": _integer_attr("max-message-size", 0, 0xFFFFFFFF),
    "mid": _mid,
    "rtcp": _rtcp,
    "rtpmap": _rtpmap,
    "sctpmap": _sctpmap,
    "sctp-port": _integer_attr("sctp-port", 0, 65535),
    "ssrc-group": _ssrc_group,
    "ssrc": _ssrc,
    "fmtp": _fmtp,
    "rtcp-fb": _rtcp_fb,
    "simulcast": _simulcast,
    "rid": _rid,
}


def attribute(line: str) -> tuple[str, str | None]:
    """Split 'a=name:value' the way aiortc does (value None when there is no colon)."""
    if ":" in line:
        name, value = line[2:].split(":", 1)
        return name, value
    return line[2:], None


def check_attribute(line: str) -> tuple[str, str | None]:
    name, value = attribute(line)
    check = ATTRIBUTES.get(name)
    if check is not None:
        check(value)
    return name, value
