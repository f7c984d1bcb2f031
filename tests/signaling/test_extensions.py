"""The extension registration point: loading, schemas, and hooks that fail safely."""

from __future__ import annotations

import logging

import pytest

from signaling import messages
from signaling.errors import SignalingError
from signaling.extensions import EXTENSION_MODULES, Extension, Extensions, WsMessage, \
    load_extensions


async def _noop(ctx: object, msg: dict) -> None:
    return None


def test_every_capability_package_registers_one_extension() -> None:
    names = [ext.name for ext in load_extensions()]
    assert names == ["recorder", "transcribe", "whiteboard", "dispatch"]
    assert len(EXTENSION_MODULES) == 4


def test_a_module_without_an_extension_is_an_error_at_start_up() -> None:
    with pytest.raises(TypeError, match="signaling.config_fields.EXTENSION must be"):
        load_extensions(["signaling.config_fields"])
    with pytest.raises(ModuleNotFoundError):
        load_extensions(["no_such_package.extension"])


def test_extension_messages_are_validated_like_core_ones() -> None:
    ext = Extension(name="t", ws_messages={"t_draw": WsMessage(
        schema={"points": ((list,), True), "color": ((str,), False)}, handle=_noop)})
    schemas = Extensions((ext,)).schemas()
    ok = messages.validate({"type": "t_draw", "points": [1, 2], "junk": 1}, schemas)
    assert ok == {"type": "t_draw", "points": [1, 2]}
    with pytest.raises(SignalingError, match="t_draw: field 'points' must be an array"):
        messages.validate({"type": "t_draw", "points": "x"}, schemas)
    with pytest.raises(SignalingError, match="unknown message type 't_draw'"):
        messages.validate({"type": "t_draw", "points": []})
    # A core type keeps its own schema even if an extension names it too.
    assert messages.validate({"type": "leave"}, {"leave": {"x": ((str,), True)}}) == \
        {"type": "leave"}


async def test_a_failing_hook_is_logged_and_the_others_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def broken(node: object) -> None:
        raise RuntimeError("boom")

    async def fine(node: object) -> None:
        calls.append("fine")

    exts = Extensions((Extension(name="a", on_node_start=broken),
                       Extension(name="b", on_node_start=fine)))
    with caplog.at_level(logging.ERROR, logger="signaling.extensions"):
        await exts.node_started(object())  # type: ignore[arg-type]
    assert calls == ["fine"]
    assert "a: node start failed" in caplog.text


async def test_member_hooks_run_side_by_side() -> None:
    """A hook that waits (a Redis round trip) does not hold back another extension's."""
    import asyncio
    import types

    order: list[str] = []
    release = asyncio.Event()

    async def slow(room: object, member: object, reason: str) -> None:
        await release.wait()
        order.append("slow")

    async def quick(room: object, member: object, reason: str) -> None:
        order.append("quick")

    exts = Extensions((Extension(name="a", on_member_leave=slow),
                       Extension(name="b", on_member_leave=quick)))
    member = types.SimpleNamespace(id="p_000000000001")
    task = asyncio.create_task(exts.member_left(object(), member, "left"))  # type: ignore[arg-type]
    for _ in range(5):  # a few loop turns, no waiting on time
        await asyncio.sleep(0)
    assert order == ["quick"]
    release.set()
    await task
    assert order == ["quick", "slow"]
