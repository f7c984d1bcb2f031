"""Per-language minutes rules, read from `rules/<lang>.toml` (data, not code).

A `Rules` object holds the raw tables and the compiled regexes built from them; the detectors
(sentences, decisions, actions, deadlines, keywords, chapters) only read it. Adding a language
means adding a TOML file with the same tables."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcribe.minutes.tokens import Tokenizer

RULES_DIR = Path(__file__).with_name("rules")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class RulesError(ValueError):
    """A rules file is missing or malformed."""


# Other names of the languages that have rules ("cmn-Hans-CN", "Chinese", "english").
ALIASES = {"cmn": "zh", "chinese": "zh", "mandarin": "zh", "zho": "zh", "chi": "zh",
           "english": "en", "eng": "en", "korean": "ko", "kor": "ko"}


class RuleBook:
    """The rules of each language, loaded once per process (holds jieba's dictionary)."""

    def __init__(self, rules_dir: Path = RULES_DIR) -> None:
        self.rules_dir = rules_dir
        self._loaded: dict[str, Rules] = {}

    def get(self, language: str) -> Rules:
        code = language.strip().lower().replace("_", "-")
        base = ALIASES.get(code) or ALIASES.get(code.split("-")[0]) or code.split("-")[0]
        if base not in self._loaded:
            self._loaded[base] = Rules.load(base, self.rules_dir)
        return self._loaded[base]


def available_languages(rules_dir: Path = RULES_DIR) -> list[str]:
    return sorted(p.stem for p in rules_dir.glob("*.toml"))


def alternation(words: Any) -> str:
    """A regex alternation of the words (longest first, so the longest phrase wins)."""
    items = sorted({str(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in items if w) or "(?!)"


def phrase_regex(words: list[str], bounded: bool) -> re.Pattern[str]:
    body = alternation(words)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])" if bounded else f"(?:{body})")


@dataclass
class Rules:
    """The compiled rules of one language."""

    language: str
    data: dict[str, Any]
    # Latin-script languages match whole words; Chinese has no spaces to anchor on.
    bounded: bool = False
    deadline_patterns: list[re.Pattern[str]] = field(default_factory=list)
    tokenizer: Tokenizer = field(default_factory=lambda: Tokenizer("words"))
    stopwords: frozenset[str] = frozenset()

    @classmethod
    def load(cls, language: str, rules_dir: Path = RULES_DIR) -> Rules:
        if not re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?", language):
            raise RulesError(f"bad language code {language[:20]!r}")
        path = rules_dir / f"{language}.toml"
        if not path.is_file():
            raise RulesError(f"no minutes rules for language {language!r} "
                             f"(have: {', '.join(available_languages(rules_dir))})")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"{path.name}: {exc}") from None
        rules = cls(language=language, data=data, bounded=data.get("tokenizer") == "words",
                    tokenizer=Tokenizer(str(data.get("tokenizer", "words")),
                                        tuple(str(w) for w in data.get("org_words", []))))
        rules.stopwords = frozenset(rules.list("keywords", "stopwords"))
        rules.patterns("decision", "cue_patterns")
        rules.patterns("decision", "proposal_patterns")
        rules.patterns("enumeration_patterns")
        rules.patterns("action", "addressee_patterns")
        rules.deadline_patterns = [rules.expand(p["re"]) for p in
                                   data.get("deadline", {}).get("patterns", [])]
        return rules

    def list(self, *path: str) -> list[str]:
        node: Any = self.data
        for key in path:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return [str(x) for x in node] if isinstance(node, list) else []

    def table(self, *path: str) -> dict[str, Any]:
        node: Any = self.data
        for key in path:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def value(self, key: str, default: Any) -> Any:
        return self.data.get(key, default)

    def phrases(self, *path: str) -> re.Pattern[str]:
        return phrase_regex(self.list(*path), self.bounded)

    def patterns(self, *path: str) -> list[re.Pattern[str]]:
        """A list of regexes from the rules (checked when the rules load)."""
        try:
            return [re.compile(p) for p in self.list(*path)]
        except re.error as exc:
            raise RulesError(f"{self.language}: {'.'.join(path)}: {exc}") from None

    def expand(self, pattern: str) -> re.Pattern[str]:
        """Compile a deadline pattern, expanding {vocab} and {snippet} placeholders."""
        text = self._expand_text(pattern, depth=0)
        if self.bounded:
            text = rf"(?<![\w'])(?:{text})(?!\w)"  # "wednesday's" still ends a weekday
        try:
            return re.compile(text)
        except re.error as exc:
            raise RulesError(f"{self.language}: deadline pattern {pattern!r}: {exc}") from None

    def _expand_text(self, pattern: str, depth: int) -> str:
        if depth > 4:
            raise RulesError(f"{self.language}: placeholders nest too deep in {pattern!r}")
        deadline = self.table("deadline")
        snippets = self.table("deadline", "snippets")

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in snippets:
                return "(?:" + self._expand_text(str(snippets[name]), depth + 1) + ")"
            if name in deadline and isinstance(deadline[name], (dict, list)):
                return "(?:" + alternation(deadline[name]) + ")"
            raise RulesError(f"{self.language}: unknown placeholder {{{name}}}")

        return _PLACEHOLDER.sub(one, pattern)
