"""Write a batch of validated events to a stream, all or nothing, with producer idempotency.

One Lua script does the whole batch: Redis runs a script atomically, so a batch is either
entirely in the stream or not at all, and several writers (gateway processes, the Asterisk
adapter) agree on which producer `id`s were already written. The `#!lua` shebang makes the
server refuse the whole script up front when it is out of memory, instead of failing half-way.

An event with an `id` first looks up `<prefix><stream>:<id>`; when present it is a duplicate
and the answer is the stream ID it was written under. Otherwise it is XADDed and the key is set
to its stream ID for the window. Automatic client retries are off: a retried script could write
the events without an `id` twice; a producer retrying after a lost answer should send `id`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from feeds.connect import async_client as connect_async
from wallboard.core.events import COMPLAINT_FIELDS, COMPLAINT_TYPES, STRING_FIELDS

DEFAULT_ID_PREFIX: Final = "wallboard:ingest:id:"

# KEYS[1] = stream, KEYS[2..] = one idempotency key per event that has an `id`, in order.
# ARGV[1] = window ms, ARGV[2] = event count, then per event: has-key flag, field count,
# names and values. Answer: one string per event, its stream ID, prefixed "=" for a duplicate.
BATCH_SCRIPT: Final = """#!lua
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. kind .. ', not a stream')
end
local window = ARGV[1]
local out = {}
local a = 3
local k = 2
for i = 1, tonumber(ARGV[2]) do
  local keyed = ARGV[a] == '1'
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  local old = false
  if keyed then old = redis.call('GET', KEYS[k]) end
  if old then
    out[i] = '=' .. old
  else
    local fields = {}
    for j = 1, 2 * n do fields[j] = ARGV[a + j - 1] end
    local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
    if keyed then redis.call('SET', KEYS[k], id, 'PX', window) end
    out[i] = id
  end
  a = a + 2 * n
  if keyed then k = k + 1 end
end
return out
"""


class Written(NamedTuple):
    """The stream ID of one event, and whether it had been written before (same `id`)."""

    entry_id: str
    duplicate: bool


def stream_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """The contract's fields of a validated object, as the flat strings a stream holds.
    Unknown fields and `_id` (a file's entry ID) are not written."""
    out: dict[str, str] = {}
    for name in STRING_FIELDS:
        if name == "_id":
            continue
        raw = fields.get(name)
        if raw is None:
            continue
        # Same text as decode() validated: repr() of a float, str() of an int.
        out[name] = raw if isinstance(raw, str) else repr(raw) if isinstance(raw, float) else (
            str(raw))
    if fields.get("type") in COMPLAINT_TYPES:  # their own fields; `key` a JSON boolean here
        for name in COMPLAINT_FIELDS:
            raw = fields.get(name)
            if isinstance(raw, bool):
                out[name] = "true" if raw else "false"
            elif isinstance(raw, str):
                out[name] = raw
    return out


def script_args(stream: str, batch: Sequence[Mapping[str, str]], window_ms: int,
                prefix: str) -> tuple[list[str], list[str]]:  # fmt: skip
    keys = [stream]
    args: list[str] = [str(max(1, window_ms)), str(len(batch))]
    for fields in batch:
        key = fields.get("id")
        if key:
            keys.append(f"{prefix}{stream}:{key}")
        args.append("1" if key else "0")
        args.append(str(len(fields)))
        for name, value in fields.items():
            args.append(name)
            args.append(value)
    return keys, args


def parse_answer(answer: object) -> list[Written]:
    items: list[str] = list(answer)  # type: ignore[call-overload]
    return [Written(item[1:], True) if item.startswith("=") else Written(item, False)
            for item in items]  # fmt: skip


def async_client(url: str, timeout_s: float) -> redis.asyncio.Redis:
    return connect_async(
        url, decode_responses=True, socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
    )  # fmt: skip


class AsyncBatchWriter:
    """The gateway's writer (redis.asyncio)."""

    def __init__(self, client: redis.asyncio.Redis, stream: str, window_ms: int,
                 prefix: str = DEFAULT_ID_PREFIX) -> None:  # fmt: skip
        self.client = client
        self.stream = stream
        self.window_ms = window_ms
        self.prefix = prefix
        self._script = client.register_script(BATCH_SCRIPT)

    async def write(self, batch: Sequence[Mapping[str, str]]) -> list[Written]:
        keys, args = script_args(self.stream, batch, self.window_ms, self.prefix)
        return parse_answer(await self._script(keys=keys, args=args))


class BatchWriter:
    """The same for synchronous writers (the Asterisk adapter)."""

    def __init__(self, client: redis.Redis, stream: str, window_ms: int,
                 prefix: str = DEFAULT_ID_PREFIX) -> None:  # fmt: skip
        self.client = client
        self.stream = stream
        self.window_ms = window_ms
        self.prefix = prefix
        self._script = client.register_script(BATCH_SCRIPT)

    def write(self, batch: Sequence[Mapping[str, str]]) -> list[Written]:
        if not batch:
            return []
        keys, args = script_args(self.stream, batch, self.window_ms, self.prefix)
        return parse_answer(self._script(keys=keys, args=args))
