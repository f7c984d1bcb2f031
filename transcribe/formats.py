"""A transcript as SRT subtitles or plain text (times from the meeting start)."""

from __future__ import annotations

from collections.abc import Iterable

from transcribe.store import Segment


def clock(ms: int, sep: str = ",") -> str:
    """HH:MM:SS,mmm (SRT) or, with sep="", HH:MM:SS."""
    ms = max(0, int(ms))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}{sep}{millis:03d}" if sep else text


def to_srt(segments: Iterable[Segment]) -> str:
    blocks = []
    for number, seg in enumerate(segments, start=1):
        end = max(seg["end_ms"], seg["start_ms"] + 1)
        blocks.append(f"{number}\n{clock(seg['start_ms'])} --> {clock(end)}\n"
                      f"{seg['speaker']}: {seg['text']}\n")
    return "\n".join(blocks)


def to_txt(segments: Iterable[Segment]) -> str:
    return "".join(f"[{clock(seg['start_ms'], '')}] {seg['speaker']}: {seg['text']}\n"
                   for seg in segments)
