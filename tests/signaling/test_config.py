"""Config: the shipped file equals the defaults, strict keys, env overrides, validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from signaling.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_the_defaults() -> None:
    assert load_config(ROOT / "config.toml", env={}) == Config()


def test_every_key_in_shipped_config_is_commented() -> None:
    lines = (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[number - 1].startswith("#"), f"key without comment: {line}"


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nprot = 8080\n')
    with pytest.raises(ConfigError, match=r"unknown key 'prot' in \[server\]"):
        load_config(path, env={})


def test_unknown_section_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[sever]\nport = 8080\n')
    with pytest.raises(ConfigError, match=r"unknown section \[sever\]"):
        load_config(path, env={})


def test_file_values_are_typed_and_checked(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[server]\nport = 9000\n[limits]\n'
                               'presence_timeout_s = 20\n'), env={})
    assert config.server.port == 9000
    assert config.limits.presence_timeout_s == 20.0
    with pytest.raises(ConfigError, match=r"\[server\] port: expected an integer"):
        load_config(write(tmp_path, '[server]\nport = "9000"\n'), env={})
    with pytest.raises(ConfigError, match=r"\[server\] port: 70000 is above the maximum"):
        load_config(write(tmp_path, '[server]\nport = 70000\n'), env={})
    with pytest.raises(ConfigError, match=r"\[limits\] max_m_sections: 0 is below"):
        load_config(write(tmp_path, '[limits]\nmax_m_sections = 0\n'), env={})
    with pytest.raises(ConfigError, match=r"\[log\] level: 'loud' is not one of"):
        load_config(write(tmp_path, '[log]\nlevel = "loud"\n'), env={})
    with pytest.raises(ConfigError, match=r"guest_grants: 'root' is not one of"):
        load_config(write(tmp_path, '[tokens]\nguest_grants = ["join", "root"]\n'), env={})
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, '[server\n'), env={})


def test_secret_must_be_long_and_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[server]\nsecret = "hunter2"\n'), env={})
    assert "at least 16 characters" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_env_overrides_every_type() -> None:
    config = load_config(None, env={
        "COMMANDPOST_SERVER_PORT": "8090",
        "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "127.0.0.1, 10.0.0.5",
        "COMMANDPOST_LIMITS_WS_MESSAGES_PER_SECOND": "2.5",
        "COMMANDPOST_TOKENS_GUEST_GRANTS": "join,subscribe",
        "COMMANDPOST_REDIS_URL": "redis://127.0.0.1:1/0",
        "PATH": "/usr/bin",
    })
    assert config.server.port == 8090
    assert config.sfu.ice_host_addresses == ("127.0.0.1", "10.0.0.5")
    assert config.limits.ws_messages_per_second == 2.5
    assert config.tokens.guest_grants == ("join", "subscribe")
    assert config.redis.url == "redis://127.0.0.1:1/0"


def test_env_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = 9000\n')
    assert load_config(path, env={"COMMANDPOST_SERVER_PORT": "9001"}).server.port == 9001


def test_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="COMMANDPOST_SERVER_PORTT: unknown key 'portt'"):
        load_config(None, env={"COMMANDPOST_SERVER_PORTT": "1"})
    with pytest.raises(ConfigError, match="COMMANDPOST_SERVERS_PORT: no such config section"):
        load_config(None, env={"COMMANDPOST_SERVERS_PORT": "1"})
    with pytest.raises(ConfigError, match="COMMANDPOST_SERVER_PORT: expected an integer, got 'x'"):
        load_config(None, env={"COMMANDPOST_SERVER_PORT": "x"})
    with pytest.raises(ConfigError, match="COMMANDPOST_LIMITS_JOIN_TIMEOUT_S: 0.0 is below"):
        load_config(None, env={"COMMANDPOST_LIMITS_JOIN_TIMEOUT_S": "0"})
    with pytest.raises(ConfigError, match="'localhost' is not an IP address"):
        load_config(None, env={"COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "localhost"})


def test_base_url_defaults_to_host_and_port() -> None:
    assert Config().server.base_url == "http://127.0.0.1:8080"
    config = load_config(None, env={"COMMANDPOST_SERVER_PUBLIC_URL": "https://meet.example/"})
    assert config.server.base_url == "https://meet.example"
    with pytest.raises(ConfigError, match="PUBLIC_URL.*http"):
        load_config(None, env={"COMMANDPOST_SERVER_PUBLIC_URL": "meet.example"})


def test_bandwidth_estimate_range_must_be_ordered() -> None:
    with pytest.raises(ConfigError, match=r"bwe_min_bps <= bwe_start_bps <= bwe_max_bps, "
                                          r"got 50000, 20000, 20000000"):
        load_config(None, {"COMMANDPOST_SFU_BWE_START_BPS": "20000"})
    with pytest.raises(ConfigError, match=r"BWE_MAX_BPS: 5000 is below the minimum"):
        load_config(None, {"COMMANDPOST_SFU_BWE_MAX_BPS": "5000"})


def test_workers_zero_means_every_usable_core() -> None:
    assert load_config(env={}).server.workers == 0
    assert load_config(env={}).server.worker_count == len(os.sched_getaffinity(0))
    assert load_config(env={"COMMANDPOST_SERVER_WORKERS": "3"}).server.worker_count == 3
    with pytest.raises(ConfigError, match="COMMANDPOST_SERVER_WORKERS: -1 is below"):
        load_config(env={"COMMANDPOST_SERVER_WORKERS": "-1"})


def test_feeds_rtmp_port_range_must_not_be_reversed() -> None:
    with pytest.raises(ConfigError, match=r"rtmp_port_min \(20000\) is above rtmp_port_max"):
        load_config(None, env={"COMMANDPOST_FEEDS_RTMP_PORT_MIN": "20000",
                               "COMMANDPOST_FEEDS_RTMP_PORT_MAX": "19999"})
