"""1:1 NAT support: advertise each host candidate also on the public addresses.

Behind a static NAT the server binds a private address but clients must reach the
public one; the same port is forwarded, so an extra candidate with the public address
and the host port is enough (Janus nat_1_1_mapping, LiveKit node_ip).
"""

from __future__ import annotations

PREFIX = "a=candidate:"


def add_public_candidates(sdp: str, public_addresses: tuple[str, ...]) -> str:
    if not public_addresses:
        return sdp
    out: list[str] = []
    for line in sdp.split("\r\n"):
        out.append(line)
        if line.startswith(PREFIX):
            out.extend(_public_copies(line[len(PREFIX):], public_addresses))
    return "\r\n".join(out)


def _public_copies(candidate: str, public_addresses: tuple[str, ...]) -> list[str]:
    bits = candidate.split()
    if len(bits) < 8 or bits[6] != "typ" or bits[7] != "host":
        return []
    foundation, component, transport, priority, address, port = bits[:6]
    copies = []
    for index, public in enumerate(public_addresses):
        if public == address:
            continue
        copies.append(f"{PREFIX}{foundation}p{index} {component} {transport} "
                      f"{max(0, int(priority) - 1 - index)} {public} {port} typ host")
    return copies
