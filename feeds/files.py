"""NDJSON event files (optionally gzip-compressed): one JSON object per line, the contract's
fields plus an optional `_id` carrying the stream entry ID (and, in archives, `_stream`).

A `.gz` file is read member after member (concatenated members are one valid file). A fault
in it (a file cut short, a damaged byte, a checksum that does not match, bytes after the gzip
data, a file that is not gzip at all) raises `DamagedFile`, naming the file and the fault;
with a `Salvage` given, reading stops at the fault instead, after the lines before it, and
the `Salvage` says what was lost."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, Final, NamedTuple

import msgspec

from wallboard.core.ingest import RawEntry
from wallboard.core.linedecode import parse_line

_encoder = msgspec.json.Encoder()
_CHUNK: Final = 1 << 16
_MAGIC: Final = b"\x1f\x8b"
_GZIP_ONLY: Final = 16 + zlib.MAX_WBITS  # zlib reads the gzip header and checks the trailer


class DamagedFile(Exception):
    """A compressed file that cannot be read whole: `str()` names the file and the fault.
    `salvageable`: some data came before the fault (a salvaging read keeps it)."""

    def __init__(self, path: str, fault: str, salvageable: bool) -> None:
        super().__init__(f"{path}: {fault}")
        self.path = path
        self.fault = fault
        self.salvageable = salvageable


class Fault(NamedTuple):
    """What is wrong with a file, and what a salvaging read loses to it."""

    text: str  # the fault, for an error line
    brief: str  # in a few words
    unread: int = 0  # the file's bytes from the fault on, not read
    lines_lost: bool = True  # False: every line was read (trailing bytes, a checksum)
    aside: str = ""  # when every line was read: what is still wrong


class Salvage:
    """What a salvaging read went past: `fault` None when the file was whole.

    `lines` counts the lines read, the one cut at the fault included: it is yielded, so the
    decoder rejects it as `malformed`; `lines_cut` is that cut line (0 or 1). A fault before
    any data (not gzip, a damaged first header) raises all the same: nothing to salvage."""

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.lines = 0
        self.lines_cut = 0

    def summary(self, path: str) -> str | None:
        """One line for the operator, or None when there was nothing to salvage."""
        fault = self.fault
        if fault is None:
            return None
        head = f"{path}: {fault.text}; salvaged {self.lines:,} lines"
        if not fault.lines_lost:
            return f"{head}, no line lost ({fault.aside})"
        cut = ("1 line cut at the fault (counted as malformed)" if self.lines_cut
               else "no line cut at the fault")  # fmt: skip
        after = (f"the {fault.unread:,} bytes from there unreadable" if fault.unread
                 else "whatever the file held past its end")  # fmt: skip
        return f"{head}; lost: {cut}, and {after}"

    def note(self) -> str | None:
        """A few words for where the source is named (a report, the replay's header)."""
        if self.fault is None:
            return None
        return (f"damaged: {self.fault.brief}; salvaged {self.lines:,} lines, "
                f"{self.lines_cut} cut")  # fmt: skip


# zlib's words for a check that fails once every byte is read.
_CHECK_FAULTS: Final = {
    "incorrect data check": "its CRC-32 checksum does not match the data",
    "incorrect length check": "its length field does not match the data",
}


def _stop(path: str, fault: Fault, salvage: Salvage | None, read_any: bool) -> None:
    """Raise, or (salvaging what came before) keep the fault: the read then stops."""
    if salvage is None or not read_any:
        raise DamagedFile(path, fault.text, read_any)
    salvage.fault = fault


def _refeed(inflater: zlib._Decompress, data: bytes) -> tuple[bytes, int]:
    """The output of `data` up to the byte zlib refuses, and that byte's index: the call that
    raised returned nothing, so each byte is fed again alone (only once, at a fault)."""
    out = []
    for at in range(len(data)):
        try:
            out.append(inflater.decompress(data[at:at + 1]))
        except zlib.error:
            return b"".join(out), at
    return b"".join(out), len(data)


def _only_trailer_missing(inflater: zlib._Decompress, crc: int, length: int) -> bool:
    """Whether the member's data is complete and only (part of) its 8-byte trailer is missing:
    the trailer its output would have, or its tail, ends the member cleanly."""
    trailer = struct.pack("<II", crc, length & 0xFFFFFFFF)
    for kept in range(len(trailer)):
        probe = inflater.copy()
        try:
            probe.decompress(trailer[kept:])
        except zlib.error:
            continue
        if probe.eof and not probe.unused_data:
            return True
    return False


def _zlib_fault(exc: zlib.error, at: int, size: int) -> Fault:
    words = str(exc).rpartition(": ")[2]
    check = _CHECK_FAULTS.get(words)
    if check is not None:
        return Fault(f"the gzip data is damaged: {check}", "checksum mismatch",
                     lines_lost=False, aside="but the data is damaged: any line may be wrong")
    return Fault(f"the gzip data is damaged (unreadable from byte {at:,}: {words})",
                 f"unreadable from byte {at:,}", size - at)  # fmt: skip


def _inflate(raw: BinaryIO, path: str, salvage: Salvage | None) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file, in pieces, member after member. Stops (or
    raises) at the first fault; as Python's gzip, zero bytes may pad the end of a member."""
    size = os.fstat(raw.fileno()).st_size
    data = b""  # read, not yet fed
    base = 0  # the file offset of data[0]
    inflater: zlib._Decompress | None = None
    read_any = False  # decompressed any byte
    crc = length = 0  # of the member's output, kept only to tell a salvage what a cut lost
    while True:
        if inflater is None:  # the start of the file, or the end of a member
            while True:
                if base > 0:
                    padded = len(data)
                    data = data.lstrip(b"\0")
                    base += padded - len(data)
                if len(data) >= len(_MAGIC):
                    break
                chunk = raw.read(_CHUNK)
                if not chunk:
                    break
                data += chunk
            if not data:
                return  # a clean end (an empty file is an empty archive, as for gzip)
            if not data.startswith(_MAGIC):
                _stop(path, Fault("not a gzip file (it does not start with a gzip header)",
                                  "not gzip", size) if base == 0 else
                      Fault(f"{size - base:,} bytes after the gzip data (from byte {base:,}) "
                            "are not gzip data", "bytes after the gzip data", size - base,
                            lines_lost=False, aside="the bytes after the data are ignored"),
                      salvage, read_any)  # fmt: skip
                return
            inflater = zlib.decompressobj(_GZIP_ONLY)
            crc = length = 0
        if not data:
            data = raw.read(_CHUNK)
            if not data:
                if salvage is not None and _only_trailer_missing(inflater, crc, length):
                    fault = Fault(f"the gzip trailer is cut short (the file ends at byte "
                                  f"{size:,}, in the checksum after the data)",
                                  "trailer cut short", lines_lost=False,
                                  aside="but the data could not be checked")  # fmt: skip
                else:
                    fault = Fault(f"the gzip data is cut short (the file ends at byte {size:,}, "
                                  "inside it)", "cut short")  # fmt: skip
                _stop(path, fault, salvage, read_any)
                return
        before = inflater.copy()
        try:
            out = inflater.decompress(data)
        except zlib.error as exc:
            good, at = _refeed(before, data)
            read_any = read_any or bool(good)
            yield good
            _stop(path, _zlib_fault(exc, base + at, size), salvage, read_any)
            return
        read_any = read_any or bool(out)
        if salvage is not None:
            crc = zlib.crc32(out, crc)
            length += len(out)
        yield out
        if inflater.eof:
            rest = inflater.unused_data
            base += len(data) - len(rest)
            data = rest
            inflater = None
        else:
            base += len(data)
            data = b""


def _gzip_lines(raw: BinaryIO, path: str, salvage: Salvage | None) -> Iterator[bytes]:
    """The lines of a gzip file (without their newline); the last may lack one."""
    pending: list[bytes] = []  # the pieces of a line not yet ended (joined once: linear)
    lines = 0
    for piece in _inflate(raw, path, salvage):
        if not piece:
            continue
        parts = piece.split(b"\n")
        if len(parts) == 1:
            pending.append(parts[0])
            continue
        if pending:
            pending.append(parts[0])
            parts[0] = b"".join(pending)
        pending = [parts.pop()]
        lines += len(parts)
        yield from parts
    rest = b"".join(pending)
    if rest:
        lines += 1
        yield rest
    if salvage is not None:
        salvage.lines = lines
        cut = salvage.fault is not None and salvage.fault.lines_lost and rest.strip()
        salvage.lines_cut = 1 if cut else 0


@contextmanager
def open_lines(path: str | Path,
               salvage: Salvage | None = None) -> Iterator[tuple[Iterable[bytes], BinaryIO]]:
    """The file's lines (a plain file's with their newline) and the raw file (its position:
    how far reading has come). `.gz` files are decompressed; see the module's docstring."""
    with open(path, "rb") as raw:
        if str(path).endswith(".gz"):
            yield _gzip_lines(raw, str(path), salvage), raw
        else:
            yield raw, raw  # a plain file iterates its own lines, at C speed


def read_ndjson(path: str | Path, salvage: Salvage | None = None) -> Iterator[RawEntry]:
    """Yield every line as a raw entry. A line that is not JSON (or nests too deep) is yielded
    as a non-mapping so that the decoder counts it as `malformed`; blank lines are skipped."""
    with open_lines(path, salvage) as (lines, _):
        for line in lines:
            if not line.strip():
                continue
            fields = parse_line(line)
            if isinstance(fields, dict):
                # An archive line (`wallboard export`) names its stream: duplicate checks are
                # then per stream, by entry ID, as when read from Redis.
                stream, entry_id = fields.get("_stream"), fields.get("_id")
                if isinstance(stream, str) and isinstance(entry_id, str):
                    yield RawEntry(stream, entry_id, fields)
                    continue
            yield RawEntry(None, None, fields)


def _open_for_writing(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "wb")  # type: ignore[return-value]
    return open(path, "wb")


def write_ndjson(path: str | Path, records: Iterable[dict[str, str]]) -> int:
    """Write flat records, one per line; returns the count."""
    count = 0
    with _open_for_writing(Path(path)) as handle:
        for record in records:
            handle.write(_encoder.encode(record))
            handle.write(b"\n")
            count += 1
    return count
