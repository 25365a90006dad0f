"""Content styles for levels and bands (theme variables, so every theme and the kiosk's high
contrast apply), always next to a word or symbol that carries the same meaning."""

from __future__ import annotations

from typing import Final

from textual.content import Content

from widgets.fmt import LABELS, Level
from widgets.safe_text import plain

LEVEL_STYLE: Final[dict[str, str]] = {
    "ok": "$success",
    "warn": "$warning bold",
    "crit": "$error bold reverse",
    "none": "$text-muted",
}


def tagged(text: str, level: Level) -> tuple[str, str]:
    return (text, LEVEL_STYLE[level])


def badge(level: Level) -> tuple[str, str]:
    return (f" {LABELS[level]} ", LEVEL_STYLE[level])


def line(*parts: str | tuple[str, str] | Content) -> Content:
    """Content from plain text and (text, style) pieces. The text is cleaned here (widgets'
    last line of defence: nothing raw reaches the terminal) and never parsed as markup; the
    styles are ours."""
    return Content.assemble(*(
        part if isinstance(part, Content)
        else plain(part) if isinstance(part, str)
        else (plain(part[0]), part[1])
        for part in parts))  # fmt: skip
