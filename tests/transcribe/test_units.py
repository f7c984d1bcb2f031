"""The transcriber's pure parts: timeline and frame clock, recogniser on a real WAV, segment
JSON, SRT/text, tokens, config checks, key names."""

from __future__ import annotations

import fractions
import wave

import av
import numpy as np
import pytest

from tr_speech import speak

from signaling.config import load_config
from signaling.config_fields import ConfigError
from transcribe import keys
from transcribe.audio import FrameClock, Resampler
from transcribe.formats import clock, to_srt, to_txt
from transcribe.models import ModelError, ModelSet, packaged_model_path
from transcribe.recognizer import Result, SpeakerRecognizer, grammar_json
from transcribe.search import tokenize
from transcribe.segments import build_segment, final_caption
from transcribe.timeline import Timeline


def test_timeline_maps_samples_across_gaps() -> None:
    line = Timeline()
    line.add(1_000_000.0, 16000)  # 1 s from wall 1,000,000 ms
    line.add(1_001_000.0, 16000)  # seamless: no new anchor
    line.add(1_005_000.0, 8000)  # 3 s gap (muted), then 0.5 s
    assert line.fed == 40000
    assert line.wall_of_seconds(0.5) == 1_000_500
    assert line.wall_of_seconds(1.5) == 1_001_500
    assert line.wall_of_seconds(2.25) == 1_005_250  # inside the audio after the gap


