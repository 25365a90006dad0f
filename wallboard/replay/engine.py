"""The replay engine: a window of events, a cursor and a virtual clock over the pure fold.

Pure (no IO, no wall clock). `load()` reads every line once, in read order, does what
`ingest.fold_until` does at admission (rejections, read-order duplicate checks, the window's
end), folds the events in event-time order and keeps checkpoints of the state (pickled) on
the way. A seek restores the nearest checkpoint at or before the target and folds forward,
so it costs one checkpoint interval at most, whatever the distance.

Exactness: the state at time T is the state `fold_until(entries, T)` builds (tested at many
T). `fold_until` counts admission rejections and duplicates before it applies any event, so
the engine keeps those outside the fold and merges them into the state for T after every
move (`_merge`): counts, the recent-rejections list (read order) and duplicates.

Events are kept as their NDJSON lines, one LZ4-compressed blob per checkpoint interval
(about 25 bytes an event), and decoded again by `linedecode` when folded forward.
"""

from __future__ import annotations

import gc
import pickle
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Final, NamedTuple

import lz4.block  # type: ignore[import-untyped]

from wallboard.core.config import Config
from wallboard.core.events import COMPLAINT_TYPES, Event, Rejection
from wallboard.core.fold import RECENT_REJECTIONS, BoardState
from wallboard.core.linedecode import decode_lines
from wallboard.core.ordering import EntryGate
from wallboard.core.snapshot import Snapshot, build_snapshot
from wallboard.core.state import AgentState, QueueState

CHECKPOINT_EVENTS: Final = 50_000  # the interval without a fold-time budget
# With a budget: a bound on one interval's lines (a seek unpacks and splits them: ~40 MB).
MAX_INTERVAL_EVENTS: Final = 200_000
_BATCH: Final = 4096  # lines decoded at once
_PROGRESS_EVERY: Final = 1 << 16
MINUTE_MS: Final = 60_000


class Marker(NamedTuple):
    """An alert raised or a callout made, for the timeline and for jumps."""

    at_ms: int
    kind: str  # alert | callout
    label: str


def _pack(data: bytes) -> bytes:
    """LZ4: 4x the speed of zlib level 1 both ways for 1.5x the size (checkpoints: 2.2:1,
    lines 5.4:1); compression was a quarter of the first pass's checkpoint cost with zlib."""
    packed: bytes = lz4.block.compress(data)
    return packed


def _unpack(blob: bytes) -> bytes:
    data: bytes = lz4.block.decompress(blob)
    return data


def dump_state(state: BoardState) -> bytes:
    """Pickle a state (config included: under 1 KB) and compress it. The collector is off
    meanwhile: it would otherwise scan the growing heap again and again (measured: 1.7x slower
    to dump, 2.5x to load)."""
    return _pack(_pickled(state))


def load_state(blob: bytes) -> BoardState:
    return _unpickled(_unpack(blob))


def copy_state(state: BoardState) -> BoardState:
    return _unpickled(_pickled(state))


