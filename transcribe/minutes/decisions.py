"""Decisions: sentences holding a decision cue of the language ("会议决定", "就这么定了",
"we agreed", "let's go with") and none of its exclusions ("不同意", "do we agree").

- A short confirmation ("同意", "agreed", "就这么定了") records the proposal said just
  before it.
- A proposal ("我建议…", "let's…") that another speaker agrees to or takes on right after
  ("赞成", "sounds good", "I'll…") is a decision too.
- A header ("会议决定以下几点", "to recap") records the enumerated sentences that follow it;
  a recap item points back to where it was first said, when that is clear."""

from __future__ import annotations

from dataclasses import dataclass

from transcribe.minutes.rules import Rules
from transcribe.minutes.sentences import Sentence


@dataclass(frozen=True)
class Decision:
    sentence: Sentence  # where the decision is stated (the proposal, for a confirmation)
    cue: str
    confirmed_by: Sentence | None = None


class DecisionFinder:
    def __init__(self, rules: Rules) -> None:
        table = rules.table("decision")
        self.cues, self.exclude = rules.phrases("decision", "cues"), rules.phrases(
            "decision", "exclude")
        self.headers = rules.phrases("decision", "list_headers")
        self.proposals = rules.phrases("decision", "proposals")
        self.proposal_exclude = rules.phrases("decision", "proposal_exclude")
        self.agreements = rules.phrases("decision", "agreements")
        self.cue_patterns = rules.patterns("decision", "cue_patterns")
        self.proposal_patterns = rules.patterns("decision", "proposal_patterns")
        self.open_questions = rules.phrases("decision", "open_questions")
        # General signs, not phrasings of one meeting: a deferral or rejection ("先不考虑",
        # "not this week") settles a point; so does the chair answering a question with a
        # directive ("其他四座桥呢？" … "检测要做。").
        self.deferrals = rules.patterns("decision", "deferral_patterns")
        self.question_ends = rules.patterns("decision", "question_patterns")
        self.directives = rules.phrases("decision", "directives")
        self.chair: str | None = None
        self.short = int(table.get("short_confirmation_chars", 8))
        self.min_item = int(table.get("min_item_chars", 4))

    def find(self, sentences: list[Sentence], words: list[set[str]]) -> list[Decision]:
        found: dict[int, Decision] = {}
        self.chair = chair_of(sentences)
        for i, sent in enumerate(sentences):
            for decision in self._at(sentences, words, i):
                found.setdefault(decision.sentence.index, decision)
        return [found[k] for k in sorted(found)]

    def _at(self, sentences: list[Sentence], words: list[set[str]], i: int) -> list[Decision]:
        sent = sentences[i]
        match = self.cues.search(sent.text) or next(
            (m for p in self.cue_patterns if (m := p.search(sent.text))), None)
        if match is None or self.exclude.search(sent.text):
            return self._agreed_proposal(sentences, i) or self._answer(sentences, i) \
                or self._deferral(sent) or self._chair_answer(sentences, i)
        rest = sent.text[match.end():].strip()
        if self.headers.search(sent.text) or (not rest and len(sent.text) > self.short
                                              and _followed_by_list(sentences, i)):
            return [Decision(_first_said(sentences, words, item), match.group(0), item)
                    for item in _list_items(sentences, i) if len(item.text) >= self.min_item]
        if len(sent.text) <= self.short:
            proposal = _proposal(sentences, i)
            if proposal is not None:
                return [Decision(proposal, match.group(0), sent)]
        return [Decision(sent, match.group(0))]

    def _agreed_proposal(self, sentences: list[Sentence], i: int) -> list[Decision]:
        sent = sentences[i]
        match = self.proposals.search(sent.text) or next(
            (m for p in self.proposal_patterns if (m := p.search(sent.text))), None)
        if match is None or self.proposal_exclude.search(sent.text) \
                or self.exclude.search(sent.text):
            return []
        for reply in sentences[i + 1: i + 3]:
            if reply.speaker == sent.speaker:
                continue
            head = reply.text[: self.short + 4]
            if self.agreements.search(head) and not self.exclude.search(reply.text):
                return [Decision(sent, match.group(0), reply)]
            break
        return []


    def _answer(self, sentences: list[Sentence], i: int) -> list[Decision]:
        """The reply to an open question about what to settle ("时间怎么定？")."""
        for back in range(i - 1, max(-1, i - 3), -1):
            question = sentences[back]
            match = self.open_questions.search(question.text)
            if match is None:
                continue
            sent = sentences[i]
            if sent.speaker != question.speaker and len(sent.text) > self.short \
                    and not self.exclude.search(sent.text):
                return [Decision(sent, match.group(0), None)]
            return []
        return []


    def _deferral(self, sent: Sentence) -> list[Decision]:
        """"拆除重建先不考虑", "not this week", "we'll hold off": a point settled by no."""
        match = next((m for p in self.deferrals if (m := p.search(sent.text))), None)
        return [Decision(sent, match.group(0))] if match else []

    def _chair_answer(self, sentences: list[Sentence], i: int) -> list[Decision]:
        """The chair (who speaks most) answers someone's question within two turns with a
        directive: the answer settles it."""
        sent = sentences[i]
        if sent.speaker != self.chair or not self.directives.search(sent.text):
            return []
        for back in range(i - 1, max(-1, i - 3), -1):
            asked = sentences[back]
            if any(p.search(asked.text) for p in self.question_ends) or \
                    asked.display.rstrip().endswith(("?", "？")):
                match = self.directives.search(sent.text)
                return [Decision(sent, match.group(0))] if match else []
        return []


def chair_of(sentences: list[Sentence]) -> str | None:
    """Who chairs: the speaker with the most sentences (ties: who spoke first)."""
    counts: dict[str, int] = {}
    for sent in sentences:
        counts[sent.speaker] = counts.get(sent.speaker, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def _proposal(sentences: list[Sentence], i: int) -> Sentence | None:
    """The sentence a short confirmation agrees to: the last longer one within 3 back."""
    for back in range(i - 1, max(-1, i - 4), -1):
        if len(sentences[back].text) > 12:
            return sentences[back]
    return None


def _followed_by_list(sentences: list[Sentence], i: int) -> bool:
    return i + 1 < len(sentences) and sentences[i + 1].segment_id == sentences[i].segment_id


def _list_items(sentences: list[Sentence], i: int) -> list[Sentence]:
    """The sentences after a header by the same speaker, until another speaker talks."""
    head = sentences[i]
    items = []
    for sent in sentences[i + 1: i + 8]:
        if sent.speaker != head.speaker:
            break
        items.append(sent)
    return items or [head]


def _first_said(sentences: list[Sentence], words: list[set[str]], item: Sentence) -> Sentence:
    """The earlier sentence a recap item repeats (most shared content words, at least half)."""
    mine = words[item.index]
    if len(mine) < 2:
        return item
    best, best_score = item, 0.5
    for sent in sentences[: item.index]:
        other = words[sent.index]
        if other:
            overlap = len(mine & other) / len(mine)
            if overlap > best_score:
                best, best_score = sent, overlap
    return best
