"""Publisher and subscriber peers of the load generator."""

from __future__ import annotations

from aiortc import RTCRtpSender

from bench import rtc
from bench.clip import Clip
from bench.loadgen.feedback import Feedback
from bench.loadgen.recorder import Recorder
from bench.loadgen.replay import publisher_tracks


def prefer_codecs(transceiver, mime_types: set[str]) -> None:
    kind = transceiver.kind
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs
              if c.mimeType.lower() in mime_types]
    transceiver.setCodecPreferences(codecs)


class Publisher:
    """Sends the clip's VP8 and Opus packets without encoding them."""

    def __init__(self, index: int, clip: Clip, publishers: int, recorder: Recorder) -> None:
        self.index = index
        self.pc = rtc.new_pc()
        audio, video = publisher_tracks(clip, index, publishers, recorder.on_frame)
        audio_tr = self.pc.addTransceiver(audio, direction="sendonly")
        video_tr = self.pc.addTransceiver(video, direction="sendonly")
        prefer_codecs(audio_tr, {"audio/opus"})
        prefer_codecs(video_tr, {"video/vp8", "video/rtx"})
        # Different loudness per publisher, so an active-speaker detector has a winner.
        rtc.add_audio_level(audio_tr.sender, min(127, 20 + 10 * index))
        rtc.tap_send(self.pc, recorder.on_sent)

    def start(self) -> None:
        """aiortc's senders started on their own."""

    def stop(self) -> None:
        """Closing the peer connection stops aiortc's senders."""


class Subscriber:
    """Receives every publisher; packets are counted and dropped before the jitter buffer."""

    def __init__(self, index: int, recorder: Recorder) -> None:
        self.index = index
        self.pc = rtc.new_pc()
        self._recorder = recorder
        self.receiving: set[int] = set()  # ids of receivers that got a packet
        self.feedback = Feedback()

    def tap_all(self) -> None:
        self._stamp = rtc.stamp_arrivals(self.pc)
        for transceiver in self.pc.getTransceivers():
            self._tap(transceiver.receiver, transceiver.kind)

    def _tap(self, receiver, kind: str) -> None:
        key = id(receiver)
        on_received = self._recorder.on_received
        index = self.index
        receiving = self.receiving
        on_feedback = self.feedback.on_packet
        stamp = self._stamp

        def on_packet(packet) -> None:
            if key not in receiving:
                receiving.add(key)
            on_received(index, kind, packet, stamp())
            on_feedback(packet.ssrc, packet.sequence_number)

        rtc.tap_receiver(receiver, on_packet)

    def transport(self):
        return self.pc.getTransceivers()[0].receiver.transport
