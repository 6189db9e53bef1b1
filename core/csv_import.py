"""Reading a CSV file into a CSVTable, safely, on any thread.

    table = read_csv_table(path, progress=callback, cancelled=flag)
    dataset, notes = build_dataset(table, options)           # core.csv_dataset

Every way a file can fail ends in CSVImportError with the file's name and, where it
applies, the line and column, and what to do.  The file is parsed by pandas.read_csv in
one pass; progress and cancelling ride on the stream pandas reads from, so they add
nothing to pandas' own time.  The table carries the SHA-256 of the bytes it was read from
(table.sha256, for sessions), taken while reading; a file that changes while it is read
is refused rather than loaded half old, half new.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from .csv_format import (DELIMITER_NAMES, MISSING_MARKERS, SAMPLE_BYTES, CSVFormat, check_rows,
                         latin1_note, ragged_row, sniff)
from .errors import CSVImportError, ImportCancelled
from .tabular import CSVTable, tidy_frame

# Parsed numbers take about as many bytes as their text; pandas' buffers, the data set
# and its train/test copies add two more of that.
MEMORY_PER_FILE_BYTE = 3


def read_csv_table(path, progress=None, cancelled=None) -> CSVTable:
    """Read and describe a CSV file.  progress(fraction) is called as it reads (from the
    calling thread); cancelled() is polled, and True stops it with ImportCancelled."""
    path = Path(path)
    name = path.name or str(path)
    state = _file_state(path, name)
    size = state.st_size
    _check_memory(size, name)
    with _open(path, name) as f:
        head = f.read(SAMPLE_BYTES)
    if not head:
        raise CSVImportError(f"{name}: the file is empty — export the data again, with its rows")
    sample = sniff(head, whole_file=len(head) >= size, name=name)
    fmt = sample.format
    check_rows(sample.rows, fmt, name)     # beyond the sample, pandas finds long rows
    expected = len(sample.rows[0][1])
    try:
        frame, sha256 = _read_frame(path, name, state, fmt, expected, progress, cancelled)
        if len(frame) == 0:
            raise CSVImportError(f"{name}: has a header ({_names(frame)}) but no data rows "
                                 "— export the data again, with its rows")
        if frame.shape[1] < 2:
            raise _one_column(name, sample.rows)
        table = CSVTable(path, tidy_frame(frame, fmt.decimal), fmt, sha256=sha256)
        if table.n_rows == 1:
            raise CSVImportError(f"{name}: has only one data row (line {table.line_of(0)}) — "
                                 "a network learns from many rows: export the data again, "
                                 "with all its rows")
        return table
    except MemoryError:
        raise _too_large(name, size) from None


def _one_column(name: str, rows: list) -> CSVImportError:
    """Values separated by spaces (scikit-learn's diabetes and linnerud files, old
    fixed-width exports) look like one column: say so, rather than only what is needed."""
    widths = [len(fields[0].split()) for _, fields in rows if fields]
    if widths and widths[0] >= 2 and widths.count(widths[0]) >= 0.8 * len(widths):
        return CSVImportError(
            f"{name}: its values are separated by spaces, which is not read as CSV — replace "
            "the spaces by commas or tabs (a spreadsheet's Save as CSV does it)")
    return CSVImportError(
        f"{name}: found only one column — a table needs feature columns and a target "
        "column, separated by commas, semicolons or tabs")


def _file_state(path: Path, name: str) -> os.stat_result:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CSVImportError(f"{path}: no such file — was it moved or deleted?") from None
    except OSError as e:
        raise CSVImportError(f"{path}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise CSVImportError(f"{path}: is a folder, not a file — choose a .csv file in it")
    if not stat.S_ISREG(info.st_mode):
        raise CSVImportError(f"{path}: is not a regular file — choose a .csv file")
    return info


def _same_file(before: os.stat_result, after: os.stat_result | None) -> bool:
    """The same file, unchanged: not replaced (device, inode), not written (size, time)."""
    def key(info):
        return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns
    return after is not None and key(before) == key(after)


def _changed(name: str) -> CSVImportError:
    return CSVImportError(f"{name}: changed while it was being read — open it again "
                          "once it is saved")


def _open(path: Path, name: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CSVImportError(f"{path}: no such file — was it moved or deleted?") from None
    except PermissionError:
        raise CSVImportError(f"{name}: cannot be read: permission denied — "
                             "check the file's permissions or copy it somewhere you can read") from None
    except OSError as e:
        raise CSVImportError(f"{name}: cannot be read ({e.strerror})") from None


def available_memory() -> int | None:
    """Bytes of memory free for a new allocation, or None where the system does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(size: int, name: str):
    free = available_memory()
    if free is not None and size * MEMORY_PER_FILE_BYTE > free:
        raise _too_large(name, size, free)


