"""RTP and RTCP packets we build or parse, in aiortc's packet classes."""

from __future__ import annotations

from typing import Any

from aiortc import rtp

from sfu.rtcp_stats import ReportBlock

def unwrap_rtx(packet: Any, payload_type: int, ssrc: int) -> Any:
    return rtp.unwrap_rtx(packet, payload_type=payload_type, ssrc=ssrc)


def rtp_packet(payload_type: int, sequence_number: int, timestamp: int, ssrc: int,
               marker: bool, payload: bytes) -> Any:
    """A packet we originate (ingest feeds), shaped like the ones the transports parse."""
    return rtp.RtpPacket(payload_type=payload_type, marker=int(marker),
                         sequence_number=sequence_number & 0xFFFF,
                         timestamp=timestamp & 0xFFFFFFFF, ssrc=ssrc, payload=payload)


def parse_rtp(data: bytes) -> Any:
    """A serialized RTP packet (no header extensions kept)."""
    try:
        return rtp.RtpPacket.parse(data)
    except ValueError as exc:
        raise ValueError(f"not an RTP packet: {exc}") from None


def wrap_rtx(packet: Any, payload_type: int, sequence_number: int, ssrc: int) -> Any:
    return rtp.wrap_rtx(packet, payload_type=payload_type,
                        sequence_number=sequence_number, ssrc=ssrc)


def sender_report(ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int,
                  cname: str) -> bytes:
    sr = rtp.RtcpSrPacket(ssrc=ssrc, sender_info=rtp.RtcpSenderInfo(
        ntp_timestamp=ntp, rtp_timestamp=rtp_ts, packet_count=packets & 0xFFFFFFFF,
        octet_count=octets & 0xFFFFFFFF))
    sdes = rtp.RtcpSdesPacket(chunks=[rtp.RtcpSourceInfo(
        ssrc=ssrc, items=[(1, cname.encode("utf8"))])])
    return bytes(sr) + bytes(sdes)


def receiver_report(ssrc: int, blocks: list[tuple[int, ReportBlock]]) -> bytes:
    out = b""
    for start in range(0, len(blocks), 31):  # the report count field has 5 bits
        reports = [rtp.RtcpReceiverInfo(
            ssrc=media_ssrc, fraction_lost=b.fraction_lost, packets_lost=b.packets_lost,
            highest_sequence=b.highest_sequence, jitter=b.jitter, lsr=b.lsr, dlsr=b.dlsr)
            for media_ssrc, b in blocks[start:start + 31]]
        out += bytes(rtp.RtcpRrPacket(ssrc=ssrc, reports=reports))
    return out


def pli(ssrc: int, media_ssrc: int) -> bytes:
    return bytes(rtp.RtcpPsfbPacket(fmt=rtp.RTCP_PSFB_PLI, ssrc=ssrc, media_ssrc=media_ssrc))


def nack(ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    packet = rtp.RtcpRtpfbPacket(fmt=rtp.RTCP_RTPFB_NACK, ssrc=ssrc, media_ssrc=media_ssrc)
    packet.lost = sorted(lost)
    return bytes(packet)


def remb(ssrc: int, bitrate: int, media_ssrcs: list[int]) -> bytes:
    return bytes(rtp.RtcpPsfbPacket(fmt=rtp.RTCP_PSFB_APP, ssrc=ssrc, media_ssrc=0,
                                    fci=rtp.pack_remb_fci(bitrate, media_ssrcs)))
