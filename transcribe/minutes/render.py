"""Minutes as Markdown and as a standalone HTML page, headed in the minutes' language
(the `[labels]` of its rules file)."""

from __future__ import annotations

import html
from typing import Any

Labels = dict[str, Any]


def _deadline(item: dict[str, Any]) -> str:
    if not item.get("deadline"):
        return ""
    when = str(item["deadline"]).replace("T", " ")[:16] if item.get("deadline_has_time") \
        else str(item.get("deadline_date") or item["deadline"])[:10]
    said = item.get("deadline_text")
    return f"{when} ({said})" if said else when


def _minutes_long(seconds: Any) -> int:
    return round(float(seconds or 0) / 60)


def sections(minutes: dict[str, Any], labels: Labels) -> list[tuple[str, list[str]]]:
    """(heading, lines) of every section, shared by Markdown, HTML and Word."""
    lab = labels.get
    head = [f"{lab('time', 'Time')}: {minutes.get('started_at', '')} – {minutes.get('ended_at', '')}"
            f" ({_minutes_long(minutes.get('duration_s'))} {lab('minutes', 'min')})"]
    people = []
    for a in minutes.get("attendees", []):
        times = ", ".join(x for x in (
            f"{lab('joined', 'joined')} {a['joined_at']}" if a.get("joined_at") else "",
            f"{lab('left', 'left')} {a['left_at']}" if a.get("left_at") else "") if x)
        people.append(f"{a.get('name', '')}" + (f" ({times})" if times else ""))
    actions = []
    for item in minutes.get("action_items", []):
        owner = item.get("owner") or lab("unassigned", "unassigned")
        due = _deadline(item)
        actions.append(f"[{item.get('t', '')}] {owner}: {item.get('what', '')}"
                       + (f" — {lab('deadline', 'Deadline')}: {due}" if due else ""))
    return [
        ("", head),
        (str(lab("attendees", "Attendees")), people),
        (str(lab("summary", "Summary")), [f"[{s.get('t', '')}] {s.get('speaker', '')}: "
                                          f"{s.get('text', '')}" for s in minutes.get("summary", [])]),
        (str(lab("decisions", "Decisions")), [f"[{d.get('t', '')}] {d.get('text', '')}"
                                              for d in minutes.get("decisions", [])]),
        (str(lab("action_items", "Action items")), actions),
        (str(lab("keywords", "Keywords")), [str(lab("keyword_separator", ", ")).join(
            k.get("word", "") for k in minutes.get("keywords", []))]),
        (str(lab("chapters", "Chapters")), [f"[{c.get('t', '')}] {c.get('title', '')}"
                                            for c in minutes.get("chapters", [])]),
        (str(lab("transcript", "Transcript")), [
            f"[{_clock(s.get('start_ms', 0))}] {s.get('speaker', '')}: {s.get('text', '')}"
            for s in minutes.get("transcript", [])]),
    ]


def _clock(ms: Any) -> str:
    s = int(ms or 0) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def to_markdown(minutes: dict[str, Any], labels: Labels) -> str:
    out = [f"# {_md(minutes.get('title', ''))}", ""]
    for heading, lines in sections(minutes, labels):
        if heading:
            out += [f"## {heading}", ""]
        out += [f"- {_md(line)}" if heading else _md(line) for line in lines if line]
        out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    # Keep user text from turning into Markdown structure (links, headings, HTML).
    return text.replace("\\", "\\\\").replace("<", "&lt;").replace("[", "\\[").replace(
        "]", "\\]").replace("\n", " ")


def to_html(minutes: dict[str, Any], labels: Labels) -> str:
    lang = html.escape(str(minutes.get("language", "en")))
    title = html.escape(str(minutes.get("title", "")))
    body = [f"<h1>{title}</h1>"]
    for heading, lines in sections(minutes, labels):
        if heading:
            body.append(f"<h2>{html.escape(heading)}</h2><ul>")
            body += [f"<li>{html.escape(line)}</li>" for line in lines if line]
            body.append("</ul>")
        else:
            body += [f"<p>{html.escape(line)}</p>" for line in lines]
    return (f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:50em;"
            f"margin:2em auto;line-height:1.5}}</style></head><body>{''.join(body)}"
            f"</body></html>\n")