def _too_large(name: str, size: int, free: int | None = None) -> CSVImportError:
    mb = 1 << 20
    have = "" if free is None else f", {free // mb} MB free"
    return CSVImportError(
        f"{name}: too large for the memory available ({size // mb} MB file, about "
        f"{size * MEMORY_PER_FILE_BYTE // mb} MB needed{have}) — use a sample of its rows "
        "or close other programs")


class _ProgressReader(io.RawIOBase):
    """The file as pandas reads it: hashes and counts its bytes, reports how far it got,
    and stops it when cancelled."""

    def __init__(self, raw, size: int, progress, cancelled, name: str):
        self.raw, self.size, self.name = raw, max(size, 1), name
        self.progress, self.cancelled = progress, cancelled
        self.digest = hashlib.sha256()
        self.done = 0
        self.reported = 0.0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.cancelled is not None and self.cancelled():
            raise ImportCancelled(f"{self.name}: loading cancelled")
        try:
            n = self.raw.readinto(buffer)
        except OSError as e:
            raise _stopped(self.name, e, self.done / self.size) from None
        self.digest.update(memoryview(buffer)[:n])
        self.done += n
        fraction = self.done / self.size
        if self.progress is not None and fraction - self.reported >= 0.01:
            self.reported = fraction
            self.progress(min(fraction, 1.0))
        return n


def _stopped(name: str, error: OSError, fraction: float | None = None) -> CSVImportError:
    where = "" if fraction is None else f" {int(100 * fraction)}% of the way"
    return CSVImportError(f"{name}: reading stopped{where} ({error.strerror or error}) — was "
                          "the file moved, deleted or changed while loading? Try again")


def _read_frame(path, name, state, fmt: CSVFormat, n_columns, progress, cancelled):
    try:
        return _pandas_read(path, name, state, fmt, n_columns, progress, cancelled)
    except UnicodeDecodeError as e:
        if fmt.encoding not in ("utf-8", "utf-8-sig"):
            raise CSVImportError(f"{name}: is not valid {fmt.encoding} text ({e.reason}) — "
                                 "save it again as UTF-8 CSV") from None
    # Valid UTF-8 in the first megabyte, not further on: a Latin-1 file after all.
    fmt.encoding = "latin-1"
    fmt.notes.append(latin1_note(name))
    return _pandas_read(path, name, state, fmt, n_columns, progress, cancelled)


def _pandas_read(path, name, state, fmt: CSVFormat, n_columns, progress, cancelled):
    """(frame, SHA-256 of the file).  Given a path, pandas (3.1) reads a large file on
    every core; given a stream — which progress and cancelling need — on one.  So the
    stream only when someone watches, and it hashes what pandas reads; else a second
    thread hashes the file while pandas reads it.  Either way the file must be the one
    that was sniffed (`state`), unchanged at the end and read to its last byte."""
    if progress is None and cancelled is None:
        return _read_path(path, name, state, fmt, n_columns)
    with _open(path, name) as raw:
        reader = _ProgressReader(raw, state.st_size, progress, cancelled, name)
        try:
            frame = _parse(io.BufferedReader(reader, 1 << 20), name, fmt, n_columns)
        except CSVImportError:      # a row cut short by a change reads as a broken row
            if not _same_file(state, os.fstat(raw.fileno())):
                raise _changed(name) from None
            raise
        if reader.done != state.st_size or not _same_file(state, os.fstat(raw.fileno())):
            raise _changed(name)
    if progress is not None:
        progress(1.0)
    return frame, reader.digest.hexdigest()