@contextmanager
def _collector_off() -> Iterator[None]:
    """The cyclic garbage collector paused: it would scan the growing heap again and again
    while nothing here makes a reference cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pickled(state: BoardState) -> bytes:
    with _collector_off():
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(data: bytes) -> BoardState:
    with _collector_off():
        state: BoardState = pickle.loads(data)  # our own checkpoint
    return state


def compact(state: BoardState) -> None:
    """Count the ledgers' fresh records and drop times that left the rolling windows: what
    the next snapshot would do anyway, done early so checkpoints stay small. Changes no number
    (records arrive in time order). Unlike `BoardState.settle` it keeps the idempotency keys,
    which `fold_until` never forgets either."""
    if state.day is None:
        return
    day_start, as_of = state.day.start_ms, state.as_of
    for queue in state.queues.values():
        queue.ledger.settle(day_start, as_of)
        _prune_rings(queue, as_of)
    for agent in state.agents.values():
        _prune_rings(agent, as_of)


def _prune_rings(record: QueueState | AgentState, as_of: int) -> None:
    for ring in record.rings():
        ring.trim(as_of)


class Replay:
    """Load once, then seek, step and play. `state` is the fold at (`cursor`, `now`).

    A checkpoint is taken after `every` events, or sooner once folding since the last one
    took `budget_s` by `timer` (the caller's clock: the core reads none): so a seek folds at
    most about `budget_s` of work whatever the load of the hour it lands in, and a faster fold
    takes fewer checkpoints. With a budget, `every` (default `MAX_INTERVAL_EVENTS`) only
    bounds the lines a seek unpacks."""

    def __init__(self, config: Config, start_ms: int, end_ms: int, *,
                 every: int | None = None, budget_s: float | None = None,
                 timer: Callable[[], float] | None = None) -> None:  # fmt: skip
        if end_ms <= start_ms:
            raise ValueError("the window's end must be after its start")
        self.config = config
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.budget_s = budget_s if timer is not None else None
        if every is None:
            every = CHECKPOINT_EVENTS if self.budget_s is None else MAX_INTERVAL_EVENTS
        self.every = every
        self.timer = timer
        self.state = BoardState(config)
        self.cursor = 0  # events applied, in event-time order
        self.now = start_ms  # the virtual clock
        self.markers: list[Marker] = []
        self.end_snapshot: Snapshot | None = None
        # The snapshot at the end of each business day in the window (the last: the end's).
        self.day_snapshots: list[Snapshot] = []
        self._ts = array("q")  # event time of every admitted event, ascending
        self._cp_index: list[int] = []  # checkpoint i holds the state after _cp_index[i] events
        self._checkpoints: list[bytes] = []
        self._segments: list[bytes] = []  # lines of the events after checkpoint i, joined
        self._seg_cache: tuple[int, list[bytes]] = (-1, [])
        # Admission rejections (ts, read rank, rejection): ts -1 when unreadable (always in).
        self._rejections: list[tuple[int, int, Rejection]] = []
        self._dup_ts = array("q")  # admission duplicates' event times, ascending
        self._adm_cache: tuple[int, dict[str, int], list[Rejection]] = (-1, {}, [])
        self._own: tuple[dict[str, int], list[Rejection], int] = ({}, [], 0)
        self._merged: tuple[dict[str, int], int] = ({}, 0)

    # ---- loading --------------------------------------------------------------------------

    @property
    def events(self) -> int:
        return len(self._ts)

    @property
    def checkpoints(self) -> int:
        return len(self._checkpoints)

    def checkpoint_bytes(self) -> int:
        return sum(map(len, self._checkpoints)) + sum(map(len, self._segments))

    def load(self, lines: Iterable[tuple[int, bytes]],
             progress: Callable[[int], None] | None = None) -> None:  # fmt: skip
        """Read `(read rank, NDJSON line)` pairs. The rank orders lines as `fold_until` would
        read them (a file's line number; stream i, entry j as (i << 40) + j); lines may come
        in another order (streams merged by time), and in any event-time order."""
        # Millions of short-lived tuples and events, and the fold makes no cycles: the
        # collector's passes over them cost up to a fifth of the pass (measured on the
        # midnight spike; docs/performance.md).
        with _collector_off():
            self._load(lines, progress)

    def _load(self, lines: Iterable[tuple[int, bytes]],
              progress: Callable[[int], None] | None) -> None:  # fmt: skip
        end = self.end_ms
        gate = EntryGate(round(self.config.board.dedup_window_minutes * 60_000))
        apply = self.state.apply
        in_order = True
        last_ts = 0
        pending: list[bytes] = []
        unsorted: list[tuple[int, int, bytes]] = []  # (ts, rank, line) once out of order
        dups: list[int] = []
        ranks = array("q")  # read ranks of the events folded so far (for a late re-sort)
        day_end = 0
        self._checkpoint()
        count = 0
        told = 0
        source = iter(lines)
        # Batches: one byte scan and one msgspec call decode a few thousand lines.
        while batch := list(islice(source, _BATCH)):
            count += len(batch)
            if progress is not None and count - told >= _PROGRESS_EVERY:
                progress(count)
                told = count
            decoded = decode_lines([line for _, line in batch])
            for (rank, line), (item, stream) in zip(batch, decoded, strict=True):
                if not isinstance(item, Event):
                    if item.ts is None or item.ts <= end:
                        self._rejections.append((-1 if item.ts is None else item.ts, rank, item))
                    continue
                ts = item.ts
                if ts > end:
                    continue
                entry_id = item.entry_id
                if entry_id is not None:
                    is_new = (gate.stream_entry_is_new(stream, entry_id) if stream is not None
                              else gate.file_entry_is_new(entry_id, ts))  # fmt: skip
                    if not is_new:
                        dups.append(ts)
                        continue
                if in_order and ts < last_ts:
                    in_order = False
                    unsorted = list(zip(self._ts, ranks, self._all_lines(pending), strict=True))
                    pending = []
                if not in_order:
                    unsorted.append((ts, rank, line))
                    continue
                last_ts = ts
                if ts >= day_end:
                    day_end = self._day_turn(item)
                else:
                    apply(item)
                self._ts.append(ts)
                ranks.append(rank)
                pending.append(line)
                if self._due(pending):
                    self._keep_lines(pending)
                    pending = []
                    self._checkpoint()
        if progress is not None:
            progress(count)
        if not in_order:
            # By time, then read order: as fold_until's stable sort of what it read.
            unsorted.sort(key=lambda item: (item[0], item[1]))
            self._refold([line for _, _, line in unsorted])
        else:
            self._keep_lines(pending)
        dups.sort()
        self._dup_ts = array("q", dups)
        self._rejections.sort(key=lambda item: item[0])
        self._finish()

    def _due(self, pending: list[bytes]) -> bool:
        """Time for a checkpoint: `every` events, or the fold-time budget spent."""
        count = len(pending)
        if count >= self.every:
            return True
        if self.budget_s is None or count & 0xFF:
            return False
        assert self.timer is not None
        return self.timer() - self._segment_began >= self.budget_s

    def _checkpoint(self) -> None:
        compact(self.state)
        self._cp_index.append(len(self._ts))
        self._checkpoints.append(dump_state(self.state))
        self._segment_began = self.timer() if self.timer is not None else 0.0

    def _all_lines(self, pending: list[bytes]) -> list[bytes]:
        lines = [line for segment in range(len(self._segments))
                 for line in self._segment_lines(segment)]  # fmt: skip
        return lines + pending

    def _keep_lines(self, lines: list[bytes]) -> None:
        """The lines of one checkpoint interval, compressed (a fifth of the size)."""
        self._segments.append(_pack(b"\n".join(lines)))

    def _refold(self, lines: list[bytes]) -> None:
        self.state = BoardState(self.config)
        apply = self.state.apply
        self._ts = array("q")
        self._segments, self._checkpoints, self._cp_index = [], [], []
        self._seg_cache = (-1, [])
        self._checkpoint()
        pending: list[bytes] = []
        self.day_snapshots = []
        day_end = 0
        for first in range(0, len(lines), _BATCH):
            batch = lines[first:first + _BATCH]
            for line, (event, _) in zip(batch, decode_lines(batch), strict=True):
                assert isinstance(event, Event)
                if event.ts >= day_end:
                    day_end = self._day_turn(event)
                else:
                    apply(event)
                self._ts.append(event.ts)
                pending.append(line)
                if self._due(pending):
                    self._keep_lines(pending)
                    pending = []
                    self._checkpoint()
        self._keep_lines(pending)

    def _day_turn(self, event: Event) -> int:
        """Apply an event that may open a new business day; before it does, keep a snapshot of
        the day ending (its alerts and callouts) if it overlaps the window. The new day's end."""
        day = self.state.day
        # A complaint event moves no clock (its day does not turn): only others end a day.
        if day is not None and event.ts >= day.end_ms and event.type not in COMPLAINT_TYPES:
            self._keep_day(day.start_ms, day.end_ms)
        self.state.apply(event)
        return self.state.day.end_ms if self.state.day is not None else 0

    def _keep_day(self, day_start: int, day_end: int) -> None:
        if day_end > self.start_ms and day_start <= self.end_ms:
            copy = copy_state(self.state)
            copy.advance(min(day_end - 1, self.end_ms))
            self.day_snapshots.append(build_snapshot(copy))

    def _finish(self) -> None:
        """After the first pass: markers from each day's end, then back to the start."""
        self._own_from_state()
        self.cursor = len(self._ts)
        self.now = max(self.now, self.state.as_of)
        day = self.state.day
        if day is not None and self.end_ms >= day.end_ms:
            self._keep_day(day.start_ms, day.end_ms)
        self._go(self.end_ms)
        # The state is thrown away next (the seek restores a checkpoint): no copy needed.
        self.end_snapshot = build_snapshot(self.state)
        self.day_snapshots.append(self.end_snapshot)
        found = {m for snap in self.day_snapshots
                 for m in markers_of(snap, self.start_ms, self.end_ms)}  # fmt: skip
        self.markers = sorted(found)
        self.seek(self.start_ms)

    # ---- moving ---------------------------------------------------------------------------

    def seek(self, t: int) -> None:
        """The state at virtual time `t` (clamped to the window): every event up to `t`."""
        t = min(max(t, self.start_ms), self.end_ms)
        self.goto(bisect_right(self._ts, t), t)

    def step_event(self, delta: int = 1) -> None:
        """One event of the window forward (or back): the clock moves to that event's time."""
        first = bisect_right(self._ts, self.start_ms)  # the events up to the start stay
        target = min(max(self.cursor + delta, first), len(self._ts))
        if target == self.cursor:
            return
        t = self._ts[target - 1] if target > first else self.start_ms
        self.goto(target, min(t, self.end_ms))

    def step_minute(self, delta: int = 1) -> None:
        self.seek(self.now + delta * MINUTE_MS)

    def restart(self) -> None:
        self.seek(self.start_ms)

    def play_to(self, t: int) -> None:
        """Playback: forward only (a cheap fold of the new events)."""
        if t > self.now:
            self.seek(t)

    def goto(self, index: int, t: int) -> None:
        """Apply exactly the first `index` events and set the clock to `t`."""
        target = bisect_right(self._cp_index, index) - 1
        if index < self.cursor or t < self.now or target > self._segment_of(self.cursor):
            self._restore(target)
        self._fold_to(index)
        self._go(t)

    def _segment_of(self, index: int) -> int:
        return bisect_right(self._cp_index, index) - 1

    def _go(self, t: int) -> None:
        self.now = max(t, self.state.as_of)
        self.state.advance(t)
        self._merge(t)

    def _restore(self, checkpoint: int) -> None:
        self.state = load_state(self._checkpoints[checkpoint])
        self.cursor = self._cp_index[checkpoint]
        self.now = self.state.as_of
        self._own_from_state()

    def _own_from_state(self) -> None:
        """The state holds only what its own `apply` rejected: take that as the base."""
        state = self.state
        self._own = (dict(state.rejected), list(state.recent_rejections), state.events_duplicate)
        self._merged = (dict(state.rejected), state.events_duplicate)

    def _fold_to(self, index: int) -> None:
        apply = self.state.apply
        while self.cursor < index:
            segment = self._segment_of(self.cursor)
            offset = self.cursor - self._cp_index[segment]
            lines = self._segment_lines(segment)
            stop = min(len(lines), offset + index - self.cursor, offset + _BATCH)
            for event, _ in decode_lines(lines[offset:stop]):
                assert isinstance(event, Event)
                apply(event)
            self.cursor += stop - offset

    def _segment_lines(self, segment: int) -> list[bytes]:
        cached, lines = self._seg_cache
        if cached != segment:
            blob = self._segments[segment]
            text = _unpack(blob)
            lines = text.split(b"\n") if text else []
            self._seg_cache = (segment, lines)
        return lines

    # ---- admission rejections and duplicates, merged in as fold_until counts them ----------

    def _merge(self, t: int) -> None:
        state = self.state
        own_counts, own_recent, own_dup = self._own
        merged_counts, merged_dup = self._merged
        # What apply rejected since the last merge is the fold's own: keep it.
        fresh = {reason: n - merged_counts.get(reason, 0) for reason, n in state.rejected.items()}
        new = sum(fresh.values())
        if new > 0:
            own_counts = {r: own_counts.get(r, 0) + fresh.get(r, 0) for r in state.rejected}
            own_recent = (own_recent + list(state.recent_rejections)[-new:])[-RECENT_REJECTIONS:]
        own_dup += state.events_duplicate - merged_dup
        self._own = (own_counts, own_recent, own_dup)
        counts, recent = self._admitted(t)
        state.rejected = {reason: own_counts.get(reason, 0) + counts.get(reason, 0)
                          for reason in state.rejected}  # fmt: skip
        state.recent_rejections = deque((recent + own_recent)[-RECENT_REJECTIONS:],
                                        maxlen=RECENT_REJECTIONS)  # fmt: skip
        state.events_duplicate = own_dup + bisect_right(self._dup_ts, t)
        self._merged = (dict(state.rejected), state.events_duplicate)

    def _admitted(self, t: int) -> tuple[dict[str, int], list[Rejection]]:
        count = bisect_right(self._rejections, t, key=lambda item: item[0])
        cached, counts, recent = self._adm_cache
        if cached != count:
            included = self._rejections[:count]
            counts = {}
            for _, _, rejection in included:
                counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
            last = sorted(included, key=lambda item: item[1])[-RECENT_REJECTIONS:]
            recent = [rejection for _, _, rejection in last]
            self._adm_cache = (count, counts, recent)
        return counts, recent

    # ---- reading ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return build_snapshot(self.state)

    def snapshot_at(self, t: int) -> Snapshot:
        self.seek(t)
        return self.snapshot()

    def samples(self, step_ms: int, *, with_agents: bool = True) -> Iterator[Snapshot]:
        """Snapshots from the window's start to its end every `step_ms` (the end included);
        `self.state` is the state of each while the caller holds it."""
        t = self.start_ms
        self.seek(t)
        while True:
            yield build_snapshot(self.state, with_agents=with_agents)
            if t >= self.end_ms:
                return
            t = min(self.end_ms, t + step_ms)
            self.play_to(t)

    def next_marker(self, direction: int = 1) -> Marker | None:
        """Jump to the next (or previous) alert or callout; None when there is none."""
        if direction > 0:
            ahead = [m for m in self.markers if m.at_ms > self.now]
            target = min(ahead, default=None)
        else:
            behind = [m for m in self.markers if m.at_ms < self.now]
            target = max(behind, default=None)
        if target is not None:
            self.seek(target.at_ms)
        return target


def markers_of(snap: Snapshot, start_ms: int, end_ms: int) -> list[Marker]:
    """Alerts raised and callouts made within the window, in time order."""
    found = [Marker(a.raised_at_ms, "alert", f"{a.severity} {a.rule} {a.subject}")
             for a in snap.alerts if start_ms <= a.raised_at_ms <= end_ms]  # fmt: skip
    found += [Marker(c.called_at_ms, "callout", f"callout {c.id} {c.queue}")
              for c in snap.callouts if start_ms <= c.called_at_ms <= end_ms]  # fmt: skip
    return sorted(found)
