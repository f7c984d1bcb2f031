"""Turning a vosk final result into a stored segment, and captions into their JSON."""

from __future__ import annotations

from typing import Any

from transcribe.recognizer import Result
from transcribe.store import Segment
from transcribe.timeline import Timeline


def build_segment(room_id: str, lang: str, speaker_id: str, speaker: str, result: Result,
                  timeline: Timeline, started_ms: int, seq: int) -> Segment:
    """Segment JSON (docs/ARCHITECTURE.md): times as offsets from the meeting start and as
    wall-clock ms, every word with its confidence."""
    words = []
    for word in result.words:
        start_at = timeline.wall_of_seconds(float(word["start"]))
        end_at = timeline.wall_of_seconds(float(word["end"]))
        words.append({"w": word["word"], "start_ms": start_at - started_ms,
                      "end_ms": end_at - started_ms, "conf": round(float(word["conf"]), 3)})
    start_at_ms = words[0]["start_ms"] + started_ms
    end_at_ms = words[-1]["end_ms"] + started_ms
    return {"id": f"{start_at_ms}-{speaker_id}-{seq}", "room_id": room_id,
            "speaker_id": speaker_id, "speaker": speaker,
            "start_ms": start_at_ms - started_ms, "end_ms": end_at_ms - started_ms,
            "start_at_ms": start_at_ms, "end_at_ms": end_at_ms, "text": result.text,
            "words": words, "lang": lang, "final": True}


def partial_caption(room_id: str, speaker_id: str, speaker: str, text: str,
                    at_ms: int) -> dict[str, Any]:
    return {"type": "caption", "room_id": room_id, "speaker_id": speaker_id,
            "speaker": speaker, "text": text, "final": False, "at_ms": at_ms}


def final_caption(segment: Segment, at_ms: int) -> dict[str, Any]:
    return {"type": "caption", "room_id": segment["room_id"],
            "speaker_id": segment["speaker_id"], "speaker": segment["speaker"],
            "text": segment["text"], "final": True, "segment_id": segment["id"],
            "start_ms": segment["start_ms"], "end_ms": segment["end_ms"], "at_ms": at_ms}