def _read_path(path, name, state, fmt: CSVFormat, n_columns):
    """pandas reads the path while a second thread hashes the file (hashlib lets go of the
    interpreter, so the two run side by side)."""
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(_hash_file, path, stop)
        try:
            frame = _parse(str(path), name, fmt, n_columns)
        except BaseException as e:
            stop.set()
            if isinstance(e, CSVImportError) and not _same_file(state, _stat_or_none(path)):
                raise _changed(name) from None
            raise
        try:
            digest, n_bytes, hashed_state = hashing.result()
        except OSError as e:
            raise _stopped(name, e) from None
    if n_bytes != state.st_size or not (_same_file(state, hashed_state) and
                                        _same_file(state, _stat_or_none(path))):
        raise _changed(name)
    return frame, digest


def _hash_file(path, stop: threading.Event):
    """(SHA-256, bytes read, the file's state once read); stops early when told."""
    digest, n_bytes = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            if stop.is_set():
                break
            digest.update(block)
            n_bytes += len(block)
        return digest.hexdigest(), n_bytes, os.fstat(f.fileno())


def _stat_or_none(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def _parse(source, name: str, fmt: CSVFormat, n_columns: int) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # Mixed-type columns are expected (tidy_frame makes them text), not news; but
            # pandas dropping cells it has no column for must not pass silently.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                source, sep=fmt.delimiter, decimal=fmt.decimal, encoding=fmt.encoding,
                skiprows=fmt.skip_lines, header=0 if fmt.header else None,
                names=None if fmt.header else [f"col{i + 1}" for i in range(n_columns)],
                na_values=list(MISSING_MARKERS), keep_default_na=False,
                skipinitialspace=fmt.quote_after_space, skip_blank_lines=True,
                index_col=False, engine="c")
    except pd.errors.EmptyDataError:
        raise CSVImportError(f"{name}: the file is empty — export the data again, "
                             "with its rows") from None
    except pd.errors.ParserError as e:
        raise _parser_error(name, str(e), fmt) from None
    except pd.errors.ParserWarning:
        raise CSVImportError(f"{name}: some rows have more fields than the first — a stray "
                             f"{DELIMITER_NAMES[fmt.delimiter]} or a missing quote? Fix them "
                             "and load the file again") from None
    except UnicodeDecodeError:
        raise
    except OSError as e:
        raise _stopped(name, e) from None
    except ValueError as e:
        raise CSVImportError(f"{name}: cannot be read as a table ({_first_line(e)}) — "
                             "is it really a CSV file?") from None


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting (?:at|on) (?:row|line) (\d+)")


def _parser_error(name: str, message: str, fmt: CSVFormat) -> CSVImportError:
    ragged = _RAGGED.search(message)
    if ragged:
        expected, line, saw = map(int, ragged.groups())
        return ragged_row(name, line, saw, expected, fmt)
    quote = _OPEN_QUOTE.search(message)
    if quote:
        return CSVImportError(f"{name}: a quoted cell starting on line {int(quote.group(1)) + 1} "
                              "never ends — a missing closing quote (\")? Fix that line")
    return CSVImportError(f"{name}: cannot be read as a table ({_first_line(message)}) — "
                          "is it really a CSV file?")


def _first_line(message) -> str:
    return str(message).strip().splitlines()[0] if str(message).strip() else "unknown problem"


def _names(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
