"""SFU settings: one frozen object, built by the signalling config, checked on creation."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SfuSettings:
    """Limits and network options of the media plane.

    ice_host_addresses: addresses ICE binds to; empty means every non-loopback interface.
    ice_public_addresses: 1:1 NAT addresses advertised with the same ports as host candidates.
    """

    ice_host_addresses: tuple[str, ...] = ()
    ice_public_addresses: tuple[str, ...] = ()
    keyframe_min_interval_s: float = 1.0
    packet_history_ms: int = 1000
    max_sdp_bytes: int = 65536
    max_m_sections: int = 16
    # Downlink estimate per subscriber (sfu/bandwidth_estimator.py), bits per second.
    bwe_start_bps: int = 1_000_000
    bwe_min_bps: int = 50_000
    bwe_max_bps: int = 20_000_000
    layer_idle_s: float = 4.0  # a simulcast layer nobody wanted this long is switched off
    native_send: bool = True  # forwarded copies leave through sfu/_fastsend.c when built

    def __post_init__(self) -> None:
        for name in ("ice_host_addresses", "ice_public_addresses"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ValueError(f"{name} must be a list of IP addresses")
            for address in value:
                _check_ip(name, address)
            object.__setattr__(self, name, tuple(value))
        if not self.keyframe_min_interval_s > 0:
            raise ValueError("keyframe_min_interval_s must be > 0")
        if self.packet_history_ms < 1000:
            raise ValueError(f"packet_history_ms is {self.packet_history_ms}, minimum is 1000")
        if self.max_sdp_bytes < 1024:
            raise ValueError(f"max_sdp_bytes is {self.max_sdp_bytes}, minimum is 1024")
        if not 10_000 <= self.bwe_min_bps <= self.bwe_start_bps <= self.bwe_max_bps:
            raise ValueError("need 10000 <= bwe_min_bps <= bwe_start_bps <= bwe_max_bps, got "
                             f"{self.bwe_min_bps}, {self.bwe_start_bps}, {self.bwe_max_bps}")
        if not self.layer_idle_s > 0:
            raise ValueError("layer_idle_s must be > 0")
        if self.max_m_sections < 1:
            raise ValueError(f"max_m_sections is {self.max_m_sections}, minimum is 1")


def _check_ip(name: str, address: object) -> None:
    try:
        ipaddress.ip_address(address)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{name}: {address!r} is not an IP address") from None
