"""Who an action item belongs to, from the words around an owner cue.

Order of trust: an attendee's name or alias; a surname with a title ("王局长"); an
organisation ("应急局", "各单位"); a person's name as jieba tags it; for English, any word in
the owner slot that is not a common word and follows no determiner ("the report will")."""

from __future__ import annotations

import re

from transcribe.minutes.people import NameBook
from transcribe.minutes.rules import Rules

# Words allowed between a name and the cue ("张伟你负责", "李娜同志那边来").
_BETWEEN = re.compile(r"(?:的同志|的同事|你们|你|同志|那边|这边|这块|那块|来|去|就|也|再|这里)*$")
# Also "请于本周五前…": "于" starts a time, not a name (jieba tags "于本周" a person name).
_AFTER_NOISE = re.compile(r"^(?:你们|你|同志|那边|这边|于|在|务必|尽快|抓紧|马上)*")


def owner_before(text: str, pos: int, book: NameBook, rules: Rules) -> str | None:
    """The owner named just before text[pos] (Chinese: "张伟负责", "应急局牵头")."""
    head = text[:pos].rstrip(" ，,、：:")
    gap = _BETWEEN.search(head)
    end = gap.start() if gap else len(head)
    named = book.name_ending_at(text, end)
    if named:
        return named[1]
    words = rules.tokenizer.tagged(head[:end][-20:])
    return _from_words(list(reversed(words)), rules, backwards=True)


def owner_after(text: str, pos: int, book: NameBook, rules: Rules) -> str | None:
    """The owner named just after text[pos] (Chinese: "请李娜…", "由应急局牵头…")."""
    tail = text[pos:]
    start = pos + _AFTER_NOISE.match(tail).end()  # type: ignore[union-attr]
    named = book.name_starting_at(text, start)
    if named:
        return named[1]
    words = rules.tokenizer.tagged(text[start:start + 20])
    return _from_words(words, rules, backwards=False)


_ORG_TAGS = ("n", "vn", "j", "l")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")


def _from_words(words: list[tuple[str, str]], rules: Rules, backwards: bool) -> str | None:
    """An organisation or a tagged person name at the near end of `words`."""
    not_owner = set(rules.list("not_owners"))
    if not words or words[0][0] in not_owner:
        return None
    if words[0][1] == "nr" and len(words[0][0]) >= 2:
        return words[0][0]
    if backwards:
        return _org_before([w for w, _ in words], rules)
    return _org_after(words, rules)


def _org_before(words: list[str], rules: Rules) -> str | None:
    """Nearest first: the organisation word ("交通局"; a bare suffix "局", "公司" takes the
    word before it, "应急" + "局", "热力" + "公司"), then any place prefixes ("市", "各区"). "各网格员" too."""
    suffixes = tuple(rules.list("org_suffixes"))
    prefixes = set(rules.list("org_prefixes"))
    not_owner = set(rules.list("not_owners"))
    core = words[0]
    if not core.endswith(suffixes):
        # "各" + "区县": everyone of a kind
        return "各" + core if len(words) > 1 and words[1] == "各" else None
    rest = words[1:]
    bare = core in suffixes and core not in rules.list("org_words")
    if (len(core) == 1 or bare) and rest and _CJK_WORD.fullmatch(rest[0]) \
            and rest[0] not in not_owner and rest[0] not in prefixes:
        core, rest = rest[0] + core, rest[1:]
    while rest and rest[0] in prefixes:
        core, rest = rest[0] + core, rest[1:]
    if len(core) == 1:
        return None
    return core


def _org_after(words: list[tuple[str, str]], rules: Rules) -> str | None:
    """Up to four noun-like tokens; the longest run ending in an organisation suffix, or a
    "各…" group ("各区县")."""
    suffixes = tuple(rules.list("org_suffixes"))
    not_owner = set(rules.list("not_owners"))
    taken: list[str] = []
    org = each = None
    for word, tag in words[:4]:
        if word in not_owner or not (tag.startswith(_ORG_TAGS) or word.startswith("各")
                                     or word.endswith(suffixes)):
            break
        taken.append(word)
        joined = "".join(taken)
        if joined.endswith(suffixes):
            org = joined
        elif joined.startswith("各") and len(joined) > 1 and each is None:
            each = joined
    return org or each


def english_owner(said: str, before: str, book: NameBook, rules: Rules) -> str | None:
    """The owner in an English `{owner}` slot, or None for a thing or a pronoun."""
    said = said.strip()
    known = book.canonical(said)
    partner = re.search(r"(?:^|\s)([a-z][a-z'-]*) and $", before)
    if known and partner and book.canonical(partner.group(1)):
        return f"{book.canonical(partner.group(1))}, {known}"  # "john and mary will"
    if known:
        return known
    words = said.split()
    last = words[-1] if words else ""
    if last in set(rules.list("org_suffixes")):  # "the ops team", "IT department": a unit
        unit = words if len(words) == 2 else before.split()[-1:] + words
        if len(unit) == 2 and unit[0] not in set(rules.list("determiners")) \
                and unit[0] not in ("and", "or", "to", "the", "of", "with", "for"):
            return " ".join(w.capitalize() for w in unit)
        return None
    if not last or last in set(rules.list("not_owners")) or len(last) < 2:
        return None
    deadline = rules.table("deadline")
    if any(last in deadline.get(t, {}) for t in ("weekdays", "months", "relative_days")):
        return None  # "Wednesday should work"
    previous = before.split()[-1:] if before.strip() else []
    if previous and previous[0] in set(rules.list("determiners")):
        return None
    if words[0] in set(rules.list("not_owners")):
        words = words[1:]
    return " ".join(w.capitalize() for w in words) or None
