"""WHEP playback (RFC 9725 style egress): the player offers recvonly m-sections and we
answer them with our senders for the requested tracks."""

from __future__ import annotations

import secrets

from sfu import aiortc_bridge as bridge
from sfu import sdp_guard
from sfu.codecs import CodecSpec, output_codec, rtx_payload_type
from sfu.downstream import DownstreamConnection
from sfu.errors import SdpError
from sfu.published_track import PublishedTrack
from sfu.sdp_candidates import add_public_candidates
from sfu.sdp_guard import SdpSummary


def new_session_id() -> str:
    return "w_" + secrets.token_hex(8)


class WhepSession(DownstreamConnection):
    async def start(self, offer: str, tracks: list[PublishedTrack], strict: bool) -> str:
        """Answer the player's offer. With `strict`, every track must find an m-section."""
        settings = self._settings
        summary = sdp_guard.check_sdp(offer, what="offer", max_bytes=settings.max_sdp_bytes,
                                      max_m_sections=settings.max_m_sections)
        common = bridge.preflight(offer)
        plan = _assign(summary, common, tracks, strict)
        await bridge.set_remote(self._pc, offer, "offer")
        try:
            for media in summary.media:
                transceiver = bridge.transceiver_for_mid(self._pc, media.mid)
                assigned = plan.get(media.mid)
                if transceiver is None:
                    continue
                if assigned is None:
                    bridge.set_direction(transceiver, "inactive")
                    continue
                track, codec = assigned
                rtx = rtx_payload_type(common[media.mid], codec.payload_type)
                bridge.keep_codecs(transceiver, {codec.payload_type} | ({rtx} if rtx else set()))
                bridge.set_direction(transceiver, "sendonly")
                bridge.label_sender(transceiver, track.info.participant_id, track.info.track_id)
                self._new_slot(transceiver, media.kind).track = track
            answer = await bridge.local_answer(self._pc, settings.ice_host_addresses)
        except SdpError:
            raise
        except Exception as exc:  # noqa: BLE001 - aiortc failing on input it accepted
            raise SdpError(f"could not answer the offer: {type(exc).__name__}: {exc}") from None
        self._apply_negotiation()
        return add_public_candidates(answer, settings.ice_public_addresses)


def _assign(summary: SdpSummary, common: dict[str, list[CodecSpec]],
            tracks: list[PublishedTrack], strict: bool
            ) -> dict[str, tuple[PublishedTrack, CodecSpec]]:
    plan: dict[str, tuple[PublishedTrack, CodecSpec]] = {}
    for track in tracks:
        for media in summary.media:
            if media.mid in plan or media.kind != track.kind or not media.receives:
                continue
            codec = output_codec(track.codec, common.get(media.mid, []))
            if codec is not None:
                plan[media.mid] = (track, codec)
                break
        else:
            if strict:
                raise SdpError(f"offer has no free {track.kind} m-section that receives "
                               f"{track.codec.label} for track {track.info.track_id}")
    if not plan:
        raise SdpError("offer has no m-section that can receive any requested track")
    return plan
