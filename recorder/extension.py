"""How recorder/ plugs into signalling (signaling/extensions.py): routes, WS messages, hooks."""

from __future__ import annotations

from signaling.extensions import Extension

EXTENSION = Extension(name="recorder")
