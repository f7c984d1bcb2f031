"""The browser client: static pages and ES modules served by the signalling app."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
