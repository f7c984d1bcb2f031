"""espeak-ng speech and the SpeechTrack microphone (shared with bench/transcribe_rtf.py)."""

from bench.speech import SpeechTrack, speak

__all__ = ["SpeechTrack", "speak"]
