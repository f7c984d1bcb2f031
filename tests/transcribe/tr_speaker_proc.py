"""A speaking participant as its own process (for the browser tests, whose Playwright loop
owns the main thread): joins with a share code, publishes a SpeechTrack microphone and says
the given Korean words in turn, one every `--every` seconds, until terminated. Prints its
participant id on the first line of stdout.

    python tests/transcribe/tr_speaker_proc.py http://127.0.0.1:8080 CODE Alice 서울 부산
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "signaling"))

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402

from bench.speech import SpeechTrack, speak  # noqa: E402
from sfu.aiortc_bridge import restrict_ice_addresses  # noqa: E402
from signal_client import WsClient  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="speaker-"))
    clips = [speak(word, workdir) for word in args.words]
    ws = await WsClient.connect(args.base_url)
    joined = await ws.join(code=args.code, name=args.name)
    print(joined["participant_id"], flush=True)
    mic = SpeechTrack()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(mic, direction="sendonly")
    restrict_ice_addresses(pc, ["127.0.0.1"])
    await pc.setLocalDescription(await pc.createOffer())
    await ws.send({"type": "publish", "sdp": pc.localDescription.sdp,
                   "sources": {pc.getTransceivers()[0].mid: "microphone"}})
    answer = await ws.recv("answer", timeout=10)
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    turn = 0
    while not ws.closed.is_set():
        mic.say(clips[turn % len(clips)])
        turn += 1
        await mic.until_quiet()
        await asyncio.sleep(args.every)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("code")
    parser.add_argument("name")
    parser.add_argument("words", nargs="+")
    parser.add_argument("--every", type=float, default=2.0)
    asyncio.run(main(parser.parse_args()))
