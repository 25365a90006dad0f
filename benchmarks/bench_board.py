"""Board app cost: CPU share, peak RSS and bytes written to the terminal per second.

Runs the real app in a child process on a pseudo-terminal (200x56) with a synthetic in-memory
source: 2,000 agents, 20 queues and N events/s (offer, answer, complete, messages) folded as
they arrive, the screen refreshing at display.refresh_hz. The parent reads the terminal and
samples the child's /proc counters after a warm-up.

    python benchmarks/bench_board.py [--seconds 20] [--rates 0,1000] [--pages overview,agents]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import struct
import termios
import time

AGENTS = 2000
QUEUES = 20


def child(rate: int, page: str, headline_hz: float) -> None:
    from wallboard.app.board import WallboardApp
    from wallboard.app.sources import MemorySource, wall_clock
    from wallboard.core.config import Config, DisplaySection
    from wallboard.core.ingest import RawEntry

    config = Config(display=DisplaySection(headline_hz=headline_hz))
    now = wall_clock()
    source = MemorySource(config, (
        RawEntry("s", None, {"type": "agent.state", "ts": str(now - 3_600_000),
                             "agent": f"a{i:04d}",
                             "state": "available", "team": f"t{i % 40}", "name": f"Agent {i}",
                             "queues": f"q{i % QUEUES:02d}", "shops": "s1,s2"})
        for i in range(AGENTS)))  # fmt: skip

    async def generate() -> None:
        n = 0
        step = 0.05
        while True:
            await asyncio.sleep(step)
            ts = str(wall_clock())
            batch = []
            for _ in range(round(rate * step)):
                n += 1
                kind = n % 4
                contact = f"c{n // 4}"
                agent = f"a{(n // 4) % AGENTS:04d}"
                if kind == 0:
                    fields = {"type": "contact.offered", "ts": ts, "contact": contact,
                              "queue": f"q{(n // 4) % QUEUES:02d}", "channel": "chat"}
                elif kind == 1:
                    fields = {"type": "contact.answered", "ts": ts, "contact": f"c{n // 4 - 5}",
                              "agent": agent}
                elif kind == 2:
                    fields = {"type": "contact.message", "ts": ts, "contact": f"c{n // 4 - 9}"}
                else:
                    fields = {"type": "contact.completed", "ts": ts,
                              "contact": f"c{n // 4 - 20}", "outcome": "order"}
                batch.append(RawEntry("s", None, fields))
            source.feed(batch)

    class BenchApp(WallboardApp):
        def on_mount(self) -> None:
            super().on_mount()
            if rate:
                self.run_worker(generate(), name="load")

    BenchApp(source, config, wall_clock, kiosk=True, page=page).run()


def _proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int, key: str = "VmHWM:") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(rate: int, page: str, seconds: float, headline_hz: float = 10.0,
            warmup: float = 5.0) -> dict[str, float]:  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        child(rate, page, headline_hz)
        os._exit(0)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 56, 200, 0, 0))
    total = 0
    start = time.monotonic()
    cpu0 = None
    rss0 = 0.0
    bytes0 = 0
    t0 = 0.0
    try:
        while time.monotonic() - start < warmup + seconds:
            if cpu0 is None and time.monotonic() - start >= warmup:
                cpu0, bytes0, t0 = _proc_cpu_s(pid), total, time.monotonic()
                rss0 = _rss_mb(pid, "VmRSS:")
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    total += len(os.read(fd, 65536))
                except OSError:
                    break
        elapsed = time.monotonic() - t0
        cpu = _proc_cpu_s(pid) - (cpu0 or 0)
        rss = _rss_mb(pid)
        rss_end = _rss_mb(pid, "VmRSS:")
    finally:
        os.kill(pid, 15)
        os.waitpid(pid, 0)
        os.close(fd)
    return {"cpu_pct": 100 * cpu / elapsed, "rss_mb": rss,
            "bytes_per_s": (total - bytes0) / elapsed, "rss_start_mb": rss0, "rss_end_mb": rss_end}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", default="0,1000")
    parser.add_argument("--pages", default="overview,agents")
    parser.add_argument("--headline-hz", type=float, default=10.0, help="0: the lane off")
    args = parser.parse_args()
    print(f"board app, {AGENTS} agents, {QUEUES} queues, 200x56 pty, {args.seconds:g}s each, "
          f"headline lane {args.headline_hz:g} Hz")  # fmt: skip
    print(f"{'page':<10} {'events/s':>8} {'CPU % core':>10} {'peak RSS MB':>11} {'term B/s':>9}"
          f" {'RSS after warm-up -> end MB':>28}")
    for page in args.pages.split(","):
        for rate in (int(r) for r in args.rates.split(",")):
            r = measure(rate, page, args.seconds, args.headline_hz)
            print(f"{page:<10} {rate:>8} {r['cpu_pct']:>10.1f} {r['rss_mb']:>11.0f} "
                  f"{r['bytes_per_s']:>9.0f} {r['rss_start_mb']:>18.0f} -> {r['rss_end_mb']:.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
