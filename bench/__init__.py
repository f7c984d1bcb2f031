"""CommandPost benchmark (`make bench` = `python -m bench`): the same load against CommandPost,
Janus VideoRoom and a naive aiortc MediaRelay server. See docs/PERFORMANCE.md."""
