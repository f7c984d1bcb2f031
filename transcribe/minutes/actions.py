"""Action items: who does what by when.

A sentence holds an action when an owner cue of the language fires ("张伟负责", "请李娜",
"我来", "Tom will", "can you", "I'll") and the clause has a task verb or a deadline. One
sentence may hold several (recogniser output runs sentences together), so each cue opens a
clause that runs to the next cue. The owner comes from the cue's slot (owners.py), the
speaker ("I'll"), or the person spoken to ("can you": a name in the sentence, else whoever
answers). A deadline missing from the clause may come in the owner's short reply."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from transcribe.minutes.decisions import chair_of
from transcribe.minutes.deadlines import Deadline, find_deadline, find_deadlines, last_deadline
from transcribe.minutes.owners import english_owner, owner_after, owner_before
from transcribe.minutes.people import NameBook
from transcribe.minutes.rules import Rules, alternation, phrase_regex
from transcribe.minutes.sentences import Sentence


@dataclass(frozen=True)
class ActionItem:
    sentence: Sentence
    owner: str | None
    owner_source: str  # "named" | "speaker" | "addressee"
    what: str
    deadline: Deadline | None
    deadline_sentence: Sentence | None = None


@dataclass(frozen=True)
class _Hit:
    start: int  # where the clause's cue starts
    body: int  # where the task text starts
    owner: str | None
    source: str


class ActionFinder:
    def __init__(self, rules: Rules, book: NameBook, meeting: datetime) -> None:
        self.rules, self.book, self.meeting = rules, book, meeting
        self.exclude = rules.phrases("action", "exclude")
        listed = rules.list("action", "task_verbs")
        # "coordinate" -> "coordinating": the stem without its final e takes -ing too
        verbs = alternation(listed + [v[:-1] + "ing" for v in listed
                                      if rules.bounded and v.endswith("e") and " " not in v])
        # English verbs in any form: "writes", "sorted out", "sending".
        self.verbs = re.compile(rf"(?<![\w'])(?:{verbs})(?:s|es|ed|d|ing)?(?![\w'])"
                                if rules.bounded else f"(?:{verbs})")
        self.self_cues = rules.phrases("action", "self_cues")
        self.addressee = rules.phrases("action", "addressee_cues")
        self.addressee_patterns = rules.patterns("action", "addressee_patterns")
        self.acceptances = rules.phrases("decision", "acceptances")
        self.before = rules.phrases("action", "owner_before")
        self.after = rules.phrases("action", "owner_after")
        self.owner_patterns = [self._owner_pattern(p)
                               for p in rules.list("action", "owner_patterns")]
        self.lookbehind = int(rules.table("action").get("deadline_lookbehind_chars", 40))
        self.filler = rules.list("action", "filler")
        self.questions = rules.phrases("action", "questions")
        self.imperative = bool(rules.table("action").get("imperative", False))
        # Deadline-anchored actions (no cue): who they belong to, told by general signs.
        self.speaker_words = rules.phrases("action", "speaker_words")
        # "我们后勤今晚…", "we'll have it by…": from anyone but the chair, "we" is their unit
        self.unit_words = rules.phrases("action", "unit_words")
        self.chair: str | None = None
        self.acknowledgements = rules.phrases("action", "acknowledgements")
        self.task_markers = rules.phrases("action", "task_markers")
        # A decision or a proposal with a date ("推迟到下周三", "let's go with … Friday") is
        # not an action by itself; nor is the opening turn (the agenda, skipped in find).
        self.anchored_exclude = phrase_regex(
            rules.list("action", "anchored_exclude") + rules.list("decision", "cues")
            + rules.list("decision", "proposals"), rules.bounded)
        self.anchored_patterns = rules.patterns("decision", "cue_patterns")
        self.ack_chars = int(rules.table("action").get("acknowledgement_chars", 12))
        lead = alternation(rules.list("action", "imperative_lead"))
        verbs = alternation(rules.list("action", "task_verbs"))
        self.imperative_re = re.compile(rf"^(?:(?:{lead})\s+)*(?:{verbs})(?![\w'])")
        # "Good. Grace, also brief …" in recogniser form: the name after an acknowledgement
        self.lead_re = re.compile(rf"^(?:(?:{lead})(?![\w'])[\s,]*)*") if lead else None
        starters = alternation(rules.list("sentence_starters") + rules.list("trailing"))
        self.item_end = re.compile(rf"(?<![\w'])(?:{starters})\W*$" if rules.bounded
                                   else rf"(?:{starters})\W*$")
        self.new_item = re.compile(rf"^\W*(?:{starters})(?![\w'])" if rules.bounded
                                   else rf"^\W*(?:{starters})")

    def _owner_pattern(self, pattern: str) -> re.Pattern[str]:
        names = alternation(self.book.aliases)
        pattern = pattern.replace("{task_verbs}", alternation(
            self.rules.list("action", "task_verbs")))
        pattern = pattern.replace("{name}", f"(?P<owner>{names})")
        pattern = pattern.replace("{owner}", f"(?P<owner>{names}|[a-z][a-z'-]*)")
        # A unit as owner: "the ops team needs to", "facilities department will".
        suffixes = alternation(self.rules.list("org_suffixes"))
        pattern = pattern.replace("{org}", f"(?P<owner>[a-z][a-z'-]* (?:{suffixes}))")
        return re.compile(r"(?<![\w'])" + pattern + r"(?![\w'])")

    def find(self, sentences: list[Sentence]) -> list[ActionItem]:
        items: list[ActionItem] = []
        self.chair = chair_of(sentences)
        for i, sent in enumerate(sentences):
            if self.exclude.search(sent.text):
                continue
            hits = self._hits(sentences, i)
            found = False
            for n, hit in enumerate(hits):
                end = hits[n + 1].start if n + 1 < len(hits) else len(sent.text)
                begin = hits[n].start if n else max(0, hit.start - self.lookbehind)
                item = self._item(sentences, i, hit, sent.text[begin:end], hit.body - begin,
                                  hit.start - begin, sent.text[end:])
                if item is not None:
                    items.append(item)
                    found = True
            anchored = None if found or i == 0 else self._anchored(sentences, i)
            if anchored is not None and not any(  # a reply to an item already theirs
                    o.owner == anchored.owner and o.sentence.index >= i - 2 for o in items):
                items.append(anchored)
        return _dedupe(items)

    def _anchored(self, sentences: list[Sentence], i: int) -> ActionItem | None:
        """No cue fired, but the sentence names a deadline and a task ("交通这边明天上午挂好",
        "下周三之前把专家请来" - "明白。"): an action if someone can be found to own it."""
        sent = sentences[i]
        deadline = find_deadline(sent.text, self.rules, self.meeting)
        if deadline is None or self._continues(sentences, i) or self.questions.search(sent.text) \
                or not (self.verbs.search(sent.text) or self.task_markers.search(sent.text)):
            return None
        owner, source = self._anchored_owner(sentences, i)
        # a decision or proposal with a date is no action, unless someone is named in it
        # ("approved karen the firmware … needs updating by friday")
        if owner is None or (source != "named" and (
                self.anchored_exclude.search(sent.text)
                or any(p.search(sent.text) for p in self.anchored_patterns))):
            return None
        clause = sent.text[:deadline.start] + " " * (deadline.end - deadline.start) \
            + sent.text[deadline.end:]
        return ActionItem(sent, owner, source, self._tidy(clause) or clause.strip(),
                          deadline, sent)

    def _anchored_owner(self, sentences: list[Sentence],
                        i: int) -> tuple[str | None, str]:
        """Precedence: a person named in the sentence; "I/we/我们/这边" -> the speaker; the
        next speaker whose turn is a short acknowledgement ("明白。", "Will do.")."""
        sent = sentences[i]
        speaker = self.book.canonical(sent.speaker) or sent.speaker
        for start, _, name in self.book.find(sent.text):
            if name != speaker and not self._object(sent.text, start):
                return name, "named"
        if self.speaker_words.search(sent.text) or (
                sent.speaker != self.chair and self.unit_words.search(sent.text)):
            return speaker, "speaker"
        nxt = next((s for s in sentences[i + 1:] if s.segment_id != sent.segment_id), None)
        if nxt is not None and nxt.speaker != sent.speaker \
                and len(nxt.text) <= self.ack_chars and self.acknowledgements.search(nxt.text):
            return self.book.canonical(nxt.speaker) or nxt.speaker, "addressee"
        return None, "named"

    def _hits(self, sentences: list[Sentence], i: int) -> list[_Hit]:
        sent, text = sentences[i], sentences[i].text
        hits: list[_Hit] = []
        for m in self.self_cues.finditer(text):
            hits.append(_Hit(m.start(), m.end(), self.book.canonical(sent.speaker)
                             or sent.speaker, "speaker"))
        for m in self.addressee.finditer(text):
            hits.append(_Hit(m.start(), m.end(), self._addressee(sentences, i), "addressee"))
        for pattern in self.addressee_patterns:
            for m in pattern.finditer(text):
                hits.append(_Hit(m.start(), m.end(), self._addressee(sentences, i),
                                 "addressee"))
        if self.rules.bounded:
            hits += self._english_hits(text, sentences, i)
        else:
            hits += self._chinese_hits(text)
        lead = self.lead_re.match(text).end() if self.lead_re else 0  # type: ignore[union-attr]
        vocative = self.book.name_starting_at(text, lead) or self.book.name_starting_at(text, 0)
        if vocative and not hits and not self.questions.search(text):
            hits.append(_Hit(0, vocative[0], vocative[1], "named"))
        if self.imperative and not any(h.start == 0 for h in hits) \
                and self.imperative_re.match(text) and not self._continues(sentences, i):
            hits.append(_Hit(0, 0, self._addressee(sentences, i, answering=True), "addressee"))
        hits.sort(key=lambda h: h.start)
        return _one_per_owner(hits)

    def _continues(self, sentences: list[Sentence], i: int) -> bool:
        """The sentence goes on from a commitment of the same turn ("I'll own the RCA.
        Draft by end of next week."): not an order to someone else."""
        before = sentences[i - 1] if i > 0 else None
        return before is not None and before.segment_id == sentences[i].segment_id and \
            len(before.text) > 12 and self.self_cues.search(before.text) is not None

    def _chinese_hits(self, text: str) -> list[_Hit]:
        hits = []
        lead = self.rules.table("action").get("deadline_lead", "")
        dated = find_deadlines(text, self.rules, self.meeting)
        for start, end, name in self.book.find(text):
            # recogniser text runs sentences together: "…二十个 晓燕 点位图下周五前给我"
            # calls someone mid-sentence; a date or "你" soon after makes it theirs
            if start > 0 and not self._object(text, start) and (
                    text.startswith("你", end) or any(0 <= d.start - end <= 12 for d in dated)):
                hits.append(_Hit(start, end, name, "named"))
        for d in dated:
            # "宣传组今天晚上八点前发布通报", "各街道从今晚起值守": who stands right before
            # the deadline (and its lead-in word)
            at = d.start
            if lead:
                found = re.search(f"(?:{lead})$", text[:at])
                at = found.start() if found else at
            owner = owner_before(text, at, self.book, self.rules)
            if owner and not self._object(text, text.rfind(owner, 0, at)):
                hits.append(_Hit(max(0, text.rfind(owner, 0, at)), d.start, owner,
                                 "named"))
        for m in self.before.finditer(text):
            owner = owner_before(text, m.start(), self.book, self.rules)
            if owner and not self._object(text, text.rfind(owner, 0, m.start())):
                hits.append(_Hit(max(0, m.start() - len(owner)), m.end(), owner, "named"))
        for m in self.after.finditer(text):
            owner = owner_after(text, m.end(), self.book, self.rules)
            if owner:
                body = text.find(owner, m.end())
                hits.append(_Hit(m.start(), body + len(owner) if body >= 0 else m.end(),
                                 owner, "named"))
        return hits

    def _object(self, text: str, at: int) -> bool:
        """The name is the object of "跟/会同/向…" ("我去跟卫健委协调"), not who acts."""
        markers = self.rules.table("action").get("object_markers", "")
        return at > 0 and bool(markers) and re.search(f"(?:{markers})$", text[:at]) is not None

    def _english_hits(self, text: str, sentences: list[Sentence], i: int) -> list[_Hit]:
        hits = []
        if self.book.aliases:  # "you and Greg sort out …": both
            together = re.compile(rf"(?<![\w'])you and (?P<owner>{alternation(self.book.aliases)})"
                                  r"(?![\w'])")
            for m in together.finditer(text):
                other = self.book.canonical(m.group("owner"))
                you = self._addressee(sentences, i)
                hits.append(_Hit(m.start(), m.end(), f"{you}, {other}" if you else other,
                                 "addressee"))
        for pattern in self.owner_patterns:
            for m in pattern.finditer(text):
                owner = english_owner(m.group("owner"), text[:m.start("owner")], self.book,
                                      self.rules)
                if owner:
                    hits.append(_Hit(m.start(), m.end(), owner, "named"))
        return hits

    def _addressee(self, sentences: list[Sentence], i: int,
                   answering: bool = False) -> str | None:
        """A name said in the sentence, else whoever answers (for an imperative said in
        answer to someone, that someone: "I can do a timeline." - "Get it to me by…")."""
        sent = sentences[i]
        speaker = self.book.canonical(sent.speaker) or sent.speaker
        for _, _, name in self.book.find(sent.text):
            if name != speaker:
                return name
        called = _called(sent.display, self.rules) if self.rules.bounded else None
        if called:
            return self.book.canonical(called) or called
        before = sentences[max(0, i - 3): i][::-1]
        earlier = [b for b in before if b.segment_id != sent.segment_id]
        if answering and earlier and earlier[0].speaker != sent.speaker:
            # "Book them before five. And sort out meals…": the turn answers one person
            return self.book.canonical(earlier[0].speaker) or earlier[0].speaker
        for other in sentences[i + 1: i + 4] + before:
            if other.speaker != sent.speaker:
                return self.book.canonical(other.speaker) or other.speaker
        return None

    def _item(self, sentences: list[Sentence], i: int, hit: _Hit, clause: str,
              body: int, cue: int, rest: str = "") -> ActionItem | None:
        """`clause` runs from a little before the cue (`cue`) to the next cue; the task text
        starts at `body`. A deadline after the cue beats one said before it."""
        sent = sentences[i]
        deadline = last_deadline(clause[cue:], self.rules, self.meeting)
        if deadline is not None:
            deadline = replace(deadline, start=deadline.start + cue, end=deadline.end + cue)
        else:
            deadline = find_deadline(clause, self.rules, self.meeting)
        if deadline is None and not self.verbs.search(clause[max(0, body - 4):]) \
                and not self.verbs.search(clause):
            return None
        request = self.rules.bounded and hit.source == "addressee"  # "can you …?" asks a task
        if deadline is None and self.questions.search(clause[cue:]) and not request:
            return None  # "你们城管局的融雪剂现在有多少？" asks, it does not assign
        source = sent
        shares = not self.new_item.match(rest) and not self.item_end.search(clause) and not (
            self.rules.bounded and not self.verbs.search(clause[max(0, body - 4):]))
        if deadline is None and rest and shares:
            # "张伟牵头，李娜配合，两周内完成": the sentence's deadline is everyone's (not
            # across "另外…", nor to "I'll leave that with you, … Thursday").
            later = last_deadline(rest, self.rules, self.meeting)
            if later is not None:
                return self._made(sent, hit, clause, body, later, None)
        if deadline is None:
            deadline, source = self._reply_deadline(sentences, i, hit.owner)
        if deadline is None and i > 0 and sentences[i - 1].segment_id == sent.segment_id \
                and not self._hits(sentences, i - 1):
            # "…今天晚上六点之前，一条都不能少。老罗你亲自盯着。": said just before, same turn
            deadline = last_deadline(sentences[i - 1].text, self.rules, self.meeting)
            source = sentences[i - 1]
        if deadline is not None and source is sent:  # drop the deadline, keep positions
            clause = clause[:deadline.start] + " " * (deadline.end - deadline.start) \
                + clause[deadline.end:]
        return self._made(sent, hit, clause, body, deadline,
                          source if deadline is not None else None)

    def _made(self, sent: Sentence, hit: _Hit, clause: str, body: int,
              deadline: Deadline | None, source: Sentence | None) -> ActionItem:
        return ActionItem(sent, hit.owner, hit.source, self._tidy(clause[body:])
                          or clause.strip(), deadline, source)

    def _reply_deadline(self, sentences: list[Sentence], i: int,
                        owner: str | None) -> tuple[Deadline | None, Sentence]:
        """A deadline said right after, by the owner or the same speaker ("sure, by Friday")."""
        sent = sentences[i]
        reply = None  # the segment of an acceptance: its next sentence goes on ("Do that.
        for k, other in enumerate(sentences[i + 1: i + 3]):  # Quotes by Wednesday.")
            same_turn = k == 0 and other.segment_id == sent.segment_id
            accepted = (k == 0 and other.speaker != sent.speaker and
                        self.acceptances.search(other.text[:16]) is not None) or \
                other.segment_id == reply
            reply = other.segment_id if accepted else None
            theirs = owner is not None and (other.speaker == owner or owner in other.speaker)
            if not (same_turn or accepted or theirs) or len(other.text) > 100:
                break
            if same_turn and any(h.owner not in (owner, None)
                                 for h in self._hits(sentences, i + 1)):
                break  # "卫健委再准备一支队伍。另外宣传部门要在六点前…": someone else's date
            found = find_deadline(other.text, self.rules, self.meeting)
            if found is not None:
                return found, other
        return None, sent

    def _tidy(self, what: str) -> str:
        what = " ".join(what.split())
        filler = alternation(self.filler)
        lead = re.compile(rf"^(?:(?:{filler})(?![\w'])\s*)+" if self.rules.bounded
                          else rf"^(?:{filler})+")
        what = lead.sub("", what).strip(" ,，。.")
        trailing = alternation(self.rules.list("trailing"))
        tail = re.compile(rf"(?:\s*(?<![\w'])(?:{trailing}))+$" if self.rules.bounded
                          else rf"(?:{trailing})+$")
        return tail.sub("", what).strip(" ,，。.")


def _called(display: str, rules: Rules) -> str | None:
    """Someone called by name at the start or end of a written sentence ("…, Victor?")."""
    match = re.match(r"^([A-Z][a-z]+),", display) or re.search(
        r",\s*([A-Z][a-z]+)[?.!]*$", display)
    if match and match.group(1).lower() not in set(rules.list("not_owners")):
        return match.group(1)
    return None


def _one_per_owner(hits: list[_Hit]) -> list[_Hit]:
    """Cues naming the same owner close together are one clause ("我来负责")."""
    out: list[_Hit] = []
    for hit in hits:
        if out and (hit.owner == out[-1].owner or hit.start < out[-1].body):
            if out[-1].owner is None and hit.owner is not None:
                out[-1] = hit
            continue
        out.append(hit)
    return out


def _dedupe(items: list[ActionItem]) -> list[ActionItem]:
    """The same owner and task said again (a recap) is one item; the first keeps its place."""
    out: list[ActionItem] = []
    for item in items:
        twin = next((o for o in out if o.owner == item.owner and _similar(o.what, item.what)),
                    None)
        if twin is None:
            out.append(item)
        elif twin.deadline is None and item.deadline is not None:
            out[out.index(twin)] = ActionItem(twin.sentence, twin.owner, twin.owner_source,
                                              twin.what, item.deadline, item.sentence)
    return out


def _similar(a: str, b: str) -> bool:
    sa, sb = set(a.split()) if " " in a else set(a), set(b.split()) if " " in b else set(b)
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= 0.6
