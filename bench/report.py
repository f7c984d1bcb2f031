"""The printed table, the JSON file and the PNG chart of a benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = (
    ("server", "{}", "server"),
    ("cpu_ms_per_1000", "{:.1f}", "CPU ms/1000 pkt"),
    ("vs_janus", "{:.2f}x", "vs Janus"),
    ("forwarded_pps", "{:.0f}", "fwd pkt/s"),
    ("pps_per_core", "{:.0f}", "pkt/s/core"),
    ("loss_pct", "{:.2f}", "loss %"),
    ("latency_p50_ms", "{:.2f}", "p50 ms"),
    ("latency_p99_ms", "{:.2f}", "p99 ms"),
    ("server_cpu_cores", "{:.2f}", "srv cores"),
    ("max_s", "{}", "max S"),
)


def table(summary: dict[str, dict[str, Any]], ratios: dict[str, Any],
          ramps: dict[str, dict[str, Any]]) -> str:
    rows = []
    for server, values in summary.items():
        ramp = ramps.get(server)
        max_s = "-" if ramp is None else (
            f"{'>=' if ramp['lower_bound'] else ''}{ramp['largest_subscribers']}")
        row = {**values, "server": server, "max_s": max_s,
               "vs_janus": ratios.get(server, {}).get("cpu_per_packet_vs_janus")}
        rows.append([_cell(fmt, row.get(key)) for key, fmt, _ in COLUMNS])
    headers = [title for _, _, title in COLUMNS]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    relay = ratios.get("relay_cpu_per_packet_over_commandpost")
    if relay:
        lines.append(f"relay CPU per packet / CommandPost CPU per packet: {relay:.0f}x "
                     "(same load)")
    for server, ramp in ramps.items():
        if ramp.get("marginal_cpu_ms_per_1000") is not None:
            lines.append(f"{server} ramp: {ramp['marginal_cpu_ms_per_1000']:.1f} ms CPU per "
                         f"1000 extra packets + {ramp['fixed_cpu_cores']:.2f} cores fixed; "
                         f"stopped: {ramp['stop']}")
    unloaded = ratios.get("relay_unloaded")
    if unloaded and unloaded.get("over_commandpost"):
        lines.append(f"relay at S={unloaded['subscribers']}: {unloaded['cpu_ms_per_1000']:.0f} "
                     f"ms/1000 pkt, loss {unloaded['loss_pct']:.1f}% = "
                     f"{unloaded['over_commandpost']:.0f}x CommandPost's CPU per packet")
    return "\n".join(lines)


def simulcast_lines(summary: dict[str, dict[str, Any]]) -> str:
    """What the table does not say about a --simulcast run (medians over its runs)."""
    lines = ["simulcast: 3 VP8 layers per publisher; loss % = sequence-gap loss at the "
             "subscribers (no 'sent x S' expectation with layers)"]
    for server, values in summary.items():
        if not values.get("simulcast"):
            continue
        layers = ", ".join(f"{size} {pps:.0f}" for size, pps in
                           values.get("layer_packets_per_s", {}).items())
        switches = _cell("{:.0f}", values.get("layer_switches"))
        per_s = _cell("{:.2f}", values.get("layer_switches_per_s"))
        lines.append(f"{server}: {switches} layer switches seen by the subscribers in the "
                     f"window ({per_s}/s); received packets/s by layer: {layers or '-'}")
    return "\n".join(lines)


def _cell(fmt: str, value: Any) -> str:
    return "-" if value is None else fmt.format(value)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")


def write_chart(path: Path, summary: dict[str, dict[str, Any]],
                ramps: dict[str, dict[str, Any]], title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = list(summary)
    colours = {"commandpost": "#1f77b4", "janus": "#2ca02c", "relay": "#d62728"}
    fig, grid = plt.subplots(2, 2, figsize=(13, 8))
    axes = grid.flatten()
    cpu = [summary[s].get("cpu_ms_per_1000") or 0 for s in servers]
    axes[0].bar(servers, cpu, color=[colours.get(s, "grey") for s in servers])
    axes[0].set_yscale("log")
    axes[0].set_title("server CPU ms per 1000 forwarded packets (log)")
    for x, v in enumerate(cpu):
        axes[0].annotate(f"{v:.1f}", (x, v), ha="center", va="bottom")
    sfus = [s for s in servers if summary[s].get("latency_p50_ms") is not None]
    width = 0.35
    for offset, key in ((-width / 2, "latency_p50_ms"), (width / 2, "latency_p99_ms")):
        axes[1].bar([i + offset for i in range(len(sfus))],
                    [summary[s][key] or 0 for s in sfus], width, label=key.split("_")[1])
    axes[1].set_xticks(range(len(sfus)), sfus)
    axes[1].set_title("added latency, ms (publisher send to kernel arrival)")
    axes[1].legend()
    for server, ramp in ramps.items():
        points = [p for p in ramp["points"] if "error" not in p]
        xs = [p["subscribers"] for p in points]
        colour = colours.get(server, "grey")
        axes[2].plot(xs, [p["server_cpu_cores"] for p in points], marker="o", color=colour,
                     label=f"{server} server")
        axes[2].plot(xs, [p["loadgen_cpu_cores"] for p in points], linestyle=":",
                     color=colour, label=f"load generator ({server} run)")
        axes[3].plot(xs, [p["cpu_ms_per_1000"] for p in points], marker="o", color=colour,
                     label=server)
        for p in points:
            if p["loss_pct"] > 0.1:
                axes[3].annotate(f"{p['loss_pct']:.1f}% loss", (p["subscribers"],
                                 p["cpu_ms_per_1000"]), fontsize=7)
    axes[2].set_title("ramp: CPU cores vs subscribers")
    axes[3].set_title("ramp: CPU ms per 1000 packets vs subscribers (log)")
    axes[3].set_yscale("log")
    for ax in axes[2:]:
        ax.set_xlabel("subscribers")
        if ramps:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "ramp skipped", ha="center", transform=ax.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
