"""Room ownership in Redis: claim and release are atomic compare-and-set operations."""

from __future__ import annotations

import redis.asyncio as aioredis

from signaling.store import Store, node_key


async def test_release_only_clears_own_claim_even_while_the_room_changes(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    a, b = Store(client, "node-a"), Store(client, "node-b")
    try:
        await a.create_room("r1", "Briefing")
        await client.set(node_key("node-a"), "1", ex=30)
        assert await a.claim_room("r1") == "node-a"
        assert await b.claim_room("r1") == "node-a"  # a live owner keeps the room
        await b.release_room("r1")                    # not b's to release
        assert (await a.get_room("r1")).node == "node-a"
        await a.set_locked("r1", True)                # another field changes in between
        await a.release_room("r1")
        room = await a.get_room("r1")
        assert room.node == "" and room.locked
        assert await b.claim_room("r1") == "node-b"
    finally:
        await client.aclose()
