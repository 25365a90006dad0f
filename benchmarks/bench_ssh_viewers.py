"""Remote viewers: CPU and memory of N concurrent SSH viewers at 1,000 events/s, each drawing
the aggregator's snapshots (`serve ssh`, the default) or each folding the raw stream itself
(`serve ssh --fold`), and the bytes per second sent to one viewer.

Real pieces throughout: the embedded Valkey server, `wallboard aggregate`, `wallboard serve
ssh` with one board process per session on a pty (120x34, xterm-256color), and N asyncssh
clients in this process reading everything sent. A producer thread XADDs 1,000 events/s
(benchmarks.synthetic: 2,000 agents, 20 queues) stamped with the wall clock.

Measured over the window after every viewer shows LIVE plus a warm-up: CPU of the server's
process tree (the server and its boards) plus the aggregator, as the median of per-second
samples in % of one core; RSS of the same processes at the end; bytes/s received by viewer 0
(median of per-second counts); and, over the same window, the median CPU of one board
process, the aggregator's and the SSH server process's own. Valkey, the producer and the
clients are not counted.

    python benchmarks/bench_ssh_viewers.py [--viewers 1,10,30] [--seconds 10] [--warmup 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import asyncssh
import redis

from benchmarks.synthetic import synthetic_events
from feeds.embedded import EmbeddedServer

RATE = 1000
AGENTS = 2000
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def produce(url: str, key: str, stop: threading.Event) -> None:
    client = redis.Redis.from_url(url)
    events = synthetic_events(10**9, agents=AGENTS, start_ms=time.time_ns() // 1_000_000)
    pipe = client.pipeline(transaction=False)
    for _ in range(AGENTS):  # the floor logs in first
        pipe.xadd(key, next(events))  # type: ignore[arg-type]
    pipe.execute()
    step = 0.1
    next_at = time.monotonic()
    while not stop.is_set():
        ts = str(time.time_ns() // 1_000_000)
        for _ in range(int(RATE * step)):
            fields = next(events)
            fields["ts"] = ts  # live: stamped now, whatever the generator's own clock says
            pipe.xadd(key, fields)  # type: ignore[arg-type]
        pipe.execute()
        next_at += step
        time.sleep(max(0.0, next_at - time.monotonic()))
    client.close()


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return total * PAGE / 2**20


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=out, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def run_viewers(port: int, key: Path, count: int, received: list[int],
                      live: list[bool], stop_at: asyncio.Event) -> None:  # fmt: skip
    async def viewer(index: int) -> None:
        async with asyncssh.connect("127.0.0.1", port, username=f"v{index}",
                                    client_keys=[str(key)], known_hosts=None) as conn:  # fmt: skip
            process = await conn.create_process(term_type="xterm-256color", term_size=(120, 34),
                                                encoding=None)  # fmt: skip
            tail = b""
            reader = asyncio.ensure_future(process.stdout.read(65536))
            waiter = asyncio.ensure_future(stop_at.wait())
            while True:
                done, _ = await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if waiter in done:
                    reader.cancel()
                    break
                data = reader.result()
                if not data:
                    break
                received[index] += len(data)
                if not live[index]:
                    tail = (tail + data)[-4096:]
                    live[index] = b"LIVE" in tail
                reader = asyncio.ensure_future(process.stdout.read(65536))
            process.close()

    await asyncio.gather(*(viewer(i) for i in range(count)))


def measure(url: str, tmp: Path, mode: str, count: int, seconds: float,
            warmup: float) -> dict[str, float]:  # fmt: skip
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    config = tmp / f"{prefix.replace(':', '-')}.toml"
    config.write_text(f'[board]\nstream = "{prefix}:events"\ncontrol_stream = "{prefix}:control"\n')
    stop_producer = threading.Event()
    producer = threading.Thread(target=produce, args=(url, f"{prefix}:events", stop_producer))
    producer.start()
    wb = [sys.executable, "-m", "wallboard"]
    aggregator = None
    if mode == "snapshots":
        aggregator = start([*wb, "aggregate", "--redis", url, "--config", str(config),
                            "--snapshot-stream", f"{prefix}:snapshots"],
                           tmp / "agg.log")  # fmt: skip
    extra = ["--fold"] if mode == "fold" else []
    port = 30000 + os.getpid() % 20000
    server = start([*wb, "serve", "ssh", "--redis", url, "--host", "127.0.0.1", "--port",
                    str(port), "--host-key", str(tmp / "host_key"), "--viewer-keys",
                    str(tmp / "viewer.pub"), "--snapshot-stream", f"{prefix}:snapshots",
                    "--config", str(config), "--max-sessions", "100", *extra],
                   tmp / "ssh.log")  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "listening" not in (tmp / "ssh.log").read_text():
            assert time.monotonic() < deadline, (tmp / "ssh.log").read_text()
            time.sleep(0.1)
        return asyncio.run(_window(port, tmp, count, seconds, warmup, server, aggregator))
    finally:
        stop(server)
        if aggregator is not None:
            stop(aggregator)
        stop_producer.set()
        producer.join()
        client = redis.Redis.from_url(url)
        client.delete(f"{prefix}:events", f"{prefix}:snapshots", f"{prefix}:control")
        client.close()


async def _window(port: int, tmp: Path, count: int, seconds: float, warmup: float,
                  server: subprocess.Popen[bytes],
                  aggregator: subprocess.Popen[bytes] | None) -> dict[str, float]:  # fmt: skip
    received = [0] * count
    live = [False] * count
    stop_at = asyncio.Event()
    task = asyncio.create_task(run_viewers(port, tmp / "viewer", count, received, live,
                                           stop_at))  # fmt: skip
    started = time.monotonic()
    deadline = started + 60 + 8 * count  # 30 Textual apps starting on 2 cores take a while
    while not all(live):
        if task.done():
            task.result()
        assert time.monotonic() < deadline, f"only {sum(live)} of {count} viewers live"
        await asyncio.sleep(0.2)
    all_live_s = time.monotonic() - started
    await asyncio.sleep(warmup)
    roots = [server.pid] + ([aggregator.pid] if aggregator is not None else [])
    cpu_samples, byte_samples = [], []
    boards = [p for p in descendants(server.pid) if p != server.pid]
    first = {pid: cpu_ticks([pid]) for pid in [*roots, *boards]}
    last_cpu = cpu_ticks([p for r in roots for p in descendants(r)])
    last_bytes, last_t = received[0], time.monotonic()
    window_start = last_t
    end = last_t + seconds
    while time.monotonic() < end:
        await asyncio.sleep(1.0)
        pids = [p for r in roots for p in descendants(r)]
        now_cpu, now_t = cpu_ticks(pids), time.monotonic()
        cpu_samples.append(100 * (now_cpu - last_cpu) / TICK / (now_t - last_t))
        byte_samples.append((received[0] - last_bytes) / (now_t - last_t))
        last_cpu, last_bytes, last_t = now_cpu, received[0], now_t
    elapsed = time.monotonic() - window_start

    def share(pid: int) -> float:
        return 100 * (cpu_ticks([pid]) - first[pid]) / TICK / elapsed

    per_board = statistics.median(share(pid) for pid in boards) if boards else 0.0
    agg_cpu = share(aggregator.pid) if aggregator is not None else 0.0
    server_cpu = share(server.pid)
    rss = rss_mb([p for r in roots for p in descendants(r)])
    stop_at.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 10)
    return {"cpu": statistics.median(cpu_samples), "rss": rss,
            "bytes": statistics.median(byte_samples), "live_s": all_live_s,
            "board": per_board, "agg": agg_cpu, "sshd": server_cpu}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1,10,30")
    parser.add_argument("--modes", default="snapshots,fold")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=8)
    args = parser.parse_args()
    server = EmbeddedServer()
    url = server.start()
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(tmp / "viewer")], check=True)  # fmt: skip
            print(f"SSH viewers at {RATE} events/s, {AGENTS} agents, 120x34, "
                  f"{args.seconds:g}s window after {args.warmup:g}s warm-up; "
                  f"{os.cpu_count()} cores")
            print(f"{'mode':<10} {'viewers':>7} {'CPU % core':>10} {'RSS MB':>7} "
                  f"{'B/s to one':>10} {'all live s':>10} {'per board':>9} {'aggregator':>10} "
                  f"{'ssh server':>10}")
            for mode in args.modes.split(","):
                for count in (int(n) for n in args.viewers.split(",")):
                    r = measure(url, tmp, mode, count, args.seconds, args.warmup)
                    print(f"{mode:<10} {count:>7} {r['cpu']:>10.0f} {r['rss']:>7.0f} "
                          f"{r['bytes']:>10.0f} {r['live_s']:>10.1f} {r['board']:>9.1f} "
                          f"{r['agg']:>10.1f} {r['sshd']:>10.1f}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
