"""What the room logic and the HTTP edges share on one node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signaling.config import Config
from signaling.datadir import NodeIdentity
from signaling.extensions import Extensions
from signaling.shares import ShareStore
from signaling.store import Store


@dataclass(frozen=True)
class Services:
    config: Config
    identity: NodeIdentity
    store: Store
    shares: ShareStore
    sfu_settings: Any  # sfu.SfuSettings
    extensions: Extensions = field(default_factory=Extensions)

    @property
    def node_id(self) -> str:
        return self.identity.node_id
