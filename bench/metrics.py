"""From a load generator result to the numbers we quote, and medians over repeats."""

from __future__ import annotations

import statistics
from typing import Any

# Below this share of arrivals matching a sent payload, the server re-encodes (the relay):
# packets are then counted on arrival and loss is measured in frames.
SFU_MATCH_RATIO = 0.5

METRICS = ("cpu_ms_per_1000", "forwarded_pps", "loss_pct", "latency_p50_ms",
           "latency_p99_ms", "server_cpu_cores", "pps_per_core", "loadgen_cpu_cores",
           "background_cpu_cores")
# --simulcast only (present in its runs' metrics, absent from the single-stream load's).
SIMULCAST_METRICS = ("layer_switches", "layer_switches_per_s", "downstream_gap_loss_pct")
SIMULCAST_LOSS = ("sequence-gap loss at the subscribers: with layers, what a subscriber "
                  "should get depends on the layer it is on, so 'sent x S' is no expected "
                  "count; loss_pct = downstream_gap_loss_pct")


def derive(result: dict[str, Any]) -> dict[str, Any]:
    """Per-run metrics; None where a number cannot be had (e.g. relay latency)."""
    window = result["window_s"]
    subscribers = result["config"]["subscribers"]
    simulcast = bool(result.get("simulcast"))
    forwards = result["match_ratio"] >= SFU_MATCH_RATIO
    if simulcast:
        delivered = result["received_by_arrival"]
        loss = result["seq_gap_loss"]
    elif forwards:
        delivered = result["received_by_send"]
        expected = result["expected_packets"]
        loss = 1 - delivered / expected if expected else 1.0
    else:
        delivered = result["received_by_arrival"]
        sent_frames = result["sent_video_frames"] + result["sent_audio_frames"]
        got_frames = result["received_video_frames"] + result["received_audio_packets"]
        loss = 1 - got_frames / (sent_frames * subscribers) if sent_frames else 1.0
    cpu = result["server_cpu_s"]
    cores = cpu / window
    pps = delivered / window
    extra = {} if not simulcast else {
        "simulcast": True, "layer_switches": result["layer_switches"],
        "layer_switches_per_s": result["layer_switches"] / window,
        "layer_packets_per_s": {size: count / window
                                for size, count in sorted(result["layer_packets"].items())}}
    return {
        **extra,
        "forwards_payloads": forwards,
        "loss_measure": SIMULCAST_LOSS if simulcast else "packets" if forwards else "frames",
        "cpu_ms_per_1000": cpu * 1000 / (delivered / 1000) if delivered else None,
        "forwarded_pps": pps,
        "loss_pct": max(0.0, loss) * 100,
        # Gaps in the sequence numbers subscribers see: loss after the server numbered the
        # packets (server send path, network, load generator), as opposed to packets the
        # server never forwarded.
        "downstream_gap_loss_pct": result["seq_gap_loss"] * 100,
        "udp_rcvbuf_errors": result.get("udp_rcvbuf_errors"),
        "latency_p50_ms": result["latency_p50_ms"] if forwards else None,
        "latency_p99_ms": result["latency_p99_ms"] if forwards else None,
        "server_cpu_cores": cores,
        "pps_per_core": pps / cores if cores > 0 else None,
        "loadgen_cpu_cores": result["loadgen_cpu_s"] / window,
        "background_cpu_cores": result.get("background_cpu_s", 0.0) / window,
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each metric over the runs that produced it."""
    summary: dict[str, Any] = {"runs": len(runs)}
    if any(r.get("simulcast") for r in runs):
        summary["simulcast"] = True
        summary["loss_measure"] = SIMULCAST_LOSS
    names = METRICS + tuple(n for n in SIMULCAST_METRICS if any(r.get("simulcast") for r in runs))
    for name in names:
        values = [r[name] for r in runs if r.get(name) is not None]
        summary[name] = statistics.median(values) if values else None
    if summary.get("simulcast"):
        sizes = sorted({size for r in runs for size in r.get("layer_packets_per_s", {})})
        summary["layer_packets_per_s"] = {
            size: statistics.median(r.get("layer_packets_per_s", {}).get(size, 0.0)
                                    for r in runs) for size in sizes}
    return summary


def ratios(summary: dict[str, dict[str, Any]], base: str = "janus") -> dict[str, Any]:
    """CPU per packet and throughput per core of each server relative to `base`, and how
    many times CommandPost's CPU per packet is below the relay's."""
    out: dict[str, Any] = {}
    reference = summary.get(base, {})
    for server, values in summary.items():
        out[server] = {
            f"cpu_per_packet_vs_{base}": _ratio(values.get("cpu_ms_per_1000"),
                                                reference.get("cpu_ms_per_1000")),
            f"pps_per_core_vs_{base}": _ratio(values.get("pps_per_core"),
                                              reference.get("pps_per_core")),
        }
    cp, relay = summary.get("commandpost", {}), summary.get("relay", {})
    out["relay_cpu_per_packet_over_commandpost"] = _ratio(relay.get("cpu_ms_per_1000"),
                                                          cp.get("cpu_ms_per_1000"))
    return out


def relay_unloaded(ramps: dict[str, Any], summary: dict[str, dict[str, Any]]
                   ) -> dict[str, Any] | None:
    """The relay at its ramp's first step (fewest subscribers): at the main load it drops
    most video frames, and dropped frames cost it nothing, which flatters its CPU per
    packet; this is its cost when it does all the work."""
    points = [p for p in ramps.get("relay", {}).get("points", []) if "error" not in p]
    if not points:
        return None
    first = points[0]
    cp = summary.get("commandpost", {}).get("cpu_ms_per_1000")
    return {"subscribers": first["subscribers"], "cpu_ms_per_1000": first["cpu_ms_per_1000"],
            "loss_pct": first["loss_pct"],
            "over_commandpost": _ratio(first["cpu_ms_per_1000"], cp)}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None
