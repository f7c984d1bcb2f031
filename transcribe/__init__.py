"""Live captions, transcripts and meeting minutes, offline with vosk."""
