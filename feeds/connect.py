"""One place that turns a `--redis` URL into a client (docs/scale.md, "Connecting"):

- `redis://` and `rediss://`: one server, as redis-py reads them;
- `redis+cluster://host:port[,host:port...]`: a Redis (or Valkey) Cluster, any seed nodes;
- `redis+sentinel://host:port[,host:port...]/MASTER_NAME`: the master Sentinel names, found
  again after a failover.

The cluster and Sentinel forms take the usual `user:password@` before the first node (the
data nodes' credentials), `rediss+cluster://` and `rediss+sentinel://` for TLS; a database
number is refused on a cluster (it has one database). Every
client is redis-py's own: `RedisCluster` follows MOVED/ASK and failovers, Sentinel's
`master_for` asks the Sentinels for the master on every reconnect."""

from __future__ import annotations

from typing import Any, Final, Literal, NamedTuple, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

CLUSTER: Final = "redis+cluster"
SENTINEL: Final = "redis+sentinel"
Mode = Literal["server", "cluster", "sentinel"]


class BadRedisUrl(ValueError):
    """A `--redis` URL that names no usable server; the message says which part is wrong."""


class Target(NamedTuple):
    mode: Mode
    url: str  # the server URL (mode "server"), else the URL as given
    nodes: tuple[tuple[str, int], ...]  # seed nodes or Sentinels
    master: str | None  # Sentinel's master name
    username: str | None
    password: str | None
    tls: bool


def _nodes(netloc: str, url: str) -> tuple[tuple[str, int], ...]:
    nodes: list[tuple[str, int]] = []
    for part in netloc.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadRedisUrl(f"{url}: {part.strip() or 'an empty node'!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    return tuple(nodes)


def parse_redis_url(url: str) -> Target:
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        return Target("server", url, (), None, None, None, scheme == "rediss")
    if scheme not in (CLUSTER, SENTINEL, "rediss+cluster", "rediss+sentinel"):
        raise BadRedisUrl(f"{url}: the scheme must be redis://, rediss://, {CLUSTER}:// or "
                          f"{SENTINEL}://")  # fmt: skip
    parts = urlsplit("x://" + rest)
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        credentials, _, netloc = netloc.rpartition("@")
        user, _, secret = credentials.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    nodes = _nodes(netloc, url)
    tls = scheme.startswith("rediss")
    path = parts.path.strip("/")
    if scheme.endswith("+cluster"):
        if path or parts.query:
            raise BadRedisUrl(f"{url}: a cluster URL takes no path or database (a cluster has "
                              "one database)")  # fmt: skip
        return Target("cluster", url, nodes, None, username, password, tls)
    if not path or "/" in path:
        raise BadRedisUrl(f"{url}: name the master after the Sentinels, as "
                          f"{SENTINEL}://host:port/MASTER_NAME")  # fmt: skip
    return Target("sentinel", url, nodes, unquote(path), username, password, tls)


def _credentials(target: Target) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if target.username:
        out["username"] = target.username
    if target.password:
        out["password"] = target.password
    if target.tls:
        out["ssl"] = True
    return out


def sync_client(url: str, **options: Any) -> redis.Redis:
    """A redis-py client (`redis.Redis`, `RedisCluster` or a Sentinel master) for `url`; the
    options are those of `redis.Redis` (timeouts, decode_responses, client_name...). Typed
    as `redis.Redis`: the cluster client answers the same commands the board sends."""
    target = parse_redis_url(url)
    if target.mode == "server":
        return redis.Redis.from_url(url, **options)
    options = {**options, **_credentials(target)}
    if target.mode == "cluster":
        options.pop("retry", None)  # the cluster client retries across nodes itself
        nodes = [redis.cluster.ClusterNode(host, port)  # type: ignore[no-untyped-call]
                 for host, port in target.nodes]  # fmt: skip
        return cast(redis.Redis, redis.cluster.RedisCluster(startup_nodes=nodes, **options))
    sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes), socket_timeout=options.get("socket_timeout"),
        socket_connect_timeout=options.get("socket_connect_timeout"))  # fmt: skip
    assert target.master is not None
    return cast(redis.Redis, sentinel.master_for(target.master,  # type: ignore[no-untyped-call]
                                                 **options))  # fmt: skip


def async_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """As `sync_client`, for redis.asyncio."""
    target = parse_redis_url(url)
    if target.mode == "server":
        return redis.asyncio.Redis.from_url(url, **options)
    options = {**options, **_credentials(target)}
    if target.mode == "cluster":
        nodes = [redis.asyncio.cluster.ClusterNode(host, port) for host, port in target.nodes]
        options.pop("retry", None)
        return cast(redis.asyncio.Redis,
                    redis.asyncio.cluster.RedisCluster(startup_nodes=nodes, **options))
    sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes), socket_timeout=options.get("socket_timeout"),
        socket_connect_timeout=options.get("socket_connect_timeout"))  # fmt: skip
    assert target.master is not None
    return cast(redis.asyncio.Redis, sentinel.master_for(target.master, **options))
