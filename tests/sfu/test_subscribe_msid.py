"""Every subscribe offer names each m-section with its own a=msid: Chromium refuses a
whole offer that repeats one ("Duplicate a=msid lines detected"), whatever sequence of
joins, leaves, re-publishes, vanished peers, resumes and track views led to it. Also
drop_subscriber, what offer_failed does when a client could not apply an offer."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from sfu import RoomMedia
from sfu import aiortc_bridge as bridge
from sfu_media import EncodedVideoTrack, ToneAudioTrack, encoded_frames
from sfu_peers import Publisher, Subscriber, wait_for


def repeated_msids(sdp: str) -> list[str]:
    counts = Counter(line[len("a=msid:"):].strip() for line in sdp.splitlines()
                     if line.startswith("a=msid:"))
    return [value for value, count in counts.items() if count > 1]


def check_offer(wall: Subscriber, room: RoomMedia, step: str) -> None:
    assert wall.offer is not None
    sdp = wall.offer.sdp
    assert repeated_msids(sdp) == [], f"{step}: repeated a=msid in\n{sdp}"
    labels = {line.split()[-1] for line in sdp.splitlines() if line.startswith("a=msid:")}
    for info in wall.offer.tracks.values():
        track = room.track(info.track_id)
        assert track is None or not track.closed, f"{step}: a closed track was offered"
        assert info.track_id in labels, f"{step}: {info.track_id} offered without its msid"


class Cast:
    """The publishers of one scenario; each sends a tone and VP8."""

    def __init__(self, room: RoomMedia) -> None:
        self.room = room
        self.people: dict[str, Publisher] = {}
        self.cameras: dict[str, object] = {}
        self.count = 0

    async def join(self) -> str:
        self.count += 1
        pid = f"p_{self.count:02d}"
        person = Publisher(self.room, pid)
        person.add(ToneAudioTrack(), "microphone")
        self.cameras[pid] = person.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
        self.people[pid] = person
        await person.publish()
        return pid

    async def leave(self, pid: str) -> None:
        person = self.people.pop(pid)
        await self.room.remove_participant(pid)
        await person.close()

    async def close(self) -> None:
        for person in self.people.values():
            await person.close()


async def test_a_leave_racing_an_offer_does_not_repeat_an_msid(room):
    """A publisher closing while the offer is made: its closed tracks are still in the
    room and used to be slotted into the idle slots of an earlier leaver, leaving their
    own slots inactive with the same labels."""
    cast = Cast(room)
    wall = Subscriber(room, "p_wall")
    try:
        first, second = await cast.join(), await cast.join()
        await wall.sync()
        await cast.leave(first)
        await wall.sync()
        check_offer(wall, room, "after the first leave")
        await asyncio.gather(cast.leave(second), wall.sync())
        check_offer(wall, room, "offer made while the second publisher closed")
        await wall.sync()
        check_offer(wall, room, "next offer")
        assert wall.offer.tracks == {}
        assert wall.offer.sdp.count("a=inactive") == 4
    finally:
        await cast.close()
        await wall.close()


async def run_sequence(room: RoomMedia, rng: random.Random, steps: int) -> list[str]:
    cast = Cast(room)
    wall = Subscriber(room, "p_wall")
    done: list[str] = []
    try:
        for _ in range(steps):
            op = rng.choice(["join", "join", "leave", "race", "unpublish", "vanish",
                             "resume", "view", "sync"])
            pids = sorted(cast.people)
            if op in ("leave", "race", "unpublish", "vanish") and not pids:
                op = "join"
            if op == "join" and len(pids) >= 5:
                op = "leave"
            pid = rng.choice(pids) if pids else ""
            done.append(f"{op} {pid}" if op in ("leave", "race", "unpublish", "vanish") else op)
            if op == "join":
                await cast.join()
            elif op == "leave":
                await cast.leave(pid)
            elif op == "race":  # leave while the wall's offer is being made
                await asyncio.gather(cast.leave(pid), wall.sync())
                check_offer(wall, room, " / ".join(done))
            elif op == "unpublish":  # camera off, or back on (a new track id)
                camera = cast.cameras[pid]
                camera.direction = "inactive" if camera.direction == "sendonly" else "sendonly"
                await cast.people[pid].publish()
            elif op == "vanish":  # the peer goes away without a word; the room notices
                person = cast.people.pop(pid)
                await person.close()
            elif op == "resume":  # the wall's connection is cut; its resume subscribes anew
                await wall.close()
                try:
                    await wait_for(lambda: "p_wall" not in room._subscribers, 3, "the cut")
                except AssertionError:  # never connected (nothing offered): drop it here
                    await room.remove_participant("p_wall")
                wall = Subscriber(room, "p_wall")
            elif op == "view" and room.tracks():
                track = rng.choice(room.tracks())
                room.set_track_view("p_wall", track.track_id, rng.random() < 0.6,
                                    rng.choice([160, 320, 640]), rng.choice([90, 180, 360]))
            await wall.sync()
            check_offer(wall, room, " / ".join(done))
        return done
    finally:
        await cast.close()
        await wall.close()


async def test_random_sequences_never_repeat_an_msid(room):
    for seed in range(3):
        done = await run_sequence(room, random.Random(seed), steps=18)
        assert len(done) == 18
        for pid in [t.participant_id for t in room.tracks()]:
            await room.remove_participant(pid)
        await room.remove_participant("p_wall")


async def test_drop_subscriber_gives_a_new_connection_that_keeps_the_views(room):
    """offer_failed: the next offer comes from a new peer connection (new ICE credentials),
    the client's track views carry over, and media flows on it."""
    cast = Cast(room)
    wall = Subscriber(room, "p_wall")
    again = None
    try:
        pid = await cast.join()
        first = await room.subscribe_offer("p_wall")  # never answered: the client failed
        video = next(t.track_id for t in room.tracks() if t.kind == "video")
        room.set_track_view("p_wall", video, True, 320, 180)
        old = room._subscribers["p_wall"]
        assert await room.drop_subscriber("p_wall") and old.closed
        assert not await room.drop_subscriber("p_wall")
        again = Subscriber(room, "p_wall")
        offer = await again.sync()
        ufrag = [line for line in offer.sdp.splitlines() if line.startswith("a=ice-ufrag:")]
        assert ufrag[0] not in first.sdp.splitlines(), "the new offer needs a new connection"
        down = room.down_tracks("p_wall")[video]
        assert (down.view_width, down.view_height) == (320, 180)
        stream = again.stream(again.mid_of("video"))
        await wait_for(lambda: len(stream.packets) > 10, 5, f"video of {pid} on the new connection")
    finally:
        await cast.close()
        await wall.close()
        if again is not None:
            await again.close()


async def test_an_idle_slot_whose_label_is_taken_is_relabelled(room):
    """Whatever left an idle m-section with a live track's label, the offer stays valid."""
    cast = Cast(room)
    wall = Subscriber(room, "p_wall")
    try:
        first, second = await cast.join(), await cast.join()
        await wall.sync()
        await cast.leave(first)
        await wall.sync()
        subscriber = room._subscribers["p_wall"]
        idle = [s for s in subscriber.slots if s.track is None]
        live = [s for s in subscriber.slots if s.track is not None]
        assert len(idle) == 2 and len(live) == 2
        for a, b in zip(idle, live):  # copy a live label onto an idle slot
            bridge.label_sender(a.transceiver, *bridge.sender_label(b.transceiver))
        await wall.sync()
        check_offer(wall, room, "idle slots labelled like live ones")
        assert {info.participant_id for info in wall.offer.tracks.values()} == {second}
    finally:
        await cast.close()
        await wall.close()
