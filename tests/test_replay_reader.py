"""The replay's file reader: a file's lines with their numbers (blank lines counted, not given)."""

from __future__ import annotations

import gzip
from pathlib import Path

from feeds.replay_reader import file_lines

CONTENT = b'{"a":1}\r\n\n  \n{"b":2}\n{"c":3}\r\r\n{"d":4}'  # no newline at the end


def test_lines_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "day.ndjson"
    path.write_bytes(CONTENT)
    # Line 1 and 2 are blank; the \r before a line's end goes with it.
    want = [(0, b'{"a":1}'), (3, b'{"b":2}'), (4, b'{"c":3}'), (5, b'{"d":4}')]
    assert list(file_lines(path)) == want
    gz = tmp_path / "day.ndjson.gz"
    gz.write_bytes(gzip.compress(CONTENT))
    assert list(file_lines(gz)) == want


def test_progress_is_told_the_bytes_read(tmp_path: Path) -> None:
    path = tmp_path / "day.ndjson"
    path.write_bytes(b'{"a":1}\n' * 1000)
    seen: list[int] = []
    assert len(list(file_lines(path, seen.append))) == 1000
    assert seen[-1] == 8000
