"""Device feeds into rooms: demux (PyAV), H.264 RTP packetising, audio to Opus, feed runners.

sfu.ingest.runner imports PyAV; import it explicitly where feeds run."""
