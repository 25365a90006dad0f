"""Follow an Asterisk queue_log across restarts and log rotation, without gaps or duplicates.

The state file holds the read offset of the file being read, that file's identity (device,
inode, and a hash of its first line, which catches a new file that reuses the inode) and the
mapper's memory. It is saved only after the events of the lines before the offset are in
Redis, so a crash re-reads at most the last chunk, and those events carry producer `id`s
(a hash of their line) that the writer's idempotency keys turn into duplicates.

On start, a saved identity that is no longer the file at the path means the file was rotated:
the rest of the old file is read first (found by identity among its siblings, e.g.
queue_log.1 or queue_log-20261111), then the new file from its start.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import msgspec

from feeds.asterisk_map import BadLine, Mapper, MapperState
from feeds.asterisk_parse import ParseError, parse_line
from wallboard.core.sanitize import clean

CHUNK = 1 << 20


class FileMark(msgspec.Struct):
    device: int
    inode: int
    offset: int = 0
    line: int = 0  # complete lines before offset
    head: str = ""  # hash of the first line; "" until one was read


class TailState(msgspec.Struct):
    path: str
    file: FileMark | None = None
    mapper: MapperState = msgspec.field(default_factory=MapperState)


class TailError(RuntimeError):
    """A problem the adapter cannot work around (unreadable file or state)."""


def default_state_path(log_path: Path, stream: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha1(f"{log_path.resolve()}\n{stream}".encode()).hexdigest()[:12]
    return Path(base) / "wallboard" / f"asterisk-{digest}.json"


def load_state(path: Path) -> TailState | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TailError(f"cannot read state file {path}: {exc}") from None
    try:
        return msgspec.json.decode(raw, type=TailState)
    except msgspec.DecodeError as exc:
        raise TailError(f"state file {path} is damaged ({exc}); move it away to start over, "
                        "or use --from-start") from None  # fmt: skip


def save_state(path: Path, state: TailState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(msgspec.json.encode(state))
    os.replace(temporary, path)  # atomic: a crash leaves the old state or the new one


def line_hash(line: bytes) -> str:
    return hashlib.blake2b(line.rstrip(b"\r\n"), digest_size=10).hexdigest()


# The file's identity hashes at most this much of its first line, both when it is read and
# when it is checked on a restart (a longer first line is still the same file).
HEAD_BYTES = 1 << 16


def head_hash(first_line: bytes) -> str:
    """The identity of a file by its first line (without the newline)."""
    return line_hash(first_line[:HEAD_BYTES])


def _first_line_hash(handle: BinaryIO) -> str:
    handle.seek(0)
    first = handle.readline(HEAD_BYTES + 1)
    if first.endswith(b"\n"):
        return head_hash(first[:-1])
    return head_hash(first) if len(first) > HEAD_BYTES else ""  # "": no first line yet


@dataclass
class Stats:
    """Every line read is one of: mapped (it gave events), ignored (an event the board does
    not count, by name), blank, or bad (reported with its number, counted by reason: the
    keys of `asterisk_map.BAD_REASONS`)."""

    lines: int = 0
    events: int = 0
    duplicates: int = 0
    mapped: int = 0
    bad: int = 0
    blank: int = 0
    ignored: dict[str, int] = field(default_factory=dict)
    bad_reasons: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


# Writes a batch of events; returns how many were duplicates. Raises on a Redis failure.
Sink = Callable[[list[dict[str, str]]], int]


class Tailer:
    def __init__(self, log_path: Path, state_path: Path, sink: Sink, *,
                 known_queues: tuple[str, ...] = (), from_start: bool = False,
                 report: Callable[[str], None] = lambda _text: None) -> None:  # fmt: skip
        self.log_path = log_path
        self.state_path = state_path
        self.sink = sink
        self.report = report
        saved = load_state(state_path)
        if saved is not None and from_start:
            # Read the file again from its start; keep only the queues known (so a transfer
            # maps as before), the calls and members are rebuilt by the lines.
            saved = TailState(str(log_path), mapper=MapperState(queues=saved.mapper.queues))
        self.state = saved or TailState(str(log_path))
        self.mapper = Mapper(self.state.mapper, known_queues)
        self.stats = Stats(ignored=self.mapper.ignored)

    # ---- reading ---------------------------------------------------------------------------

    def _open(self, path: Path) -> BinaryIO:
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise TailError(f"no queue_log at {path}") from None
        except OSError as exc:
            raise TailError(f"cannot read {path}: {exc}") from None

    def _mark_for(self, handle: BinaryIO) -> FileMark:
        info = os.fstat(handle.fileno())
        return FileMark(info.st_dev, info.st_ino)

    def _rotated(self, mark: FileMark) -> Path | None:
        """The sibling of the log that is the file `mark` was read from, if it is still here."""
        folder = self.log_path.parent
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(self.log_path.name) and entry != self.log_path:
                try:
                    info = entry.stat()
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) == (mark.device, mark.inode):
                    return entry
        return None

    def catch_up(self) -> BinaryIO:
        """Read everything there is (the rest of a rotated file first, then the current
        file); returns the current file, open at the end, for following."""
        handle = self._open(self.log_path)
        current = self._mark_for(handle)
        saved = self.state.file
        if saved is not None and (saved.device, saved.inode) != (current.device, current.inode):
            old_path = self._rotated(saved)
            if old_path is None:
                self.report(f"{self.log_path} was rotated and the old file is gone: lines "
                            f"after line {saved.line} of it were not read")  # fmt: skip
            else:
                with self._open(old_path) as old:
                    if saved.head in ("", _first_line_hash(old)):
                        self._drain(old, saved, old_path)
                    else:
                        self.report(f"{old_path} is not the file read before; skipped")
            saved = None
        if saved is None:
            saved = current
        else:
            size = os.fstat(handle.fileno()).st_size
            if size < saved.offset or _first_line_hash(handle) != saved.head:
                self.report(f"{self.log_path} was truncated or replaced: reading it again "
                            "from the start (already written events are skipped by id)")
                saved = current
        self.state.file = saved
        self._drain(handle, saved, self.log_path)
        return handle

    def follow(self, handle: BinaryIO, *, poll_s: float = 0.5,
               stop: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        """Keep reading new lines; switch to the new file when the log is rotated."""
        try:
            while not stop():
                mark = self.state.file
                assert mark is not None
                self._drain(handle, mark, self.log_path)
                try:
                    info = os.stat(self.log_path)
                except FileNotFoundError:
                    time.sleep(poll_s)  # between a rename and the new file
                    continue
                if (info.st_dev, info.st_ino) != (mark.device, mark.inode):
                    self._drain(handle, mark, self.log_path)  # the last lines of the old file
                    handle.close()
                    handle = self._open(self.log_path)
                    self.state.file = self._mark_for(handle)
                    continue
                if info.st_size < mark.offset:
                    self.report(f"{self.log_path} was truncated: reading it from the start")
                    self.state.file = self._mark_for(handle)
                    continue
                time.sleep(poll_s)
        finally:
            handle.close()

    def _lines(self, handle: BinaryIO, mark: FileMark) -> Iterator[list[bytes]]:
        """Complete lines from the mark on, a chunk at a time (a partial last line waits)."""
        handle.seek(mark.offset)
        pending = b""
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                return
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            pending = data[cut:]
            if cut:
                yield data[:cut].split(b"\n")[:-1]

    def _drain(self, handle: BinaryIO, mark: FileMark, path: Path) -> None:
        label = str(path)
        if label not in self.stats.files:
            self.stats.files.append(label)
        for lines in self._lines(handle, mark):
            events: list[dict[str, str]] = []
            number = mark.line
            for raw in lines:
                number += 1
                if number == 1:
                    mark.head = head_hash(raw)
                events.extend(self._map(raw, number, label))
            duplicates = self.sink(events) if events else 0
            mark.offset += sum(len(raw) + 1 for raw in lines)
            mark.line = number
            self.stats.lines += len(lines)
            self.stats.events += len(events)
            self.stats.duplicates += duplicates
            save_state(self.state_path, self.state)

    def _map(self, raw: bytes, number: int, label: str) -> list[dict[str, str]]:
        # Bytes that are not UTF-8 become lone surrogates (not U+FFFD, which would make two
        # names one): an event carrying one is refused as bad_encoding, a field no event
        # carries (a caller id) does not matter.
        text = raw.decode("utf-8", "surrogateescape")
        if not text.strip():
            self.stats.blank += 1
            return []
        parsed = parse_line(text)
        try:
            if isinstance(parsed, ParseError):
                raise BadLine(parsed.detail, "not_a_queue_log_line")
            events = self.mapper.map(parsed, line_hash(raw))
        except BadLine as exc:
            self.stats.bad += 1
            reasons = self.stats.bad_reasons
            reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
            self.report(f"{clean(label)}:{number}: bad line: {clean(str(exc))}")
            return []
        if events:
            self.stats.mapped += 1
        return events
