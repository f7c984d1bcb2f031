"""Names of the people in a meeting, and the ways they are called ("Tom", "张伟", "张工",
"小张", "王局长"), so an action item's owner can be matched to an attendee."""

from __future__ import annotations

import re
from collections import defaultdict

from transcribe.minutes.rules import Rules, alternation
from transcribe.minutes.text import has_cjk, normalise


class NameBook:
    """Alias (normalised) -> the attendee's name as listed; ambiguous aliases are dropped."""

    def __init__(self, names: list[str], rules: Rules) -> None:
        self.rules = rules
        self.names = [n for n in dict.fromkeys(n.strip() for n in names) if n and n != "?"]
        found: dict[str, set[str]] = defaultdict(set)
        for name in self.names:
            for alias in self._aliases(name):
                found[alias].add(name)
        self.aliases = {a: next(iter(n)) for a, n in found.items() if len(n) == 1 and a}
        body = alternation(self.aliases)
        bound = (r"(?<![\w'])", r"(?![\w'])") if rules.bounded else ("", "")
        self.pattern = re.compile(bound[0] + f"(?:{body})" + bound[1])
        titles = alternation(t for t in rules.list("name_titles") if len(t) > 1)
        prefixes = alternation(rules.list("name_prefixes"))
        surnames = re.escape(str(rules.value("surnames", "")))
        # Someone not in the list but called by surname and title ("王局长", "小刘").
        self.titled = re.compile(rf"(?:{prefixes})[{surnames}]|[{surnames}](?:{titles})"
                                 if surnames else r"(?!)")

    def _aliases(self, name: str) -> set[str]:
        norm = normalise(name)
        out = {norm}
        if has_cjk(norm) and 2 <= len(norm) <= 4 and " " not in norm:
            surname, given = norm[0], norm[1:]
            out |= {surname + t for t in self.rules.list("name_titles")}
            out |= {p + surname for p in self.rules.list("name_prefixes")}
            if len(given) == 2:
                out.add(given)
        elif not has_cjk(norm):
            parts = norm.split()
            not_owner = set(self.rules.list("not_owners"))
            out |= {p for p in parts if len(p) > 1 and p not in not_owner}
        return out

    def without_names(self, text: str) -> str:
        return self.pattern.sub(" ", text) if self.aliases else text

    def canonical(self, said: str) -> str | None:
        return self.aliases.get(normalise(said))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of every attendee mentioned in a normalised text."""
        if not self.aliases:
            return []
        return [(m.start(), m.end(), self.aliases[m.group(0)])
                for m in self.pattern.finditer(text)]

    def name_ending_at(self, text: str, end: int) -> tuple[int, str] | None:
        """An attendee alias or a titled surname that ends exactly at `end`."""
        for start, stop, name in self.find(text[:end]):
            if stop == end:
                return start, name
        for m in self.titled.finditer(text[:end]):
            if m.end() == end:
                return m.start(), self.canonical(m.group(0)) or m.group(0)
        return None

    def name_starting_at(self, text: str, start: int) -> tuple[int, str] | None:
        for begin, stop, name in self.find(text):
            if begin == start:
                return stop, name
        m = self.titled.match(text, start)
        if m:
            return m.end(), self.canonical(m.group(0)) or m.group(0)
        return None
