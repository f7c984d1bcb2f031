"""Media through a real coturn (Debian's turnserver) with Chromium forced to relay-only ICE.

The server hands out TURN REST credentials in `joined`; the browser allocates a relay on
coturn (127.0.0.1) and reaches the SFU's host candidate 127.0.0.1 through it, which coturn
only allows with `allow-loopback-peers`. Nothing is mocked: a wrong shared secret must fail.
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TURN_SECRET = "coturn-test-secret-4f1c"


@dataclass
class Coturn:
    port: int
    secret: str
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def coturn_config(port: int, workdir: Path, secret: str) -> str:
    low = random.randrange(50000, 64000, 100)  # a small relay range, unlikely to collide
    return "\n".join([
        f"listening-port={port}", "listening-ip=127.0.0.1", "relay-ip=127.0.0.1",
        f"min-port={low}", f"max-port={low + 49}",
        "use-auth-secret", f"static-auth-secret={secret}", "realm=commandpost.test",
        # coturn refuses relaying to loopback by default; the SFU is on 127.0.0.1 here.
        "allow-loopback-peers",
        "no-tls", "no-dtls", "no-cli", "fingerprint", "no-multicast-peers",
        f"pidfile={workdir / 'turnserver.pid'}", f"log-file={workdir / 'turnserver.log'}",
        "simple-log", "verbose", "",
    ])


def free_port() -> int:
    """A port free for both TCP and UDP on loopback (coturn listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    if binary is None:
        raise RuntimeError("turnserver not found: run `make test`, which installs Debian's coturn")
    workdir = tmp_path / "coturn"
    workdir.mkdir()
    port = free_port()
    conf = workdir / "turnserver.conf"
    conf.write_text(coturn_config(port, workdir, TURN_SECRET))
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    server = Coturn(port, TURN_SECRET, proc, workdir / "turnserver.log")
    try:
        wait_listening(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def wait_listening(server: Coturn, timeout_s: float = 10) -> None:
    """coturn listens on TCP and UDP on the same port; TCP is the one we can probe."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"turnserver did not start:\n{server.log()[-3000:]}")
            time.sleep(0.05)


# The selected candidate pair of a connection and the type of its local candidate.
SELECTED_LOCAL_TYPE = """async (which) => {
  const pc = which === "publish" ? commandpost.publishPc : commandpost.subscribePc;
  if (!pc) return null;
  const stats = await pc.getStats();
  let pairId = null;
  stats.forEach((r) => { if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId; });
  const pair = pairId && stats.get(pairId);
  if (!pair || pair.state !== "succeeded") return null;
  const local = stats.get(pair.localCandidateId);
  return { type: local.candidateType, relayProtocol: local.relayProtocol || null,
           remote: stats.get(pair.remoteCandidateId).address };
}"""

LOCAL_CANDIDATE_TYPES = """async () => {
  const types = [];
  for (const pc of [commandpost.publishPc, commandpost.subscribePc]) {
    if (!pc) continue;
    (await pc.getStats()).forEach((r) => { if (r.type === "local-candidate") types.push(r.candidateType); });
  }
  return types;
}"""


def join_relay_only(people_list, url: str) -> dict[str, str]:
    for person in people_list:
        person.open(url)
        person.page.fill("#name", person.name)
    for person in people_list:
        person.page.click("#join-button")
    return {p.name: p.wait_until("commandpost.state === 'joined' && commandpost.participantId",
                                 "joined", 15) for p in people_list}


def frames_from(person, pid: str) -> float:
    return person.media_by_sender().get(pid, {}).get("frames", 0)


def test_relay_only_media_through_coturn(coturn, start_commandpost, redis_url, people):
    server = start_commandpost(redis_url, {"COMMANDPOST_TURN_URLS": coturn.url,
                                           "COMMANDPOST_TURN_SECRET": coturn.secret})
    room = server.create_room("Relay only")
    pair = [people("Alice"), people("Bob")]
    ids = join_relay_only(pair, room["join_url"] + "?relay=1")
    for person in pair:
        assert person.js("(() => commandpost.publishPc.getConfiguration().iceTransportPolicy)()") == "relay"
        other = ids["Bob" if person.name == "Alice" else "Alice"]
        person.wait_for(lambda: frames_from(person, other) > 0, f"video from {other} via TURN", 25)
        for which in ("publish", "subscribe"):
            selected = person.wait_until(SELECTED_LOCAL_TYPE, f"{which} pair selected", 10, which)
            assert selected["type"] == "relay", (which, selected)
            assert selected["remote"] == "127.0.0.1", (which, selected)
        assert set(person.js(LOCAL_CANDIDATE_TYPES)) == {"relay"}
    for person in pair:  # frames keep coming through the relay
        other = ids["Bob" if person.name == "Alice" else "Alice"]
        before = frames_from(person, other)
        person.wait_for(lambda: frames_from(person, other) > before + 10, "frames still rising", 10)
    log = coturn.log()
    for pid in ids.values():  # coturn accepted the credential the server made for each of them
        assert re.search(rf"user <\d+:{pid}>: incoming packet ALLOCATE processed, success", log), \
            log[-3000:]


def test_wrong_turn_secret_gets_no_media_but_keeps_the_session(coturn, start_commandpost,
                                                                  redis_url, people):
    server = start_commandpost(redis_url, {"COMMANDPOST_TURN_URLS": coturn.url,
                                           "COMMANDPOST_TURN_SECRET": "not-the-coturn-secret"})
    room = server.create_room("Wrong secret")
    pair = [people("Alice"), people("Bob")]
    ids = join_relay_only(pair, room["join_url"] + "?relay=1")
    for pid in ids.values():  # coturn saw each credential and refused it
        pair[0].wait_for(lambda: re.search(rf"user <\d+:{pid}>: .* error 401", coturn.log()),
                         f"coturn refusing {pid}", 15)
    time.sleep(3)  # media would have flowed by now had the relay worked
    for person in pair:
        other = ids["Bob" if person.name == "Alice" else "Alice"]
        assert "relay" not in person.js(LOCAL_CANDIDATE_TYPES)
        assert frames_from(person, other) == 0
        # Signalling is unaffected: still in the room, and the other one is listed.
        assert person.js("commandpost.state") in ("joined", "reconnecting")
        names = {t["name"] for t in person.tiles()}
        assert names == {"Alice", "Bob"}, names
    assert "ALLOCATE processed, success" not in coturn.log()
