"""One program on its own pseudo-terminal: started at a given size and TERM, resized, and
always reaped (SIGTERM to its process group, SIGKILL after a timeout).

The child gets a new session without a controlling terminal, so the kernel would not send it
SIGWINCH on a resize: `resize()` sets the size on the pty and signals the group itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable, Mapping, Sequence


def set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class PtyChild:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], columns: int,
                 rows: int) -> None:  # fmt: skip
        self.argv = list(argv)
        self.env = dict(env)
        self.columns, self.rows = max(columns, 1), max(rows, 1)
        self.process: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self._paused = False
        self._on_output: Callable[[bytes], None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def start(self, on_output: Callable[[bytes], None]) -> None:
        master, slave = os.openpty()
        set_size(master, self.columns, self.rows)
        os.set_blocking(master, False)
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                start_new_session=True)  # fmt: skip
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self._on_output = on_output
        asyncio.get_running_loop().add_reader(master, self._read)

    def _read(self) -> None:
        assert self.master is not None and self._on_output is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the child closed its side (exited)
            data = b""
        if not data:
            self._stop_reading()
            return
        self._on_output(data)

    def _stop_reading(self) -> None:
        if self.master is not None:
            asyncio.get_running_loop().remove_reader(self.master)

    def drain(self) -> None:
        """Pass on what the child wrote before it exited (its last frame, the terminal reset)."""
        if self.master is None or self._on_output is None:
            return
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # nothing left (EAGAIN) or the other side is gone (EIO)
                return
            if not data:
                return
            self._on_output(data)

    def pause(self) -> None:
        """The client is slow: stop reading; the child then blocks on its own writes."""
        if not self._paused and self.master is not None:
            self._paused = True
            self._stop_reading()

    def resume(self) -> None:
        if self._paused and self.master is not None:
            self._paused = False
            asyncio.get_running_loop().add_reader(self.master, self._read)

    def write(self, data: bytes) -> None:
        if self.master is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):  # a full or closed pty drops keys
            os.write(self.master, data)

    def resize(self, columns: int, rows: int) -> None:
        if self.master is None or self.process is None or columns < 1 or rows < 1:
            return
        self.columns, self.rows = columns, rows
        set_size(self.master, columns, rows)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGWINCH)

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def stop(self, timeout: float = 3.0) -> None:
        """SIGTERM the child's process group; SIGKILL it if still there after `timeout`."""
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        self.drain()  # its last words: the terminal reset of a clean exit
        if self.master is not None:
            self._stop_reading()
            os.close(self.master)
            self.master = None
