"""Statistics: tasks per unit (from the task states) and supervision per department (from
the audit log only, so every figure lists the entries it came from)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from dispatch import flow
from dispatch.service import Dispatch
from dispatch.store import Doc
from dispatch.validate import bad

DEFAULT_PERIOD_S = 30 * 86400


def percentiles(values: list[float]) -> dict[str, Any]:
    """n, p50, p90 by the nearest-rank method (None when empty)."""
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        if not ordered:
            return None
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
    return {"n": len(ordered), "p50": rank(50), "p90": rank(90)}


async def period(svc: Dispatch, query: dict[str, str]) -> tuple[float, float]:
    def num(name: str) -> float | None:
        value = query.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise bad(f"'{name}' must be a number (Unix seconds)") from None
    now = await svc.clock.now()
    end = num("to") or now + 1
    start = num("from")
    return (end - DEFAULT_PERIOD_S if start is None else start), end


async def task_stats(svc: Dispatch, query: dict[str, str]) -> dict[str, Any]:
    start, end = await period(svc, query)
    units = {u["unit_id"]: u for u in await svc.store.get_many(await svc.store.ids("unit"))}
    tasks = await svc.store.get_many(await svc.store.ids("task", lo=start, hi=f"({end}"))
    per: dict[str, list[Doc]] = defaultdict(list)
    for task in tasks:
        per[task["assignee"]["unit_id"]].append(task)
    rows = []
    for unit_id, unit in sorted(units.items(), key=lambda kv: kv[1]["name"]):
        mine = per.get(unit_id, [])
        ack = [t["acknowledged_at"] - t["dispatched_at"] for t in mine if t["acknowledged_at"]]
        res = [t["resolved_at"] - t["dispatched_at"] for t in mine if t["resolved_at"]]
        rows.append({"unit_id": unit_id, "name": unit["name"], "tasks": len(mine),
                     "open": sum(t["status"] in flow.OPEN for t in mine),
                     "overdue": sum(bool(t["overdue"]) and t["status"] in flow.OPEN
                                    for t in mine),
                     "rejected": sum(t["status"] == "rejected" for t in mine),
                     "closed": sum(t["status"] == "closed" for t in mine),
                     "time_to_acknowledge_s": percentiles(ack),
                     "time_to_resolve_s": percentiles(res)})
    return {"from": start, "to": end, "units": rows,
            "totals": {k: sum(r[k] for r in rows) for k in ("tasks", "open", "overdue")}}


async def supervision_stats(svc: Dispatch, query: dict[str, str]) -> dict[str, Any]:
    """Per department, from each item's audit stream: issued, acknowledged, returned,
    accepted entries."""
    start, end = await period(svc, query)
    units = {u["unit_id"]: u for u in await svc.store.get_many(await svc.store.ids("unit"))}
    item_ids = await svc.store.ids("supervision", newest_first=False, lo=start, hi=f"({end}")
    per: dict[str, dict[str, Any]] = {}
    for item_id in item_ids:
        entries = await svc.store.audit(item_id, limit=10000)
        issued = next((e for e in entries if e["action"] == "supervision.issued"), None)
        if issued is None:
            continue
        unit_id = issued["data"]["unit_id"]
        row = per.setdefault(unit_id, _empty_row(unit_id, units.get(unit_id, {})))
        row["items"] += 1
        row["_issued"].append(issued["id"])
        ack = next((e for e in entries if e["action"] == "supervision.acknowledged"), None)
        if ack is not None:
            row["_ack"].append((ack["at"] - issued["at"], [issued["id"], ack["id"]]))
        returns = [e for e in entries if e["action"] == "supervision.returned"]
        if returns:
            row["_returned"].append([issued["id"]] + [e["id"] for e in returns])
        done = next((e for e in entries if e["action"] == "supervision.accepted"), None)
        if done is not None:
            row["closed"] += 1
            on_time = done["at"] <= issued["data"]["deadline"]
            row["_closed"].append((on_time, [issued["id"], done["id"]]))
            row["_resolve"].append((done["at"] - issued["at"], [issued["id"], done["id"]]))
    return {"from": start, "to": end,
            "units": [_finish(row) for row in sorted(per.values(), key=lambda r: r["name"])]}


def _empty_row(unit_id: str, unit: Doc) -> dict[str, Any]:
    return {"unit_id": unit_id, "name": unit.get("name", ""), "items": 0, "closed": 0,
            "_issued": [], "_ack": [], "_returned": [], "_closed": [], "_resolve": []}


def _timed(pairs: list[tuple[float, list[str]]]) -> dict[str, Any]:
    return percentiles([p[0] for p in pairs]) | {
        "entries": [entry for _, ids in pairs for entry in ids]}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    closed = row.pop("_closed")
    on_time = [ids for ok, ids in closed if ok]
    returned = row.pop("_returned")
    issued = row.pop("_issued")
    row["on_time_rate"] = {"value": round(len(on_time) / len(closed), 3) if closed else None,
                           "on_time": len(on_time), "closed": len(closed),
                           "entries": [e for _, ids in closed for e in ids]}
    row["rework_rate"] = {"value": round(len(returned) / row["items"], 3) if row["items"]
                          else None, "returned_items": len(returned), "items": row["items"],
                          "entries": issued + [e for ids in returned for e in ids[1:]]}
    row["time_to_acknowledge_s"] = _timed(row.pop("_ack"))
    row["time_to_resolve_s"] = _timed(row.pop("_resolve"))
    return row
