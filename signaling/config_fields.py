"""Field metadata helpers shared by every config section, ours and the extensions'.

Kept apart from signaling/config.py so that an extension package (recorder/, dispatch/...)
can declare its own section dataclass without importing the loader that imports it.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the problem."""


def bounded(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """Metadata of a number field that must lie in [lo, hi]."""
    return {"min": lo, "max": hi}


def pattern(regex: str, expect: str, secret: bool = False) -> dict[str, Any]:
    """Metadata of a string field that must fully match `regex` (`expect` says how)."""
    return {"pattern": regex, "expect": expect, "secret": secret}


def choices(*allowed: str) -> dict[str, Any]:
    """Metadata of a string (or list of strings) field limited to `allowed`."""
    return {"choices": allowed}
