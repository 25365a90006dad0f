"""Turn msgspec's validation errors on the raw TOML into `key: problem` lines an operator can act
on: the full dotted key (dict members by their name, not msgspec's `[...]`), what the key
takes (its type and range, from the config's own types) and the value that was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

Segment = str | int
# C0 controls, DEL and C1 controls: never in a config string (they would reach the screen).
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")
_AT: Final = re.compile(r"^(?P<text>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_SEGMENT: Final = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_GOT: Final = {"float": "a float", "int": "an integer", "str": "a string", "bool": "a boolean",
               "array": "an array", "object": "a table", "null": "nothing",
               "datetime": "a date-time", "date": "a date", "time": "a time"}  # fmt: skip
_ANY: Final = "..."  # msgspec's name for "some member of this dict"


def key_name(segments: list[Segment]) -> str:
    """`["webhooks", 0, "url"]` -> `webhooks[0].url`; control characters shown escaped."""
    text = ""
    for part in segments:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + escape(part)
    return text


def escape(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def control_chars(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Every key or string value with a control character (walked without recursion: a
    hostile file may nest deeply)."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[list[Segment], object]] = [([], raw)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for name, member in value.items():
                if _CONTROL.search(name):
                    problems.append((key_name([*where, name]), "the key contains a control "
                                     "character"))  # fmt: skip
                stack.append(([*where, name], member))
        elif isinstance(value, list):
            stack.extend(([*where, index], member) for index, member in enumerate(value))
        elif isinstance(value, str) and _CONTROL.search(value):
            problems.append((key_name(where), "must not contain control characters"))
    return sorted(problems)


def explain(exc: msgspec.ValidationError, raw: dict[str, Any], root: type,
            convert: Callable[[dict[str, Any]], object]) -> tuple[str, str]:  # fmt: skip
    """The (key, problem) of msgspec's error converting `raw` to `root`. `convert` repeats the
    conversion, to find which member of a dict msgspec's `[...]` stood for."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    text, path = match.group("text"), match.group("path") or ""
    segments = _resolve(_segments(path), raw, convert)
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", text, re.DOTALL)
    if unknown:
        return key_name([*segments, unknown.group(1)]), "unknown key"
    if text.startswith("Object missing required field"):
        return key_name(segments), text
    takes = describe(_type_at(mi.type_info(root), segments))
    value = _value_at(raw, segments)
    got = re.fullmatch(r"Expected `[^`]+`, got `([^`]+)`", text)
    if got and takes:
        return key_name(segments), f"must be {takes}, not {_GOT.get(got.group(1), got.group(1))}" \
                                   f"{_shown(value)}"  # fmt: skip
    if takes:
        return key_name(segments), f"must be {takes}{_shown(value)}"
    return key_name(segments), text


def _segments(path: str) -> list[Segment]:
    segments: list[Segment] = []
    for name, index in _SEGMENT.findall(path):
        if name:
            segments.append(name)
        else:
            segments.append(_ANY if index == _ANY else int(index))
    return segments


def _resolve(segments: list[Segment], raw: dict[str, Any],
             convert: Callable[[dict[str, Any]], object]) -> list[Segment]:  # fmt: skip
    """Replace each `[...]` by the member's name: convert again with only one member of that
    dict at a time; the member whose error stays at the same place is the one at fault."""
    while _ANY in segments:
        at = segments.index(_ANY)
        table = _value_at(raw, segments[:at])
        if not isinstance(table, dict):
            break
        for name, member in table.items():
            try:
                convert(_replaced(raw, segments[:at], {name: member}))
            except msgspec.ValidationError as again:
                match = _AT.match(str(again))
                assert match is not None
                if _segments(match.group("path") or "")[: at + 1] == [*segments[:at], _ANY]:
                    segments = [*segments[:at], name, *segments[at + 1:]]
                    break
        else:
            break
    return segments


def _replaced(raw: Any, where: list[Segment], value: object) -> Any:
    """A copy of `raw` with the value at `where` replaced; only that path is copied."""
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(raw, dict) and isinstance(head, str):
        return {**raw, head: _replaced(raw[head], rest, value)}
    if isinstance(raw, list) and isinstance(head, int):
        return [*raw[:head], _replaced(raw[head], rest, value), *raw[head + 1:]]
    return raw


def _value_at(raw: Any, where: list[Segment]) -> Any:
    value = raw
    for part in where:
        found = (isinstance(value, dict) and isinstance(part, str) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and part < len(value))
        if not found:
            return None
        value = value[part]
    return value


def _type_at(info: mi.Type, where: list[Segment]) -> mi.Type | None:
    current: mi.Type | None = info
    for part in where:
        current = _member(current, part)
    return current


def _member(info: mi.Type | None, part: Segment) -> mi.Type | None:
    if isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        for option in info.types:
            found = _member(option, part)
            if found is not None:
                return found
        return None
    if isinstance(info, mi.StructType) and isinstance(part, str):
        return next((f.type for f in info.fields if f.encode_name == part), None)
    if isinstance(info, mi.DictType) and isinstance(part, str):
        return info.value_type
    if isinstance(info, mi.ListType) and isinstance(part, int):
        return info.item_type
    return None


def describe(info: mi.Type | None) -> str:
    """What a key takes, in words: `an integer from 1 to 65535`, `a table`."""
    if isinstance(info, mi.Metadata):
        described = (info.extra_json_schema or {}).get("description")
        return str(described) if described else describe(info.type)
    if isinstance(info, mi.UnionType):
        options = [describe(t) for t in info.types if not isinstance(t, mi.NoneType)]
        return " or ".join(option for option in options if option)
    if isinstance(info, mi.FloatType | mi.IntType):
        noun = "a number" if isinstance(info, mi.FloatType) else "an integer"
        return noun + _range(info.ge, info.gt, info.le, info.lt)
    if isinstance(info, mi.StrType):
        if info.min_length:
            return "a string that is not empty"
        return "a string" + (f" of at most {info.max_length} characters"
                             if info.max_length is not None else "")  # fmt: skip
    if isinstance(info, mi.BoolType):
        return "true or false"
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in info.values)
    if isinstance(info, mi.ListType):
        return "an array" + _of(describe(info.item_type))
    if isinstance(info, mi.StructType | mi.DictType):
        return "a table"
    return ""


def _of(item: str) -> str:
    """` of strings`, ` of numbers from 0 to 1`: an array's items, in the plural."""
    words = item.split(" ", 2)
    if len(words) >= 2 and words[0] in ("a", "an"):
        return " of " + " ".join([words[1] + "s", *words[2:]])
    return f" of values each {item}" if item else ""


def _range(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    if ge is not None and le is not None:
        return f" from {_number(ge)} to {_number(le)}"
    parts = []
    for words, bound in (("at least", ge), ("above", gt), ("at most", le), ("below", lt)):
        if bound is not None:
            parts.append(f"{words} {_number(bound)}")
    return (" " + " and ".join(parts)) if parts else ""


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _shown(value: object) -> str:
    """` (got nan)`; long values cut, so a hostile file cannot flood the terminal."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, int) and value.bit_length() > 64:  # repr of a 5,000-digit int fails
        return f" (got an integer of {value.bit_length()} bits)"
    text = value.isoformat() if isinstance(value, date | time) else repr(value)
    return f" (got {text if len(text) <= 40 else text[:37] + '...'})"
