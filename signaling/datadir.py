"""The node's data directory: a stable node id and the token signing secret."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from signaling.config import Config


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    secret: str
    data_dir: Path


def prepare_data_dir(config: Config) -> NodeIdentity:
    """Create data_dir and fill in node id and secret the config leaves empty (kept on disk)."""
    data_dir = Path(config.server.data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    node_id = config.server.node_id or _read_or_create(
        data_dir / "node_id", lambda: "n_" + secrets.token_hex(6))
    secret = config.server.secret or _read_or_create(
        data_dir / "secret", lambda: secrets.token_urlsafe(32))
    return NodeIdentity(node_id=node_id, secret=secret, data_dir=data_dir)


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    try:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = make()
    # O_EXCL: two processes starting at once must not end up with different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
