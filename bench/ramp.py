"""The largest number of subscribers a server carries: a bounded ramp over S that stops at the
first step where loss passes the limit or the server (or the load generator) saturates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.metrics import derive
from bench.runner import measure


def ramp(kind: str, steps: list[int], publishers: int, warmup_s: float, duration_s: float,
         clip_path: Path, workdir: Path, max_loss_pct: float, cpu_limit_cores: float,
         log: Any = print) -> dict[str, Any]:
    points: list[dict[str, Any]] = []
    largest = 0
    stop = "ramp ended (no limit reached)"
    lower_bound = True
    for subscribers in steps:
        result = measure(kind, publishers, subscribers, warmup_s, duration_s, clip_path,
                         workdir / f"ramp-{kind}-{subscribers}")
        if "error" in result:
            points.append({"subscribers": subscribers, "error": result["error"]})
            stop, lower_bound = f"run failed at S={subscribers}: {result['error']}", False
            break
        m = derive(result)
        points.append({"subscribers": subscribers, **m})
        log(f"  ramp {kind} S={subscribers}: loss {m['loss_pct']:.2f}%, server "
            f"{m['server_cpu_cores']:.2f} cores, load generator {m['loadgen_cpu_cores']:.2f}")
        if m["loss_pct"] > max_loss_pct:
            stop, lower_bound = f"loss {m['loss_pct']:.2f}% at S={subscribers}", False
            break
        if m["server_cpu_cores"] >= cpu_limit_cores:
            stop, lower_bound = (f"server CPU {m['server_cpu_cores']:.2f} cores at "
                                 f"S={subscribers}"), False
            break
        largest = subscribers
        if m["loadgen_cpu_cores"] >= cpu_limit_cores:
            stop = (f"load generator saturated ({m['loadgen_cpu_cores']:.2f} cores) at "
                    f"S={subscribers}: the server's limit is higher")
            break
    return {"largest_subscribers": largest, "lower_bound": lower_bound, "stop": stop,
            "points": points}
