"""`wallboard serve ssh` with the real OpenSSH client (`ssh -tt` inside tmux): roles, refusals,
clean disconnects, resize, colours, the session cap and the idle limit.

The floor (tests.remote_harness.floor_events): four queues each with one contact waiting
since 5 minutes ago, so each has a critical longest_wait alert; an aggregator publishes it.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import redis

from feeds.snapshot_wire import decode_entry
from tests import processes
from tests.remote_harness import (
    Floor,
    Tmux,
    alive,
    children_of,
    fingerprint,
    keygen,
    ssh_argv,
    start_floor,
    start_server,
    stop_process,
    wait_for,
)

pytestmark = [pytest.mark.redis, pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("ssh", "ssh-keygen", "tmux")),
    reason="needs ssh, ssh-keygen and tmux")]  # fmt: skip


class Site:
    def __init__(self, tmp: Path, floor: Floor) -> None:
        self.tmp = tmp
        self.floor = floor
        self.viewer = keygen(tmp / "viewer", "viewer@test")
        self.supervisor = keygen(tmp / "supervisor", "supervisor@test")
        self.stranger = keygen(tmp / "stranger", "stranger@test")
        (tmp / "viewer_keys").write_text((tmp / "viewer.pub").read_text())
        (tmp / "supervisor_keys").write_text((tmp / "supervisor.pub").read_text())
        self.audit = tmp / "audit.log"
        self.host_key = tmp / "host_key"
        self.server: subprocess.Popen[bytes] | None = None
        self.port = 0

    def serve(self, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
        return start_server(
            [sys.executable, "-m", "wallboard", "serve", "ssh", "--redis", self.floor.url,
             "--host", "127.0.0.1", "--port", "0", "--host-key", str(self.host_key),
             "--viewer-keys", str(self.tmp / "viewer_keys"),
             "--supervisor-keys", str(self.tmp / "supervisor_keys"),
             "--audit-log", str(self.audit), "--snapshot-stream", self.floor.snapshots,
             "--config", str(self.floor.config), *extra],
            self.tmp / f"server-{len(list(self.tmp.glob('server-*')))}.log")  # fmt: skip


@pytest.fixture(scope="module")
def site(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    tmp = tmp_path_factory.mktemp("ssh")
    floor = start_floor(redis_url, client, tmp, "agg-ssh")
    try:
        site = Site(tmp, floor)
        try:
            site.server, site.port = site.serve()
            yield site
        finally:
            if site.server is not None:
                stop_process(site.server)
    finally:
        floor.stop(client)
        client.close()


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    mux = Tmux()
    yield mux
    mux.close()


def board_shown(tmux: Tmux, name: str) -> bool:
    screen = tmux.screen(name)
    return "LIVE" in screen and "via agg-ssh" in screen and "vip" in screen


def control_entries(site: Site) -> list[dict[str, str]]:
    client = redis.Redis.from_url(site.floor.url, decode_responses=True)
    try:
        entries: Any = client.xrange(site.floor.control)
        return [fields for _id, fields in entries]
    finally:
        client.close()


def test_host_key_is_generated_once(site: Site) -> None:
    assert site.host_key.exists()
    assert site.host_key.stat().st_mode & 0o777 == 0o600
    key = asyncssh.read_private_key(str(site.host_key))
    assert key.get_algorithm() == "ssh-ed25519"


def test_a_viewer_sees_the_board_and_cannot_acknowledge(site: Site, tmux: Tmux) -> None:
    tmux.start("v", ssh_argv(site.port, site.viewer, "wendy"), 120, 34)
    wait_for(lambda: board_shown(tmux, "v"), 30, "the viewer's board")
    tmux.keys("v", "a")  # acknowledge
    wait_for(lambda: "read only" in tmux.screen("v"), 10, "the read-only notice")
    assert control_entries(site) == []


def test_a_supervisor_acks_an_alert_signed_with_the_ssh_user(site: Site, tmux: Tmux) -> None:
    tmux.start("s", ssh_argv(site.port, site.supervisor, "alice"), 120, 34)
    wait_for(lambda: board_shown(tmux, "s"), 30, "the supervisor's board")
    tmux.keys("s", "a")
    (ack,) = wait_for(lambda: control_entries(site), 10, "the ack in the control stream")
    assert ack["type"] == "alert.ack"
    assert ack["by"] == "alice"
    # the worst unacknowledged alert: one of the four queues' longest_wait alerts
    assert ack["alert"].startswith("longest_wait")
    # The audit log says who, with which key, from where, and which stream entry it became.
    # The server writes it once the XADD has returned (it records the entry ID), so it can
    # land just after the entry is visible: wait for it.
    (line,) = wait_for(lambda: site.audit.exists() and site.audit.read_text().splitlines(),
                       10, "the ack in the audit log")  # fmt: skip
    record = json.loads(line)
    assert record["user"] == "alice" and record["role"] == "supervisor"
    assert record["via"] == "ssh" and record["peer"] == "127.0.0.1"
    assert record["key"] == fingerprint(site.tmp / "supervisor.pub")
    assert record["event"] == ack and record["error"] is None
    client = redis.Redis.from_url(site.floor.url, decode_responses=True)
    (entry_id, _f), = client.xrange(site.floor.control)  # type: ignore[misc]
    client.close()
    assert record["entry_id"] == entry_id

    # The aggregator folds the control stream: every view now sees the ack.
    def acked_in_snapshot() -> bool:
        raw = redis.Redis.from_url(site.floor.url)
        entries: Any = raw.xrevrange(site.floor.snapshots, count=1)
        raw.close()
        snap = decode_entry(entries[0][1]).snapshot
        return any(a.id == ack["alert"] and a.acked_by == "alice" for a in snap.alerts)

    wait_for(acked_in_snapshot, 10, "the ack in the published snapshot")


def test_an_unknown_key_and_a_password_are_refused(site: Site) -> None:
    stranger = subprocess.run([*ssh_argv(site.port, site.stranger, "mallory", "-o",
                                         "BatchMode=yes"), "true"],
                              check=False, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert stranger.returncode == 255
    assert "Permission denied (publickey)" in stranger.stderr
    # The client would try a password or keyboard-interactive: the server offers neither.
    password = subprocess.run(
        [*ssh_argv(site.port, site.stranger, "mallory", "-o", "BatchMode=yes", "-o",
                   "PubkeyAuthentication=no", "-o",
                   "PreferredAuthentications=password,keyboard-interactive", "-v"), "true"],
        check=False, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert password.returncode == 255
    assert "Authentications that can continue: publickey\n" in password.stderr
    assert "Permission denied (publickey)" in password.stderr

    # And a client that sends a password anyway is refused.
    async def try_password() -> None:
        async with asyncssh.connect("127.0.0.1", site.port, username="alice", password="x",
                                    client_keys=None, known_hosts=None,
                                    preferred_auth="password"):  # fmt: skip
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(try_password())


def test_killing_the_client_leaves_no_process(site: Site, tmux: Tmux) -> None:
    assert site.server is not None
    server = site.server.pid
    wait_for(lambda: not children_of(server), 15, "earlier tests' sessions to end")
    tmux.start("k", ssh_argv(site.port, site.viewer, "kim"), 100, 30)
    wait_for(lambda: board_shown(tmux, "k"), 30, "the board")
    boards = children_of(server)
    assert len(boards) == 1
    os.kill(tmux.pane_pid("k"), signal.SIGKILL)  # the ssh client dies: no goodbye
    wait_for(lambda: not any(alive(pid) for pid in boards), 15, "the board process to go")
    assert children_of(server) == set()


def test_a_vanished_client_is_noticed_by_keepalives(site: Site) -> None:
    """A network cut sends no FIN: a stopped client answers nothing, as a dead link. (Outside
    tmux, which resumes a stopped pane: the client on a pty of our own.)"""
    server, port = site.serve("--keepalive", "1")
    master, slave = pty.openpty()
    try:
        client = processes.spawn(ssh_argv(port, site.viewer, "carl"), stdin=slave,
                                 stdout=slave, stderr=slave)  # fmt: skip
    except BaseException:
        stop_process(server)
        raise
    finally:
        os.close(slave)
    try:
        screen = bytearray()

        def board_drawn() -> bool:
            while select.select([master], [], [], 0)[0]:
                screen.extend(os.read(master, 65536))
            return b"via agg-ssh" in screen

        wait_for(board_drawn, 30, "the board")
        boards = children_of(server.pid)
        assert len(boards) == 1
        client.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        # 3 keepalives of 1 s unanswered: gone; then SIGTERM (SIGKILL after 3 s)
        wait_for(lambda: not any(alive(pid) for pid in boards), 15, "the board to go")
        assert time.monotonic() - stopped >= 3
    finally:
        processes.stop(client, grace_s=0)  # SIGKILL: it is stopped
        os.close(master)
        stop_process(server)


def side_panel_column(screen: str) -> int | None:
    """Where the Floor box starts: the 28-column side panel sits at the right edge."""
    for line in screen.splitlines():
        if "╭─ Floor" in line:
            return line.index("╭─ Floor")
    return None


def test_resize_reflows_the_board(site: Site, tmux: Tmux) -> None:
    tmux.start("r", ssh_argv(site.port, site.viewer, "rita"), 120, 34)
    wait_for(lambda: board_shown(tmux, "r"), 30, "the board")
    wait_for(lambda: side_panel_column(tmux.screen("r")) == 120 - 28, 10, "the panel at 92")
    for columns, rows in ((100, 30), (160, 40)):
        tmux.resize("r", columns, rows)
        wait_for(lambda c=columns: side_panel_column(tmux.screen("r")) == c - 28,  # type: ignore[misc]
                 10, f"the side panel at the right edge of {columns} columns")  # fmt: skip
        screen = tmux.screen("r").splitlines()
        assert len(screen) == rows
        assert "q Quit" in screen[-1]  # the footer moved to the new last line


def test_the_clients_term_decides_the_colours(site: Site, tmux: Tmux) -> None:
    tmux.start("c16", ssh_argv(site.port, site.viewer, "colin"), 120, 34, env={"TERM": "xterm"})
    tmux.start("c256", ssh_argv(site.port, site.viewer, "colin"), 120, 34,
               env={"TERM": "xterm-256color"})  # fmt: skip
    for name in ("c16", "c256"):
        wait_for(lambda n=name: board_shown(tmux, n), 30, f"the {name} board")  # type: ignore[misc]
    sixteen = tmux.screen("c16", escapes=True)
    assert "38;5;" not in sixteen and "38;2;" not in sixteen  # no 256 or 24-bit colour
    assert "48;5;" not in sixteen and "48;2;" not in sixteen
    assert "\x1b[" in sixteen  # but colour all the same
    rich = tmux.screen("c256", escapes=True)
    assert "38;5;" in rich or "48;5;" in rich


def test_session_cap_and_idle_limit(site: Site, tmux: Tmux) -> None:
    server, port = site.serve("--max-sessions", "1", "--idle-timeout", "4")
    try:
        tmux.start("one", ssh_argv(port, site.viewer, "una"), 100, 30)
        wait_for(lambda: board_shown(tmux, "one"), 30, "the first session's board")
        tmux.start("two", ssh_argv(port, site.viewer, "tom"), 100, 30)
        wait_for(lambda: tmux.dead("two"), 15, "the second session to be turned away")
        assert "all 1 sessions are in use" in tmux.screen("two", history=True)
        # No key pressed for 4 s: the first session is closed and its board reaped.
        boards = children_of(server.pid)
        wait_for(lambda: tmux.dead("one"), 15, "the idle session to close")
        assert "idle limit reached" in tmux.screen("one", history=True)
        wait_for(lambda: not any(alive(pid) for pid in boards), 10, "the board to go")
    finally:
        stop_process(server)
