"""Device feeds into rooms: RTSP pulled with PyAV, RTMP pushed to our own listener, H.264
RTP-packetised without re-encoding, other audio transcoded to Opus, one FeedRunner per
feed (states, retry with backoff). See docs/ARCHITECTURE.md, "Device feeds"."""

from sfu.ingest.runner import FeedRunner, FeedSettings, FeedSpec, FeedStatus

__all__ = ["FeedRunner", "FeedSettings", "FeedSpec", "FeedStatus"]
