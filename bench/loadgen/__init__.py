"""The load generator: a separate process that publishes pre-encoded media and counts what
subscribers receive, never decoding or encoding (so the server is what is measured)."""
