"""Sidecar workers started by `commandpost serve` as child processes (`make run` records
and transcribes out of the box).

Which kinds run is read from the extensions' config sections: a section with
`embedded_worker = true` starts `commandpost worker <kind>` for its kind (SIDECARS). The
children get the same config file and the Redis URL `serve` uses (the private one too),
so they find the token secret in the same data directory. They are stopped (SIGTERM, then
SIGKILL) when `serve` exits, and die with it if it is killed (PR_SET_PDEATHSIG).
A child that exits is started again after a growing pause.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
# config section -> `commandpost worker <kind>`
SIDECARS: dict[str, str] = {"recorder": "recorder", "transcribe": "transcriber"}
STOP_TIMEOUT_S = 15.0
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
_PR_SET_PDEATHSIG = 1


def embedded_kinds(config: Any) -> list[str]:
    """The worker kinds whose section asks for an embedded worker."""
    return [kind for section, kind in SIDECARS.items()
            if getattr(getattr(config, section, None), "embedded_worker", False)]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent (serve) dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: serve still stops its children on a normal exit


@dataclass
class Sidecars:
    """Child worker processes of one `serve`; `start()` then `stop()`."""

    kinds: Sequence[str]
    config_path: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    def command(self, kind: str) -> list[str]:
        cmd = [sys.executable, "-m", "signaling.cli", "worker", kind]
        return cmd + (["--config", self.config_path] if self.config_path else [])

    def _spawn(self, kind: str) -> None:
        env = dict(os.environ) | dict(self.env)
        # Own session: a Ctrl-C in the terminal reaches serve, which stops us in order.
        self.procs[kind] = subprocess.Popen(self.command(kind), env=env,
                                            preexec_fn=_die_with_parent,
                                            start_new_session=True)
        log.info("started sidecar `worker %s` (pid %d)", kind, self.procs[kind].pid)

    def start(self) -> Sidecars:
        for kind in self.kinds:
            self._spawn(kind)
        if self.kinds:
            self._watcher = threading.Thread(target=self._watch, name="sidecars", daemon=True)
            self._watcher.start()
        return self

    def _watch(self) -> None:
        """Restart a child that exited (a blocking wait per poll: a thread, not the loop)."""
        pause = dict.fromkeys(self.kinds, RESTART_MIN_S)
        while not self._stopping.wait(1.0):
            for kind, proc in list(self.procs.items()):
                if proc.poll() is None or self._stopping.is_set():
                    continue
                log.warning("sidecar `worker %s` exited with %s; restarting in %.0f s", kind,
                            proc.returncode, pause[kind])
                if self._stopping.wait(pause[kind]):
                    return
                pause[kind] = min(RESTART_MAX_S, pause[kind] * 2)
                self._spawn(kind)

    def stop(self) -> None:
        self._stopping.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for kind, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("sidecar `worker %s` did not stop; killing it", kind)
                proc.kill()
                proc.wait(timeout=5)
