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
            **marginal_cost(points), "points": points}


def marginal_cost(points: list[dict[str, Any]]) -> dict[str, float | None]:
    """Least-squares line through (forwarded packets/s, server cores) of the ramp: the slope
    is the CPU each extra forwarded packet costs, the intercept what the server burns with
    the publishers connected but nobody to forward to (timers, RTCP, heartbeats)."""
    good = [(p["forwarded_pps"], p["server_cpu_cores"]) for p in points
            if "error" not in p and p["loss_pct"] <= 1.0]
    if len(good) < 3:
        return {"marginal_cpu_ms_per_1000": None, "fixed_cpu_cores": None}
    n = len(good)
    mean_x = sum(x for x, _ in good) / n
    mean_y = sum(y for _, y in good) / n
    var = sum((x - mean_x) ** 2 for x, _ in good)
    if var == 0:
        return {"marginal_cpu_ms_per_1000": None, "fixed_cpu_cores": None}
    slope = sum((x - mean_x) * (y - mean_y) for x, y in good) / var
    return {"marginal_cpu_ms_per_1000": slope * 1e6, "fixed_cpu_cores": mean_y - slope * mean_x}
