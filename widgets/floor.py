"""Floor summary: agents by state, staffed vs available, bots."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from wallboard.core.snapshot import Snapshot
from widgets.fmt import pct
from widgets.styles import line

_STATE_LABEL = {"available": "available", "busy": "busy", "wrap_up": "wrap-up",
                "break": "break", "away": "away", "logged_out": "logged out"}  # fmt: skip


class _Box(Static):
    DEFAULT_CSS = """
    _Box { border: round $primary; padding: 0 1; height: auto; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.border_title = title
        self._content: Content | None = None

    def _set(self, content: Content) -> None:
        if content != self._content:
            # A layout pass only when the number of lines changed (the box is height: auto).
            same_height = self._content is not None and (
                self._content.plain.count("\n") == content.plain.count("\n"))
            self._content = content
            self.update(content, layout=not same_height)


class FloorSummary(_Box):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Floor", id=id)

    def show(self, snap: Snapshot) -> None:
        f, b = snap.floor, snap.bots
        parts: list[str | tuple[str, str]] = [
            ("staffed ", "bold"), (f"{f.staffed}", "bold"),
            "  available ", (f"{f.available}", "$success bold"), "\n",
        ]  # fmt: skip
        width = max((len(v) for v in _STATE_LABEL.values()), default=10)
        biggest = max(f.by_state.values(), default=0) or 1
        for state, label in _STATE_LABEL.items():
            count = f.by_state.get(state, 0)
            bar = "▇" * round(6 * count / biggest)
            parts += [f"{label:<{width}} {count:>5} ", (bar, "$accent"), "\n"]
        parts += [("bots ", "bold"), f"resolved {b.resolved_today} · escalated "
                  f"{b.escalated_today} · contained {pct(b.containment_today)}"]  # fmt: skip
        self._set(line(*parts))
