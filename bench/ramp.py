"""The largest number of subscribers a server carries: a bounded ramp over S that stops at the
first step where loss passes the limit or the server (or the load generator) saturates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.metrics import derive
from bench.runner import measure


def ramp(kind: str, steps: list[int], publishers: int, warmup_s: float, duration_s: float,
         clip_path: Path, workdir: Path, max_loss_pct: float, cpu_limit_cores: float,
         log: Any = print, layer_clips: list[Path] | None = None) -> dict[str, Any]:
    points: list[dict[str, Any]] = []
    for subscribers in steps:
        result = measure(kind, publishers, subscribers, warmup_s, duration_s, clip_path,
                         workdir / f"ramp-{kind}-{subscribers}", layer_clips=layer_clips)
        if "error" in result:
            points.append({"subscribers": subscribers, "error": result["error"]})
        else:
            m = derive(result)
            points.append({"subscribers": subscribers, **m})
            log(f"  ramp {kind} S={subscribers}: loss {m['loss_pct']:.2f}%, server "
                f"{m['server_cpu_cores']:.2f} cores, load generator "
                f"{m['loadgen_cpu_cores']:.2f}")
        if judge(points, max_loss_pct, cpu_limit_cores)["stop"] is not None:
            break
    verdict = judge(points, max_loss_pct, cpu_limit_cores)
    return {"largest_subscribers": verdict["largest"], "lower_bound": verdict["lower_bound"],
            "stop": verdict["stop"] or "ramp ended (no limit reached)",
            **marginal_cost(points), "points": points}


def judge(points: list[dict[str, Any]], max_loss_pct: float, cpu_limit_cores: float
          ) -> dict[str, Any]:
    """The largest S that passed, and why the ramp stops (None: go on). A step where the
    load generator itself was saturated says nothing about the server: the answer is then
    a lower bound."""
    largest = 0
    for point in points:
        s = point["subscribers"]
        if "error" in point:
            return {"largest": largest, "lower_bound": False,
                    "stop": f"run failed at S={s}: {point['error']}"}
        loadgen_busy = point["loadgen_cpu_cores"] >= cpu_limit_cores
        if point["loss_pct"] > max_loss_pct:
            if loadgen_busy:
                return {"largest": largest, "lower_bound": True,
                        "stop": f"loss {point['loss_pct']:.2f}% at S={s} with the load "
                                f"generator saturated ({point['loadgen_cpu_cores']:.2f} "
                                "cores): the server's limit is higher"}
            return {"largest": largest, "lower_bound": False,
                    "stop": f"loss {point['loss_pct']:.2f}% at S={s}"}
        if point["server_cpu_cores"] >= cpu_limit_cores:
            return {"largest": largest, "lower_bound": False,
                    "stop": f"server CPU {point['server_cpu_cores']:.2f} cores at S={s}"}
        largest = s
        if loadgen_busy:
            return {"largest": largest, "lower_bound": True,
                    "stop": f"load generator saturated ({point['loadgen_cpu_cores']:.2f} "
                            f"cores) at S={s}: the server's limit is higher"}
    return {"largest": largest, "lower_bound": True, "stop": None}


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
