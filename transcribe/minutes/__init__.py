"""Meeting minutes from a transcript, offline: sentences, decisions, action items with owner
and deadline, summary, keywords and chapters. Language rules are data (rules/<lang>.toml).

Entry point: `transcribe.minutes.build.build_minutes(transcript, rules)`."""
