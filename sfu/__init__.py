"""CommandPost SFU: forwards RTP between peers without transcoding.

Only the sfu/aiortc_bridge/ package touches aiortc internals; see docs/ARCHITECTURE.md.
"""

from sfu.errors import SdpError, UnknownTrackError
from sfu.room import RoomMedia
from sfu.settings import SfuSettings
from sfu.tracks import SubscribeOffer, TrackInfo, TrackView

__all__ = ["RoomMedia", "SdpError", "SfuSettings", "SubscribeOffer", "TrackInfo",
           "TrackView", "UnknownTrackError"]
