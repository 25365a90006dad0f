"""Trend charts (plotext): waiting and service level over the last two hours (the axis spans
the data there is, at least 5 minutes), offered per 5 minutes. Counts get whole-number ticks;
the service-level chart draws the target as a line.

Building a plotext chart costs 40-90 ms, so charts only redraw when `redraw()` is called (the
app does it at most `display.chart_hz` times a second) and only when their data changed."""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from wallboard.core.trend_history import TrendHistory
from wallboard.i18n import _

HISTORY_MIN: float = 120.0  # the ring's span
LEAST_SPAN_MIN: float = 5.0


def span_minutes(xs: Sequence[float]) -> float:
    """How far back the time axis reaches: the oldest sample (minutes ago, negative), rounded
    up to a whole minute, between 5 and 120 minutes."""
    if not xs:
        return LEAST_SPAN_MIN
    return min(HISTORY_MIN, max(LEAST_SPAN_MIN, float(math.ceil(-min(xs)))))


def time_ticks(span: float, most: int = 6) -> list[int]:
    """Whole minutes on the time axis, from -span to 0."""
    step = max(1, math.ceil(span / most))
    return list(range(-(int(span) // step) * step, 1, step))


def _labelled(ticks: list[int]) -> tuple[list[float], list[str]]:
    """Ticks and their labels as whole numbers (plotext would print 1.0)."""
    return [float(t) for t in ticks], [str(t) for t in ticks]


def count_ticks(values: Sequence[float], most: int = 5) -> list[int]:
    """Whole-number ticks from 0 to at least the largest count, at most `most` + 1 of them."""
    top = max(1, math.ceil(max(values, default=0)))
    step = max(1, math.ceil(top / most))
    return list(range(0, top + step, step))


class TrendCharts(Vertical):
    DEFAULT_CSS = """
    TrendCharts { height: 1fr; }
    TrendCharts > PlotextPlot { height: 1fr; min-height: 6; }
    """

    def __init__(self, history: TrendHistory, *, sl_target: float = 0.8,
                 id: str | None = None) -> None:  # fmt: skip
        super().__init__(id=id)
        self.history = history
        self.sl_target = sl_target  # the floor's target, drawn as a line on the SL chart
        self._drawn = -1
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="chart-waiting")
        yield PlotextPlot(id="chart-sl")
        yield PlotextPlot(id="chart-offered")

    def redraw(self) -> None:
        if self.history.version == self._drawn or not self.is_mounted:
            return
        self._drawn = self.history.version
        self.redraws += 1
        h = self.history
        now = h.samples[-1].at_ms if h.samples else 0
        xs = [(s.at_ms - now) / 60_000 for s in h.samples]
        waiting = self.query_one("#chart-waiting", PlotextPlot)
        plt = waiting.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Waiting now (all queues), minutes ago")
        span = span_minutes(xs)
        counts = [s.waiting for s in h.samples]
        if xs:
            plt.plot(xs, counts, marker="braille")
        plt.xlim(-span, 0)
        plt.xticks(*_labelled(time_ticks(span)))
        ticks = count_ticks(counts)
        plt.yticks(*_labelled(ticks))
        plt.ylim(0, ticks[-1])
        waiting.refresh()

        sl_chart = self.query_one("#chart-sl", PlotextPlot)
        plt = sl_chart.plt
        plt.clear_data()
        plt.clear_figure()
        target = self.sl_target * 100
        plt.title("Service level in the window (all queues, %), minutes ago" + " · "
                  + _("target {target}% (the line)").format(target=f"{target:.0f}"))
        points = [(x, s.service_level * 100) for x, s in zip(xs, h.samples, strict=True)
                  if s.service_level is not None]  # fmt: skip
        plt.hline(target, "red")
        if points:
            plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille")
        plt.xlim(-span, 0)
        plt.xticks(*_labelled(time_ticks(span)))
        plt.ylim(0, 100)
        plt.yticks(*_labelled([0, 20, 40, 60, 80, 100]))
        sl_chart.refresh()

        offered = self.query_one("#chart-offered", PlotextPlot)
        plt = offered.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Offered per 5 minutes")
        if h.offered:
            last = h.offered[-1][0]
            bars = [count for _start, count in h.offered]
            plt.bar([(start - last) // 60_000 for start, _count in h.offered], bars, width=0.6)
            plt.yticks(*_labelled(count_ticks(bars)))
        offered.refresh()
