"""Trend charts (plotext): waiting and service level over two hours, offered per 5 minutes.

Building a plotext chart costs 40-90 ms, so charts only redraw when `redraw()` is called (the
app does it at most `display.chart_hz` times a second) and only when their data changed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from wallboard.core.trend_history import TrendHistory


class TrendCharts(Vertical):
    DEFAULT_CSS = """
    TrendCharts { height: 1fr; }
    TrendCharts > PlotextPlot { height: 1fr; min-height: 6; }
    """

    def __init__(self, history: TrendHistory, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
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
        if xs:
            plt.plot(xs, [s.waiting for s in h.samples], marker="braille")
        plt.xlim(-120, 0)
        waiting.refresh()

        sl_chart = self.query_one("#chart-sl", PlotextPlot)
        plt = sl_chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Service level in the window (all queues, %), minutes ago")
        points = [(x, s.service_level * 100) for x, s in zip(xs, h.samples, strict=True)
                  if s.service_level is not None]  # fmt: skip
        if points:
            plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille")
        plt.xlim(-120, 0)
        plt.ylim(0, 100)
        sl_chart.refresh()

        offered = self.query_one("#chart-offered", PlotextPlot)
        plt = offered.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Offered per 5 minutes")
        if h.offered:
            last = h.offered[-1][0]
            plt.bar([(start - last) // 60_000 for start, _ in h.offered],
                    [count for _, count in h.offered], width=0.6)
        offered.refresh()