def _frame(pts: int, samples: int = 960, rate: int = 48000) -> av.AudioFrame:
    data = np.zeros((1, samples * 2), dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
    frame.sample_rate, frame.pts, frame.time_base = rate, pts, fractions.Fraction(1, rate)
    return frame


def test_frame_clock_follows_pts_and_rebases_on_jumps() -> None:
    clock_ = FrameClock(max_behind_ms=1000)
    assert clock_.wall_ms(_frame(48000), arrived_ms=5000.0) == 5000.0
    # 20 ms later by pts, arriving with 30 ms of jitter: pts wins.
    assert clock_.wall_ms(_frame(48960), arrived_ms=5050.0) == 5020.0
    # Arriving 900 ms late (a backlog): still pts time, so the caller sees the lag.
    assert clock_.wall_ms(_frame(49920), arrived_ms=5940.0) == 5040.0
    # Timestamps jumping 10 s ahead: a new base.
    assert clock_.wall_ms(_frame(48000 * 12), arrived_ms=6000.0) == 6000.0


def test_resampler_gives_16k_mono() -> None:
    pcm = Resampler().pcm(_frame(0, samples=4800))
    assert 0 < len(pcm) <= 1600 * 2 + 64 and len(pcm) % 2 == 0


def test_recognizer_on_espeak_wav(models: ModelSet, speech_dir) -> None:
    samples48 = speak("서울", speech_dir)
    pcm = samples48[::3].tobytes() + bytes(16000 * 2)  # 16 kHz, then 1 s of silence
    rec = SpeakerRecognizer(models.get("ko"), ["서울", "부산"])
    results = []
    for i in range(0, len(pcm), 6400):
        results += rec.feed(pcm[i:i + 6400])
    final = [r for r in results if r.final] or [rec.flush()]
    assert final[0].text == "서울"
    word = final[0].words[0]
    assert word["word"] == "서울" and 0 <= word["start"] < word["end"] <= len(pcm) / 32000
    assert any(not r.final and r.text == "서울" for r in results)  # a partial came first
    assert rec.flush() is None  # nothing left to finalise


def test_grammar_json_and_model_errors(models: ModelSet, tmp_path) -> None:
    assert grammar_json([]) is None
    assert grammar_json(["Seoul", "부산"]) == '["seoul", "부산", "[unk]"]'
    assert (packaged_model_path() / "am" / "final.mdl").is_file()
    with pytest.raises(ModelError, match="no vosk model for language 'fr'"):
        models.get("fr")
    with pytest.raises(ModelError, match="does not exist"):
        ModelSet({"ko": tmp_path / "missing"}).get("ko")


def test_segment_and_caption_json() -> None:
    line = Timeline()
    line.add(1_795_000_010_000.0, 16000 * 5)
    result = Result(final=True, text="안녕하세요 서울", words=(
        {"word": "안녕하세요", "start": 0.5, "end": 1.25, "conf": 0.98765},
        {"word": "서울", "start": 1.5, "end": 2.0, "conf": 1.0}))
    seg = build_segment("r_1", "ko", "p_a", "Alice", result, line, 1_795_000_000_000, 7)
    assert seg == {
        "id": "1795000010500-p_a-7", "room_id": "r_1", "speaker_id": "p_a", "speaker": "Alice",
        "start_ms": 10500, "end_ms": 12000, "start_at_ms": 1795000010500,
        "end_at_ms": 1795000012000, "text": "안녕하세요 서울", "lang": "ko", "final": True,
        "words": [{"w": "안녕하세요", "start_ms": 10500, "end_ms": 11250, "conf": 0.988},
                  {"w": "서울", "start_ms": 11500, "end_ms": 12000, "conf": 1.0}]}
    caption = final_caption(seg, 5)
    assert caption["type"] == "caption" and caption["final"] is True
    assert caption["segment_id"] == seg["id"] and caption["text"] == seg["text"]


def test_srt_and_txt() -> None:
    segs = [{"start_ms": 0, "end_ms": 0, "speaker": "A", "text": "x"},
            {"start_ms": 3_600_000, "end_ms": 3_601_001, "speaker": "B", "text": "y z"}]
    assert clock(3_723_004) == "01:02:03,004" and clock(-5, "") == "00:00:00"
    assert to_srt(segs) == ("1\n00:00:00,000 --> 00:00:00,001\nA: x\n\n"
                            "2\n01:00:00,000 --> 01:00:01,001\nB: y z\n")
    assert to_txt(segs) == "[00:00:00] A: x\n[01:00:00] B: y z\n"


def test_tokenize_chinese_korean_english() -> None:
    assert tokenize("今天 的 会议室") == ["今天", "的", "会议", "会议室"]
    assert tokenize("明天出发") == ["明天", "出发"]
    assert tokenize("안녕하세요 서울, 서울!") == ["안녕하세요", "서울"]
    assert tokenize("The Meeting -- decided.") == ["the", "meeting", "decided"]
    assert tokenize("  ... ") == []


def test_index_keys_hide_user_text() -> None:
    key = keys.index("会议 OR 1=1; DEL *")
    assert key.startswith("cp:tr:idx:") and len(key) == len("cp:tr:idx:") + 24
    assert keys.index("Seoul") == keys.index("seoul")
    assert keys.room_of_captions(keys.captions("r_abc")) == "r_abc"


def test_config_checks() -> None:
    with pytest.raises(ConfigError, match="heartbeat_s"):
        load_config(None, env={"COMMANDPOST_TRANSCRIBE_HEARTBEAT_S": "5",
                               "COMMANDPOST_TRANSCRIBE_CLAIM_IDLE_S": "5"})
    with pytest.raises(ConfigError, match="max_phrases"):
        load_config(None, env={"COMMANDPOST_TRANSCRIBE_MAX_PHRASES": "1",
                               "COMMANDPOST_TRANSCRIBE_PHRASES": "서울,부산"})
    with pytest.raises(ConfigError):
        load_config(None, env={"COMMANDPOST_TRANSCRIBE_MODELS": "english"})
    config = load_config(None, env={"COMMANDPOST_TRANSCRIBE_MODELS": "en-us=/m/en"})
    assert config.transcribe.models == ("en-us=/m/en",)


def test_ice_addresses_follow_config_then_sfu() -> None:
    from transcribe.participant import ice_addresses_for

    assert ice_addresses_for(("10.0.0.7",), ("127.0.0.1",)) == ["10.0.0.7"]
    assert ice_addresses_for((), ("127.0.0.1",)) == ["127.0.0.1"]
    assert ice_addresses_for((), ()) == []  # aioice's default: every non-loopback interface
    config = load_config(None, env={"COMMANDPOST_TRANSCRIBE_ICE_ADDRESSES": "127.0.0.1"})
    assert config.transcribe.ice_addresses == ("127.0.0.1",)
    with pytest.raises(ConfigError):
        load_config(None, env={"COMMANDPOST_TRANSCRIBE_ICE_ADDRESSES": "not-an-ip"})


def test_worker_cli_has_help() -> None:
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-m", "signaling.cli", "worker", "transcriber",
                             "--help"], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: commandpost worker transcriber" in result.stdout
    assert "--consumer" in result.stdout
