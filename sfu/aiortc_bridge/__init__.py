"""The only package that touches aiortc and aioice internals (aiortc pinned to 1.16.0).

Its modules: `negotiation` (peer connections, SDP, transceivers), `taps` (RTP/RTCP in,
the fast receive path, SSRC routing), `send` (SRTP out: `RtpWriter`, `HeaderProfile`) and
`packets` (RTP/RTCP packets we build or parse). Callers import the names below from
`sfu.aiortc_bridge`, never from the modules.

What it relies on, all read from aiortc 1.16 source:
- RTCDtlsTransport routes parsed RTP to `receiver._handle_rtp_packet(packet,
  arrival_time_ms=...)` and RTCP to `_handle_rtcp_packet(packet)` of receivers (SR, BYE)
  and senders (RR/SR blocks, PLI/FIR/NACK, REMB). Instance attributes override them, so
  packets are taken before the jitter buffer and nothing is decoded.
- RTCRtpSender.send() starts `self._run_rtp(codec)` and `self._run_rtcp()`; we replace
  both per instance (they would encode and send bogus SRs) and set the name-mangled
  started/exited events so `stop()` does not hang.
- `RTCDtlsTransport._send_rtp(bytes)` SRTP-protects and sends RTP or RTCP; its
  `_rtp_router.ssrc_table` maps SSRCs to receivers.
- `RtpRouter.route_rtp(packet)` picks the receiver by SSRC, else by payload type when
  only one receiver has it; `mid_table` maps each mid to its receiver. Simulcast SSRCs are
  not in the SDP and share payload types, so we route them by the sdes:mid extension.
- The transport parses the rid/repaired-rid/mid extensions of every URI in
  `transceiver._headerExtensions`, which also makes aiortc's answer list them.
- aioice `Connection.get_component_candidates(component=, addresses=)` binds the host
  candidates; overriding it per connection restricts the addresses ICE uses.
"""

from sfu.aiortc_bridge.negotiation import (
    accept_header_extensions, add_send_transceiver, close, cname, current_direction,
    is_connected, keep_codecs, label_sender, local_answer, local_offer, negotiated_codecs,
    negotiated_extensions, new_peer_connection, offer_forwardable_codecs, on_connection_state,
    preflight, restrict_ice_addresses, sender_label, sender_ssrcs, set_direction, set_remote,
    transceiver_for_mid, transport)
from sfu.aiortc_bridge.packets import (
    nack, parse_rtp, pli, receiver_report, remb, rtp_packet, sender_report, unwrap_rtx,
    wrap_rtx)
from sfu.aiortc_bridge.send import FORWARDED_EXTENSIONS, HeaderProfile, RtpWriter, send
from sfu.aiortc_bridge.taps import (
    RtcpHandler, prepare_sender, route_sender_ssrcs, route_ssrcs, rtcp_events, tap_receiver,
    tap_receiver_of, tap_sender_rtcp)

__all__ = [
    "FORWARDED_EXTENSIONS", "HeaderProfile", "RtcpHandler", "RtpWriter",
    "accept_header_extensions", "add_send_transceiver", "close", "cname", "current_direction",
    "is_connected", "keep_codecs", "label_sender", "local_answer", "local_offer", "nack",
    "negotiated_codecs", "negotiated_extensions", "new_peer_connection",
    "offer_forwardable_codecs", "on_connection_state", "parse_rtp", "pli", "preflight",
    "prepare_sender", "receiver_report", "remb", "restrict_ice_addresses", "route_sender_ssrcs",
    "route_ssrcs", "rtcp_events", "rtp_packet", "send", "sender_label", "sender_report",
    "sender_ssrcs", "set_direction", "set_remote", "tap_receiver", "tap_receiver_of",
    "tap_sender_rtcp", "transceiver_for_mid", "transport", "unwrap_rtx", "wrap_rtx",
]
