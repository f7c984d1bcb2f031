"""Real media tools for tests: clips made by ffmpeg, a GStreamer RTSP camera, RTMP pushes."""
