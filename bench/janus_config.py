"""A private Janus configuration: HTTP API on loopback, VideoRoom only, ICE on one local
address (Janus refuses loopback interfaces for ICE: see bench.rtc.janus_address).

Janus loads every plugin in its plugins folder, so the folders we give it hold links to just
the two libraries it needs (Debian package `janus`).
"""

from __future__ import annotations

import glob
from pathlib import Path

JANUS_LIB_GLOBS = ("/usr/lib/*/janus", "/usr/lib/janus", "/usr/local/lib/janus",
                   "/opt/janus/lib/janus")


class JanusNotInstalled(RuntimeError):
    pass


def _library(kind: str, name: str) -> Path:
    for pattern in JANUS_LIB_GLOBS:
        for base in glob.glob(pattern):
            candidate = Path(base) / kind / name
            if candidate.exists():
                return candidate
    raise JanusNotInstalled(f"{name} not found: install Janus (apt-get install janus)")


def write(directory: Path, http_port: int, ice_address: str,
          rtp_ports: tuple[int, int] = (41000, 44999)) -> Path:
    """Write the configuration under `directory`; returns the configs folder."""
    conf, plugins, transports = (directory / n for n in ("conf", "plugins", "transports"))
    for folder in (conf, plugins, transports):
        folder.mkdir(parents=True, exist_ok=True)
    for folder, kind, name in ((plugins, "plugins", "libjanus_videoroom.so"),
                               (transports, "transports", "libjanus_http.so")):
        link = folder / name
        if not link.exists():
            link.symlink_to(_library(kind, name))
    empty = directory / "none"
    empty.mkdir(exist_ok=True)
    # debug_level 3: warnings and errors only, so logging costs Janus nothing under load.
    (conf / "janus.jcfg").write_text(f"""
general: {{
  configs_folder = "{conf}"
  plugins_folder = "{plugins}"
  transports_folder = "{transports}"
  events_folder = "{empty}"
  loggers_folder = "{empty}"
  debug_level = 3
  session_timeout = 120
}}
media: {{
  rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
  ice_enforce_list = "{ice_address}"
  nice_debug = false
}}
plugins: {{}}
transports: {{}}
loggers: {{}}
events: {{}}
""")
    (conf / "janus.transport.http.jcfg").write_text(f"""
general: {{
  json = "compact"
  base_path = "/janus"
  http = true
  port = {http_port}
  ip = "127.0.0.1"
  https = false
}}
admin: {{
  admin_http = false
  admin_https = false
}}
""")
    (conf / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return conf
