"""Recording: per-track files without transcoding, composites, chain of custody."""
