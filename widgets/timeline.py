"""The replay's timeline: the window as one bar, alert (!) and callout (C) markers, the cursor.

Plain data in (times and marker kinds), no replay engine: widgets only draw."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from textual.content import Content
from textual.widgets import Static

from widgets.styles import line

MARKS = {"alert": ("!", "$error bold"), "callout": ("C", "$accent bold")}


def timeline_cells(width: int, start_ms: int, end_ms: int, now_ms: int,
                   markers: Sequence[tuple[int, str]]) -> list[tuple[str, str]]:  # fmt: skip
    """One (character, style) per cell: the past filled, markers, the cursor as a block."""
    width = max(width, 1)
    span = max(end_ms - start_ms, 1)

    def cell(ms: int) -> int:
        return min(width - 1, max(0, (ms - start_ms) * width // span))

    cursor = cell(now_ms)
    cells = [("━", "$primary") if i < cursor else ("─", "$text-muted") for i in range(width)]
    for at_ms, kind in markers:
        if start_ms <= at_ms <= end_ms:
            index = cell(at_ms)
            if cells[index][0] != "!":  # an alert outranks a callout in a shared cell
                cells[index] = MARKS.get(kind, ("?", "$warning"))
    cells[cursor] = ("█", "$warning bold")
    return cells


class Timeline(Static):
    DEFAULT_CSS = """
    Timeline { dock: bottom; height: 2; background: $panel; }
    """

    def __init__(self, tz: ZoneInfo, start_ms: int, end_ms: int,
                 markers: Sequence[tuple[int, str]], **kwargs: str) -> None:  # fmt: skip
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self.tz = tz
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.markers = list(markers)
        self.now_ms = start_ms

    def show(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.update(self._content(self.size.width or 80))

    def on_resize(self) -> None:
        self.update(self._content(self.size.width or 80))

    def _content(self, width: int) -> Content:
        start = datetime.fromtimestamp(self.start_ms / 1000, self.tz)
        end = datetime.fromtimestamp(self.end_ms / 1000, self.tz)
        left, right = f"{start:%H:%M} ", f" {end:%H:%M}"
        bar = max(1, width - len(left) - len(right))
        cells = timeline_cells(bar, self.start_ms, self.end_ms, self.now_ms, self.markers)
        alerts = sum(1 for _, kind in self.markers if kind == "alert")
        callouts = len(self.markers) - alerts
        legend = (f"! alert ({alerts})  C callout ({callouts})  █ now · space play/pause · [ ] "
                  "speed · . , event · ← → minute · t time · n N marker · r restart")
        return Content("\n").join([line(left, *cells, right), line((legend, "$text-muted"))])
