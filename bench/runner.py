"""One measurement: a fresh server, the load generator in its own process, both ended by PID."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import servers
from bench.loadgen.run import LoadConfig
from bench.procs import Proc

REPO_ROOT = Path(__file__).resolve().parents[1]
# Beyond setup + warm-up + window: closing peers, printing, slack for a loaded machine.
LOADGEN_SLACK_S = 45.0


WindowHook = Callable[[servers.Server], None]


def measure(kind: str, publishers: int, subscribers: int, warmup_s: float, duration_s: float,
            clip_path: Path, workdir: Path, setup_timeout_s: float = 60.0,
            on_window: WindowHook | None = None,
            layer_clips: list[Path] | None = None) -> dict[str, Any]:
    """Returns the load generator's result, or {"error": ...} if the run failed.
    `on_window(server)` is called when the measuring window opens (e.g. to profile).
    `layer_clips` (lowest first): publishers send them as simulcast layers instead."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        server = servers.start(kind, workdir, publishers + subscribers)
    except Exception as exc:  # noqa: BLE001 - a server that cannot start is a result too
        return {"error": f"{kind} did not start: {exc}"}
    try:
        config = LoadConfig(server=kind, base_url=server.base_url, server_pid=server.pid,
                            clip_path=str(clip_path), publishers=publishers,
                            subscribers=subscribers, warmup_s=warmup_s, duration_s=duration_s,
                            setup_timeout_s=setup_timeout_s, secret=server.secret,
                            simulcast=bool(layer_clips),
                            layer_clips=tuple(map(str, layer_clips or ())))
        result = _run_loadgen(config, workdir, lambda: on_window and on_window(server))
        if "error" in result:
            result["server_log_tail"] = server.proc.log_tail(2000)
        return result
    finally:
        server.stop()
        _log(f"    ({kind} P={publishers} S={subscribers}: {time.monotonic() - started:.0f} s)")


def _run_loadgen(config: LoadConfig, workdir: Path,
                 on_window: Callable[[], Any]) -> dict[str, Any]:
    log_path = workdir / f"loadgen-{config.server}-{config.subscribers}.log"
    proc = Proc("loadgen", [sys.executable, "-m", "bench.loadgen", json.dumps(asdict(config))],
                log_path, cwd=REPO_ROOT)
    limit = config.setup_timeout_s + config.warmup_s + config.duration_s + LOADGEN_SLACK_S
    deadline = time.monotonic() + limit
    window_seen = False
    try:
        while proc.alive():
            if time.monotonic() > deadline:
                return {"error": f"load generator exceeded {limit:.0f} s",
                        "log_tail": proc.log_tail()}
            if not window_seen and "WINDOW_OPEN" in proc.log_tail(100_000):
                window_seen = True
                on_window()
            time.sleep(0.1)
    finally:
        proc.stop(timeout_s=5)
    for line in reversed(log_path.read_text(errors="replace").splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
        if line.startswith("ERROR "):
            return {"error": line[len("ERROR "):], "log_tail": proc.log_tail()}
    return {"error": f"load generator exited {proc.popen.returncode} without a result",
            "log_tail": proc.log_tail()}


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
