"""Minutes from a transcript: the one entry point (`build_minutes`) and the JSON it returns
(docs/API.md "Transcripts and minutes"). Pure and blocking: callers run it in an executor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from transcribe.minutes.actions import ActionFinder, ActionItem
from transcribe.minutes.chapters import boundaries
from transcribe.minutes.decisions import Decision, DecisionFinder
from transcribe.minutes.keywords import keywords
from transcribe.minutes.model import Transcript
from transcribe.minutes.people import NameBook
from transcribe.minutes.rules import Rules
from transcribe.minutes.sentences import Sentence, split_transcript
from transcribe.minutes.summary import summarise
from transcribe.minutes.text import clip

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Options:
    pause_ms: int = 700  # a gap between words this long ends a sentence (recogniser output)
    summary_sentences: int = 5
    keywords: int = 10


def build_minutes(transcript: Transcript, rules: Rules, options: Options = Options()) -> dict[str, Any]:
    sentences = split_transcript(transcript.segments, rules, options.pause_ms)
    names = [a.name for a in transcript.attendees] + [s.speaker for s in transcript.segments]
    book = NameBook(names, rules)
    # Names cut out before tokenising: jieba would glue an unknown name to its neighbour
    # ("开 谢干事" -> "开谢"), and names are no topics anyway.
    words = [rules.tokenizer.content_words(book.without_names(s.text), rules.stopwords)
             for s in sentences]
    decisions = DecisionFinder(rules).find(sentences, [set(w) for w in words])
    actions = ActionFinder(rules, book, transcript.started_at).find(sentences)
    skip = frozenset(p for alias in book.aliases for p in alias.split())
    top = keywords(words, rules, options.keywords, skip)
    link = Linker(transcript)
    limit = max(3, min(options.summary_sentences, 2 + len(sentences) // 25))
    summary = summarise(sentences, [set(w) for w in words], limit)
    labels = rules.table("labels")
    return {
        "version": FORMAT_VERSION,
        "language": rules.language,
        "room_id": transcript.room_id or None,
        "title": transcript.title or _title(top, labels),
        "started_at": transcript.started_at.isoformat(timespec="seconds"),
        "ended_at": (transcript.started_at + timedelta(milliseconds=_end_ms(transcript)))
        .isoformat(timespec="seconds"),
        "duration_s": round(_end_ms(transcript) / 1000),
        "attendees": _attendees(transcript),
        "summary": [dict(id=f"m{n + 1}", text=s.display, speaker=s.speaker, **link(s))
                    for n, s in enumerate(summary)],
        "decisions": [_decision(n, d, link) for n, d in enumerate(decisions)],
        "action_items": [_action(n, a, link) for n, a in enumerate(actions)],
        "keywords": top,
        "chapters": _chapters(sentences, words, rules, link, skip),
        "transcript": [{"id": s.id, "speaker": s.speaker, "speaker_id": s.speaker_id or None,
                        "start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text}
                       for s in transcript.segments],
        "recording": transcript.recording,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


class Linker:
    """Where an item was said: segment, time, and the second of the recording if any."""

    def __init__(self, transcript: Transcript) -> None:
        self.recording = transcript.recording

    def __call__(self, sent: Sentence) -> dict[str, Any]:
        out = {"segment_id": sent.segment_id, "start_ms": sent.start_ms,
               "t": _clock(sent.start_ms), "recording_url": None}
        if self.recording:
            # The minutes page plays the recording from that second (#t=, media fragments).
            second = int(sent.start_ms / 1000 + float(self.recording.get("offset_s", 0)))
            out["recording_s"] = second
            out["recording_url"] = f"{self.recording.get('player', '')}#t={second}"
        return out


def _clock(ms: int) -> str:
    s = ms // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _end_ms(transcript: Transcript) -> int:
    return max((s.end_ms for s in transcript.segments), default=0)


def _title(top: list[dict[str, Any]], labels: dict[str, Any]) -> str:
    sep = str(labels.get("keyword_separator", ", "))
    words = sep.join(k["word"] for k in top[:3])
    return str(labels.get("title", "{keywords}")).replace("{keywords}", words)


def _attendees(transcript: Transcript) -> list[dict[str, Any]]:
    """Listed attendees with their join/leave times, plus anyone else who spoke."""
    spoke: dict[str, list[int]] = {}
    for seg in transcript.segments:
        span = spoke.setdefault(seg.speaker, [seg.start_ms, seg.end_ms, 0])
        span[0], span[1] = min(span[0], seg.start_ms), max(span[1], seg.end_ms)
        span[2] += seg.end_ms - seg.start_ms
    out, seen = [], set()
    for a in transcript.attendees:
        seen.add(a.name)
        out.append(_attendee(a.name, a.id, a.joined_at, a.left_at, spoke.get(a.name)))
    for name, span in spoke.items():
        if name not in seen and name != "?":
            base = transcript.started_at
            out.append(_attendee(name, "", (base + timedelta(milliseconds=span[0])).isoformat(
                timespec="seconds"), (base + timedelta(milliseconds=span[1])).isoformat(
                timespec="seconds"), span, source="speech"))
    return out


def _attendee(name: str, ident: str, joined: str | None, left: str | None,
              span: list[int] | None, source: str = "room") -> dict[str, Any]:
    return {"name": name, "id": ident or None, "joined_at": joined, "left_at": left,
            "times_from": source, "spoke_s": round(span[2] / 1000) if span else 0}


def _decision(n: int, d: Decision, link: Linker) -> dict[str, Any]:
    item = {"id": f"d{n + 1}", "text": d.sentence.display, "cue": d.cue,
            "speaker": d.sentence.speaker, **link(d.sentence)}
    if d.confirmed_by is not None and d.confirmed_by is not d.sentence:
        item["confirmed_by"] = {"text": d.confirmed_by.display,
                                "speaker": d.confirmed_by.speaker, **link(d.confirmed_by)}
    return item


def _action(n: int, a: ActionItem, link: Linker) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"a{n + 1}", "owner": a.owner, "owner_source": a.owner_source,
        "what": clip(a.what, 300), "text": a.sentence.display, "speaker": a.sentence.speaker,
        "deadline": None, "deadline_date": None, "deadline_has_time": False,
        "deadline_text": None, **link(a.sentence)}
    if a.deadline is not None:
        item.update(a.deadline.to_json())
    return item


def _chapters(sentences: list[Sentence], words: list[list[str]], rules: Rules,
              link: Linker, skip: frozenset[str]) -> list[dict[str, Any]]:
    if not sentences:
        return []
    cues = rules.phrases("topic", "cues")
    cue_hits = {s.index for s in sentences if cues.search(s.text)}
    starts = boundaries(sentences, words, cue_hits)
    out = []
    sep = str(rules.table("labels").get("keyword_separator", ", "))
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(sentences)
        top = keywords(words[begin:end], rules, 3, skip)
        first = sentences[begin]
        out.append({"id": f"c{n + 1}",
                    "title": sep.join(k["word"] for k in top) or clip(first.display, 40),
                    "keywords": [k["word"] for k in top], "first_sentence": clip(first.display, 120),
                    "end_ms": sentences[end - 1].end_ms, **link(first)})
    return out
