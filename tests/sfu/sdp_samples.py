"""A Chrome-shaped publish offer (audio + VP8/H.264 video) for SDP tests."""

FINGERPRINT = ":".join(["AB"] * 32)

CHROME_OFFER = "\r\n".join([
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS stream1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 110",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
    "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendonly",
    "a=msid:stream1 audiotrack",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:111 opus/48000/2",
    "a=rtcp-fb:111 transport-cc",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=fmtp:63 111/111",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:110 telephone-event/48000",
    "a=ssrc:1001 cname:abc",
    "a=ssrc:1001 msid:stream1 audiotrack",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=ice-options:trickle",
    f"a=fingerprint:sha-256 {FINGERPRINT}",
    "a=setup:actpass",
    "a=mid:1",
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:13 urn:3gpp:video-orientation",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendonly",
    "a=msid:stream1 videotrack",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:102 H264/90000",
    "a=rtcp-fb:102 nack",
    "a=rtcp-fb:102 nack pli",
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=102",
    "a=ssrc-group:FID 2001 2002",
    "a=ssrc:2001 cname:abc",
    "a=ssrc:2001 msid:stream1 videotrack",
    "a=ssrc:2002 cname:abc",
    "a=ssrc:2002 msid:stream1 videotrack",
]) + "\r\n"


def mutate(old: str, new: str | None, sdp: str = CHROME_OFFER) -> tuple[str, int]:
    """Replace (or, with None, remove) the first line equal to `old`; return the SDP
    and the 1-based number of that line."""
    lines = sdp.split("\r\n")
    index = lines.index(old)
    if new is None:
        del lines[index]
    else:
        lines[index] = new
    return "\r\n".join(lines), index + 1


def remove_all(prefix: str, sdp: str = CHROME_OFFER) -> str:
    return "\r\n".join(line for line in sdp.split("\r\n") if not line.startswith(prefix))
