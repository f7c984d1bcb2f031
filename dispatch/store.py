"""Entities in Redis: one hash per entity (current state, each field a JSON value), and an
audit entry per change in two streams (global and per entity, same entry id).

A change is one Lua script: it checks the version the writer read, writes the hash, appends
the audit entries and updates the indexes at once, so a change and its audit entry can never
part, and two nodes racing on one entity cannot both win (the loser retries on fresh state).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from dispatch import keys

Doc = dict[str, Any]

_COMMIT = """
local cur = redis.call('HGET', KEYS[1], 'version') or '0'
if cur ~= ARGV[1] then return {0, cur} end
local nh, na, ni = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local i = 5
if nh < 0 then
  redis.call('DEL', KEYS[1])
  nh = 0
elseif nh > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, i, i + nh * 2 - 1))
end
i = i + nh * 2
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, i, i + na * 2 - 1))
redis.call('XADD', KEYS[3], id, unpack(ARGV, i, i + na * 2 - 1))
i = i + na * 2
for j = 0, ni - 1 do
  local op, score, member = ARGV[i + j * 3], ARGV[i + j * 3 + 1], ARGV[i + j * 3 + 2]
  if op == 'zadd' then redis.call('ZADD', KEYS[4 + j], score, member)
  else redis.call('ZREM', KEYS[4 + j], member) end
end
return {1, id}
"""

_AUDIT_ONLY = """
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV))
redis.call('XADD', KEYS[2], id, unpack(ARGV))
return id
"""


class VersionConflict(Exception):
    """Another writer changed the entity since it was read; read again and retry."""


@dataclass
class Change:
    """One change of one entity: its new state (None: deleted) and its audit entry."""

    entity_id: str
    kind: str
    doc: Doc | None
    read_version: int  # the version the writer based this change on (0: new)
    action: str
    by: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)
    index_ops: list[tuple[str, str, float, str]] = field(default_factory=list)


def encode(doc: Doc) -> dict[str, str]:
    return {k: json.dumps(v, ensure_ascii=False) for k, v in doc.items()}


def decode(raw: dict[str, str]) -> Doc:
    return {k: json.loads(v) for k, v in raw.items()}


def audit_json(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    return {"id": entry_id, "at": float(fields["at"]), "by": fields["by"],
            "action": fields["action"], "entity": fields["entity"],
            "entity_id": fields["entity_id"], "version": int(fields["version"]),
            "data": json.loads(fields["data"])}


class EntityStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._commit = client.register_script(_COMMIT)
        self._audit_only = client.register_script(_AUDIT_ONLY)

    async def get(self, entity_id: str) -> Doc | None:
        raw = await self.redis.hgetall(keys.entity(entity_id))
        return decode(raw) if raw else None

    async def get_many(self, ids: list[str]) -> list[Doc]:
        pipe = self.redis.pipeline(transaction=False)
        for entity_id in ids:
            pipe.hgetall(keys.entity(entity_id))
        return [decode(raw) for raw in await pipe.execute() if raw]

    async def ids(self, kind: str, newest_first: bool = True, limit: int = -1,
                  lo: float | str = "-inf", hi: float | str = "+inf") -> list[str]:
        key = keys.index(kind)
        if newest_first:
            return list(await self.redis.zrevrangebyscore(key, hi, lo, start=0, num=limit))
        return list(await self.redis.zrangebyscore(key, lo, hi, start=0, num=limit))

    async def commit(self, change: Change) -> str:
        """Apply `change`; the audit entry id. VersionConflict when the entity moved on."""
        hash_args: list[str] = []
        if change.doc is not None:
            for k, v in encode(change.doc).items():
                hash_args += [k, v]
        version = change.doc["version"] if change.doc is not None else change.read_version + 1
        audit = {"at": repr(change.at), "by": change.by, "action": change.action,
                 "entity": change.kind, "entity_id": change.entity_id,
                 "version": str(version),
                 "data": json.dumps(change.data, ensure_ascii=False)}
        audit_args = [x for kv in audit.items() for x in kv]
        index_keys = [op[1] for op in change.index_ops]
        index_args = [x for op, _, score, member in change.index_ops
                      for x in (op, repr(score), member)]
        n_hash = -1 if change.doc is None else len(hash_args) // 2
        result = await self._commit(
            keys=[keys.entity(change.entity_id), keys.AUDIT,
                  keys.entity_audit(change.entity_id), *index_keys],
            args=[str(change.read_version), str(n_hash), str(len(audit)),
                  str(len(change.index_ops)), *hash_args, *audit_args, *index_args])
        if int(result[0]) != 1:
            raise VersionConflict(change.entity_id)
        return str(result[1])

    async def audit(self, entity_id: str | None, after: str = "-", limit: int = 200
                    ) -> list[dict[str, Any]]:
        key = keys.AUDIT if entity_id is None else keys.entity_audit(entity_id)
        start = "-" if after in ("", "-") else "(" + after
        entries = await self.redis.xrange(key, start, "+", count=limit)
        return [audit_json(entry_id, fields) for entry_id, fields in entries]

    async def commit_audit_only(self, entity_id: str, kind: str, action: str, by: str,
                                at: float, data: dict[str, Any], version: int = 0) -> str:
        """An audit entry for something that changes no entity (a token minted, a reminder
        sent, the clock moved)."""
        audit = {"at": repr(at), "by": by, "action": action, "entity": kind,
                 "entity_id": entity_id, "version": str(version),
                 "data": json.dumps(data, ensure_ascii=False)}
        return str(await self._audit_only(
            keys=[keys.AUDIT, keys.entity_audit(entity_id)],
            args=[x for kv in audit.items() for x in kv]))
