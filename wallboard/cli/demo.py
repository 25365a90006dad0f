"""`wallboard demo`: a live Double-11 floor on this terminal with nothing installed.

It starts the embedded Valkey server (unless --redis is given), runs the simulator at an
accelerated speed into it, and opens the live board whose clock follows the simulation. The
simulator runs in a thread of this process and the server is tied to it (PR_SET_PDEATHSIG),
so quitting, Ctrl-C, a closed terminal or even a killed process leave nothing behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime
from importlib import resources
from types import FrameType

import click

from wallboard.cli.common import user_time_or_fail, valid_redis_url
from wallboard.core.config import ConfigError, load_config


@click.command()
@click.option("--redis", "redis_url", callback=valid_redis_url, metavar="URL",
              help="Use this server instead of starting the embedded one.")
@click.option("--kiosk", is_flag=True, help="Big-screen mode: rotating pages, high contrast.")
@click.option("--page", default=None, help="Kiosk: pin one page.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="Simulated time runs N times faster than real time.")
@click.option("--profile", default="double11", show_default=True,
              help="Traffic profile: normal, double11 or a TOML file.")
@click.option("--agents", type=click.IntRange(min=1), default=None,
              help="Agents on the floor (default: the profile's).")
@click.option("--seed", type=click.IntRange(min=0), default=11, show_default=True)
@click.option("--from", "from_text", default=None, metavar="TIME",
              help="Simulated start (default: today 19:30, before the evening peak).")
@click.option("--config", "config_path", envvar="WALLBOARD_CONFIG", metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Board config (default: the bundled demo config).")  # fmt: skip
@click.option("--user", envvar="WALLBOARD_USER", metavar="NAME",
              help="Signs acks (a) and callouts (c); default the login name.")
def demo(redis_url: str | None, kiosk: bool, page: str | None, speed: float, profile: str,
         agents: int | None, seed: int, from_text: str | None, config_path: str | None,
         user: str | None) -> None:  # fmt: skip
    """A live simulated Double-11 floor on an embedded server: one command, nothing to set up."""
    from feeds.embedded import EmbeddedServer
    from feeds.live import LiveFeed
    from feeds.redis_window import RedisUnavailable, connect
    from feeds.simulator import ProfileError, Simulator, load_profile
    from feeds.simulator.writers import ControlLink, EntryIds, RedisSink, run_live, stream_top
    from wallboard.app.board import WallboardApp
    from wallboard.app.live import control_sink, login_name, run_board, webhook_notifier

    try:
        if config_path is None:
            with resources.as_file(resources.files("wallboard") / "data" / "demo.toml") as path:
                config = load_config(path)
        else:
            config = load_config(config_path)
        chosen = load_profile(profile)
        # The board's clock is the simulated one: staleness is judged in simulated seconds,
        # so the 3 s of wall time a live board allows is `speed` times as many here.
        config.feed.stale_after_s *= speed
        notifier = webhook_notifier(config)
    except (ConfigError, ProfileError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    now = time.time_ns() // 1_000_000
    if from_text is None:
        today = datetime.now(config.tz).date().isoformat()
        from_text = f"{today} 19:30"
    start = user_time_or_fail(from_text, config, now, "--from")

    server: EmbeddedServer | None = None
    stop = threading.Event()
    simulator: threading.Thread | None = None
    app: WallboardApp | None = None

    def cleanup() -> None:
        stop.set()
        if simulator is not None:
            simulator.join(timeout=5)
        if server is not None:
            server.stop()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # A closed terminal (SIGHUP) or a kill: ask the app to quit, and make sure of it.
        if app is not None and app.is_running:
            app.call_later(app.exit)
        def force() -> None:
            cleanup()
            os._exit(128 + signum)
        timer = threading.Timer(3.0, force)
        timer.daemon = True  # a clean exit before it fires does not wait for it
        timer.start()

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, on_signal)

    def watch_parent(parent: int = os.getppid()) -> None:
        # A terminal can vanish without a SIGHUP (no controlling tty, a killed shell): the
        # reparenting of this process is the sign, and the board must not spin on a dead tty.
        while not stop.wait(1.0):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGHUP)
                return

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    try:
        if redis_url is None:
            server = EmbeddedServer()
            redis_url = server.start()
        try:
            client = connect(redis_url)
        except RedisUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        stream = config.streams[0]
        sim = Simulator(chosen, start_ms=start, seed=seed, tz=config.tz, agents=agents)
        sink = RedisSink(client, stream, EntryIds(stream_top(client, stream)), follow_top=True)
        control = ControlLink(client, config.board.control_stream or "wallboard:control")
        cases_key = config.complaints.stream
        cases = RedisSink(client, cases_key, EntryIds(stream_top(client, cases_key)),
                          follow_top=True) if cases_key else None  # fmt: skip
        wall0 = time.monotonic()

        def sim_clock() -> int:
            """The board's clock follows the simulated one exactly."""
            return start + int((time.monotonic() - wall0) * speed * 1000)

        def simulate() -> None:
            try:
                # run_live's own start is microseconds after wall0: the clocks agree
                run_live(sim, sink, speed=speed, stop=stop, control=control, cases=cases)
            finally:
                sink.close()
                if cases is not None:
                    cases.close()

        simulator = threading.Thread(target=simulate, name="simulator", daemon=True)
        simulator.start()
        feed = LiveFeed(redis_url, config.with_complaints([]), config, clock=sim_clock)
        # `c` calls the simulated reserve in (the simulator answers on the control stream).
        app = WallboardApp(feed, config, sim_clock, kiosk=kiosk, page=page,
                           user=user or login_name(), control=control_sink(redis_url, config))
        run_board(app, notifier)
    finally:
        cleanup()
