"""Content styles for levels and bands (theme variables, so every theme and the kiosk's high
contrast apply), always next to a word or symbol that carries the same meaning."""

from __future__ import annotations

from typing import Final

from textual.content import Content

from widgets.fmt import LABELS, Level

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
    return Content.assemble(*parts)
