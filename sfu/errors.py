"""The exceptions the SFU raises to its callers (one file, LiveKit style)."""

from __future__ import annotations


class SdpError(ValueError):
    """A remote SDP was refused; the message says exactly why. Nothing was changed."""


class UnknownTrackError(LookupError):
    """A WHEP play request named a track the room does not have."""
