"""A list that renders its rows itself (Textual's line API) with per-row caching.

A DataTable repaints its whole visible area when one cell changes; here each visible line
remembers what it drew, and a new list of items refreshes only the lines whose text changed.
Rows are formatted lazily, only when visible, so 2,000 agents cost a sort, not 2,000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, Literal, NamedTuple, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wallboard.core.sanitize import clean
from widgets.safe_text import UNBOUNDED

T = TypeVar("T")

# One cell: its text and a style name (a component class suffix, "" for plain).
Cell = tuple[str, str]
Row = tuple[Cell, ...]

STYLE_NAMES: tuple[str, ...] = ("header", "cursor", "ok", "warn", "crit", "none", "under",
                                "healthy", "over", "dim", "key")  # fmt: skip


class Column(NamedTuple):
    title: str
    width: int
    align: Literal["left", "right"] = "left"
    grow: int = 0  # share of spare width
    drop: int = 0  # columns with a higher number are hidden first when narrow (0 = never)


class RowList(ScrollView, Generic[T], can_focus=True):
    """Rows of `items`, formatted by `format_row(item, widths)`; a fixed header line."""

    DEFAULT_CSS = """
    RowList { height: 1fr; }
    RowList > .rowlist--header { text-style: bold; background: $panel; }
    RowList > .rowlist--cursor { background: $accent 40%; text-style: bold; }
    RowList:focus > .rowlist--cursor { background: $accent 70%; }
    RowList > .rowlist--ok { color: $success; }
    RowList > .rowlist--warn { color: $warning; text-style: bold; }
    RowList > .rowlist--crit { color: $error; text-style: bold reverse; }
    RowList > .rowlist--none { color: $text-muted; }
    RowList > .rowlist--under { color: $primary-lighten-3; text-style: italic; }
    RowList > .rowlist--healthy { color: $success; }
    RowList > .rowlist--over { color: $error; text-style: bold; }
    RowList > .rowlist--dim { color: $text-muted; }
    RowList > .rowlist--key { text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"rowlist--{name}" for name in STYLE_NAMES}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    class Selected(Message):
        def __init__(self, row_list: RowList[object], key: str) -> None:
            super().__init__()
            self.row_list = row_list
            self.key = key

        @property
        def control(self) -> RowList[object]:
            return self.row_list

    def __init__(self, columns: Sequence[Column], format_row: Callable[[T, tuple[int, ...]], Row],
                 key: Callable[[T], str], *, show_cursor: bool = True, empty: str = "",
                 id: str | None = None, classes: str | None = None) -> None:  # fmt: skip
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self._format_row = format_row
        self._key = key
        self.show_cursor = show_cursor
        self.empty = empty
        self.items: Sequence[T] = ()
        self.cursor = 0
        self._cursor_key: str | None = None
        self._widths: tuple[int, ...] = ()
        self._layout_width = -1
        self._rows: dict[int, Row] = {}  # item index -> formatted row, for the current items
        self._drawn: dict[int, tuple[Row, bool, int]] = {}  # viewport line -> what it shows
        self._strips: LRUCache[tuple[Row, bool, int], Strip] = LRUCache(2048)
        self._styles: dict[str, Style] = {}

    # ---- data -------------------------------------------------------------------------

    def set_items(self, items: Sequence[T]) -> None:
        """Show `items`; repaint only the visible lines whose text changed."""
        self.items = items
        self._rows.clear()
        if self._cursor_key is not None:
            for index, item in enumerate(items):
                if self._key(item) == self._cursor_key:
                    self.cursor = index
                    break
        self.cursor = max(0, min(self.cursor, len(items) - 1))
        self._remember_cursor()
        size = Size(self.size.width, len(items) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self._refresh_changed()

    def cursor_key(self) -> str | None:
        return self._cursor_key

    def _remember_cursor(self) -> None:
        self._cursor_key = self._key(self.items[self.cursor]) if self.items else None

    def _row(self, index: int) -> Row:
        row = self._rows.get(index)
        if row is None:
            row = self._format_row(self.items[index], self._column_widths())
            self._rows[index] = row
        return row

    def _line_content(self, y: int) -> tuple[Row, bool, int]:
        width = self.size.width
        if y == 0:
            return (tuple((c.title, "header") for c in self.columns), False, width)
        index = self.scroll_offset.y + y - 1
        if 0 <= index < len(self.items):
            return (self._row(index), self.show_cursor and index == self.cursor, width)
        if index == 0 and self.empty:
            return (((self.empty, "dim"),), False, width)
        return ((), False, width)

    def _refresh_changed(self) -> None:
        width = self.size.width
        for y in range(self.size.height):
            if self._drawn.get(y) != self._line_content(y):
                self.refresh(Region(0, y, width, 1))

    # ---- layout -----------------------------------------------------------------------

    def _column_widths(self) -> tuple[int, ...]:
        """Widths per column (0 = hidden): drop optional columns until the rest fit, then
        share the spare width among the growing ones."""
        width = self.size.width
        if width == self._layout_width:
            return self._widths
        shown = list(self.columns)
        def need(cols: list[Column]) -> int:
            return sum(c.width for c in cols) + max(0, len(cols) - 1)
        while need(shown) > width and any(c.drop for c in shown):
            shown.remove(max((c for c in shown if c.drop), key=lambda c: c.drop))
        spare = max(0, width - need(shown))
        growth = sum(c.grow for c in shown) or 1
        widths = []
        for column in self.columns:
            if column not in shown:
                widths.append(0)
            else:
                widths.append(column.width + spare * column.grow // growth)
        self._widths = tuple(widths)
        self._layout_width = width
        self._rows.clear()
        return self._widths

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.items) + 1)
        self._drawn.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self._drawn.clear()

    # ---- drawing ----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base + self.get_component_rich_style(f"rowlist--{name}") if name else base
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        content = self._line_content(y)
        self._drawn[y] = content
        strip = self._strips.get(content)
        if strip is None:
            strip = self._build_strip(*content)
            self._strips[content] = strip
        return strip

    def _build_strip(self, row: Row, selected: bool, width: int) -> Strip:
        segments: list[Segment] = []
        cursor = self._style("cursor") if selected else None
        if len(row) == 1 and len(self.columns) > 1:  # a message line (empty list)
            cells: list[tuple[Cell, int, str]] = [(row[0], width, "left")]
        else:
            cells = [(cell, w, column.align) for cell, w, column
                     in zip(row, self._column_widths(), self.columns, strict=False) if w > 0]
        gap_style = self._style(row[0][1] if row and row[0][1] == "header" else "")
        if cursor is not None:
            gap_style = gap_style + cursor
        for i, ((raw, style_name), w, align) in enumerate(cells):
            if i:
                segments.append(Segment(" ", gap_style))
            style = self._style(style_name)
            if cursor is not None:
                style = style + cursor
            text = clean(raw, UNBOUNDED)  # what a formatter forgot: nothing raw reaches the screen
            pad = w - cell_len(text)
            shown = " " * pad + text if align == "right" and pad > 0 else text
            segments.append(Segment(set_cell_size(shown, w), style))
        used = sum(seg.cell_length for seg in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), gap_style))
        return Strip(segments, width).crop(0, width)

    # ---- keys -------------------------------------------------------------------------

    def _move(self, index: int) -> None:
        if not self.items:
            return
        self.cursor = max(0, min(index, len(self.items) - 1))
        self._remember_cursor()
        top = self.scroll_offset.y
        rows = max(1, self.size.height - 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)
        self._refresh_changed()

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, delta: int) -> None:
        self._move(self.cursor + delta * max(1, self.size.height - 2))

    def action_cursor_to(self, index: int) -> None:
        self._move(len(self.items) - 1 if index < 0 else index)

    def action_select(self) -> None:
        if self.items:
            self.post_message(self.Selected(self, self._key(self.items[self.cursor])))  # type: ignore[arg-type]

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._drawn.clear()
