"""`python -m bench --simulcast`: the option's refusals, and one bounded smoke run against a
real CommandPost (real redis-server, aiortc peers, ffmpeg-encoded layers). Speed is not
asserted here: only that layers arrive, switch and are reported."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from bench import cli
from bench.servers import SERVERS


@pytest.mark.parametrize("servers, why", [
    ("commandpost,janus", "Janus needs its own simulcast configuration"),
    ("relay", "the naive relay has no simulcast"),
])
def test_simulcast_refuses_other_servers(servers: str, why: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(["--simulcast", "--servers", servers])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--simulcast measures CommandPost only" in err and why in err


def test_simulcast_defaults_to_commandpost_and_the_default_load_is_unchanged() -> None:
    assert cli.parse_args(["--simulcast"]).server_list == ["commandpost"]
    default = cli.parse_args([])
    assert default.server_list == list(SERVERS) and not default.simulcast


def test_simulcast_quick_run_reports_layers_and_switches(tmp_path: Path) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = cli.main(["--simulcast", "--quick", "--out", str(tmp_path)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    written = list(tmp_path.glob("*-simulcast-quick.json"))
    assert code == 0 and len(written) == 1
    document = json.loads(written[0].read_text())
    assert document["simulcast"] is True and list(document["summary"]) == ["commandpost"]
    summary = document["summary"]["commandpost"]
    assert summary["simulcast"] is True and "sequence-gap" in summary["loss_measure"]
    assert summary["loss_pct"] == summary["downstream_gap_loss_pct"]
    # Two subscribers start on different tiles and change them every 2 s.
    assert summary["layer_switches"] >= 1
    sizes = {size for size, pps in summary["layer_packets_per_s"].items() if pps > 0}
    assert len(sizes & {"320x180", "640x360", "1280x720"}) >= 2
    raw = document["runs"]["commandpost"][0]["raw"]
    assert {rid for rid, layer in raw["publisher_layers"].items()
            if layer["sent_in_window"] > 0} == {"q", "h", "f"}
    assert raw["match_ratio"] > 0.9  # payloads matched despite picture-id rewriting
