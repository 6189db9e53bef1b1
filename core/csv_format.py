"""How is this CSV file written?  Encoding, delimiter, decimal comma and header row,
guessed from the file's first megabyte — and files that are not text refused early.

Real exports vary: Excel in Europe writes `1.234,5` separated by `;`, Windows tools put a
byte-order mark before UTF-8 or write Latin-1, some tools write no header row, and some a
title or a line of metadata above the table (scikit-learn's "178,13,class_0,…").  pandas
reads every one of these once told which; this module tells it.  Everything here works on
the sample's text alone, so it is cheap however large the file.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from .errors import CSVImportError

# Cells that mean "no value": the usual spellings, plus the lower-case ones Python and R
# write, SQL's NULL and Excel's #N/A.
MISSING_MARKERS = ("", "NA", "N/A", "NaN", "?", "-", "na", "n/a", "nan", "NULL", "null", "#N/A")

SAMPLE_BYTES = 1 << 20          # what the guesses (and the ragged-row check) look at
SNIFF_ROWS = 200                # rows the delimiter / decimal / header guesses weigh
MAX_PREAMBLE = 10               # lines above the table that are skipped, at most
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}

# A number as a cell may spell it, with '.' or ',' as the decimal mark; the grouped forms
# (1,234.5 and 1.234,5) are what spreadsheets write with thousands separators on.
NUMBER = {".": re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"),
          ",": re.compile(r"[-+]?(\d+,?\d*|,\d+)([eE][-+]?\d+)?")}
GROUPED = {".": re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?"),
           ",": re.compile(r"[-+]?\d{1,3}(\.\d{3})+(,\d+)?")}
_DOT_DECIMAL = re.compile(r"[-+]?\d*\.\d+([eE][-+]?\d+)?")
_COMMA_DECIMAL = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d*),\d+")

# The first bytes of file types people rename to .csv or pick by mistake.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or LibreOffice .ods workbook?): "
                    "open it in its program and save it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (an Excel .xls workbook?): "
                          "open it in Excel and save it as CSV"),
    (b"\x1f\x8b", "gzip-compressed: unpack it first (gunzip)"),
    (b"%PDF", "a PDF document, not a table of values"),
    (b"\x89PNG", "a PNG image, not a table of values"),
    (b"\xff\xd8\xff", "a JPEG image, not a table of values"),
    (b"GIF8", "a GIF image, not a table of values"),
    (b"SQLite format 3\x00", "an SQLite database: export a table from it as CSV"),
    (b"\x93NUMPY", "a NumPy .npy file, not text"),
    (b"PAR1", "a Parquet file, not text"),
    (b"\x7fELF", "a program, not a table of values"),
)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


@dataclass
class CSVFormat:
    encoding: str           # as Python and pandas name it
    delimiter: str
    decimal: str            # "." or ","
    header: bool            # is the first row the column names?
    quote_after_space: bool = False     # `a, "b, c"`: the quote must still open a cell
    notes: list = field(default_factory=list)
    skip_lines: int = 0     # lines above the table (a title, metadata), left unread

    def describe(self) -> str:
        encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "latin-1": "Latin-1",
                    "utf-16": "UTF-16"}.get(self.encoding, self.encoding)
        parts = [f"{DELIMITER_NAMES[self.delimiter]}-separated", encoding,
                 "decimal comma" if self.decimal == "," else None,
                 "header row" if self.header else "no header row"]
        return ", ".join(p for p in parts if p)


@dataclass
class Sample:
    """The guessed format and the sample's rows: (line number, fields), blank lines left out."""
    format: CSVFormat
    rows: list


def counted(n: int, thing: str) -> str:
    """ "1 input", "2 inputs", "1,200 training rows": the messages' counts."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def is_number(cell: str, decimal: str) -> bool:
    cell = cell.strip()
    return bool(NUMBER[decimal].fullmatch(cell) or GROUPED[decimal].fullmatch(cell))


def is_missing(cell: str) -> bool:
    return cell.strip() in MISSING_MARKERS


def sniff(head: bytes, whole_file: bool, name: str) -> Sample:
    """Guess the format from `head`, the first bytes of the file (all of it if whole_file)."""
    _refuse_binary(head, name)
    encoding, text, notes = _decode(head, whole_file, name)
    if not whole_file:
        text = text[:text.rfind("\n") + 1]      # the sample's last line may be cut short
        if not text:
            raise CSVImportError(f"{name}: its first line is over {SAMPLE_BYTES >> 20} MB "
                                 "long: not a table of rows — is it really a CSV file?")
    if not text.strip(" \t\r\n\ufeff"):
        raise CSVImportError(f"{name}: the file is empty — export the data again, with its rows")
    rows = {d: parse_rows(text, d, SNIFF_ROWS) for d in DELIMITER_NAMES}
    delimiter = _choose_delimiter(rows)
    if not rows[delimiter]:
        raise CSVImportError(f"{name}: no rows of values found — is it really a CSV file?")
    above = preamble_length(rows[delimiter])
    table = rows[delimiter][above:]
    decimal = _choose_decimal(table, delimiter)
    if above and not any(_header_votes(table, decimal)):
        # Nothing below reads as a table of numbers (a second line of text?): keep the
        # lines, and check_rows tells the user to delete the text above the table.
        above, table = 0, rows[delimiter]
        decimal = _choose_decimal(table, delimiter)
    header = _has_header(table, decimal)
    fmt = CSVFormat(encoding, delimiter, decimal, header, f'{delimiter} "' in text, notes)
    if above:
        fmt.skip_lines = table[0][0] - 1
        fmt.notes.append(_preamble_note(name, rows[delimiter][:above], len(table[0][1]), delimiter))
    numbers = [c.strip() for c in table[0][1] if is_number(c, decimal)] if header else []
    if numbers:     # e.g. scikit-learn's iris.csv: "150,4,setosa,versicolor,virginica"
        shown = ", ".join(f"'{c}'" for c in numbers[:4]) + (", …" if len(numbers) > 4 else "")
        fmt.notes.append(f"{name}: line {table[0][0]} is taken for the column names, though "
                         f"{len(numbers)} of them are numbers ({shown}) — if it is not a header, "
                         "add one above it")
    return Sample(fmt, [row for row in parse_rows(text, delimiter) if row[0] > fmt.skip_lines])


def preamble_length(rows: list) -> int:
    """How many of the first rows are not part of the table: rows with fewer fields than
    the table below them, which at least 90 % of the other rows agree on, and some text.
    (Not when the wider rows only add empty cells: that is a delimiter at the end of every
    line.)"""
    counts = [len(fields) for _, fields in rows]
    if not counts:
        return 0
    widths = {c: counts.count(c) for c in set(counts)}
    width = max(widths, key=lambda c: (widths[c], c))
    above = next((i for i, c in enumerate(counts) if c >= width), 0)
    rest = counts[above:]
    if not 0 < above <= MAX_PREAMBLE or width < 2 or len(rest) < 2 or rest.count(width) < 0.9 * len(rest):
        return 0
    last = counts[above - 1]
    if all(not c.strip() for _, fields in rows[above:] for c in fields[last:]):
        return 0
    # A short row of numbers alone is more likely a broken row of the table than a title.
    if any(all(is_number(c, ".") or is_number(c, ",") or is_missing(c) for c in fields)
           for _, fields in rows[:above]):
        return 0
    return above


def _preamble_note(name: str, skipped: list, width: int, delimiter: str) -> str:
    first, last = skipped[0][0], skipped[-1][0]
    lines = f"line {first}" if first == last else f"lines {first}–{last}"
    text = delimiter.join(skipped[0][1])
    text = text if len(text) <= 40 else text[:39] + "…"
    return (f"{name}: {lines} ('{text}') skipped: not a row of the table below, whose rows "
            f"have {width} fields")


def parse_rows(text: str, delimiter: str, limit: int | None = None) -> list:
    """(line number, fields) of the rows, as the csv module (and pandas) split them; blank
    lines are left out, as pandas leaves them out (a line of delimiters is a row)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows = []
    try:
        for fields in reader:
            if len(fields) > 1 or fields and fields[0].strip():
                rows.append((reader.line_num, fields))
                if limit is not None and len(rows) >= limit:
                    break
    except csv.Error:
        pass        # a malformed field ends the sample here; pandas names it when it reads
    return rows


def check_rows(rows: list, fmt: CSVFormat, name: str):
    """Rows longer than the first have cells with no column to go in: an error naming the
    line.  Shorter rows are common — exports leave out empty trailing cells — so their
    absent cells count as missing, with a note."""
    (first_line, first), rest = rows[0], rows[1:]
    expected = len(first)
    longer = next(((line, fields) for line, fields in rest if len(fields) > expected), None)
    if longer and expected == 1:
        raise CSVImportError(
            f"{name}: does not start with a row of the table: line {first_line} has one field "
            f"but line {longer[0]} has {len(longer[1])} — delete any text above the table")
    if longer:
        raise ragged_row(name, longer[0], len(longer[1]), expected, fmt)
    shorter = next((line for line, fields in rest if len(fields) < expected), None)
    if shorter is not None:
        fmt.notes.append(f"{name}: some rows (the first on line {shorter}) have fewer than "
                         f"{expected} fields: their absent cells count as missing")


def ragged_row(name: str, line: int, saw: int, expected: int, fmt: CSVFormat) -> CSVImportError:
    where = "the header" if fmt.header else "the first row"
    return CSVImportError(
        f"{name}: line {line} has {saw} fields but {where} has {expected} — a stray "
        f"{DELIMITER_NAMES[fmt.delimiter]} or a missing quote? Fix that line and load the file again")


def _refuse_binary(head: bytes, name: str):
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise CSVImportError(f"{name}: is not a CSV file but {what}")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return                                   # UTF-16 text is full of zero bytes
    control = sum(head.count(bytes([b])) for b in _CONTROL)
    if b"\0" in head or control > len(head) // 100:
        raise CSVImportError(f"{name}: is not a text file (it holds binary data) — "
                             "export your table as CSV and load that file")


def _decode(head: bytes, whole_file: bool, name: str):
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        # Incremental, so a character cut in half at the sample's end is not an error.
        return encoding, codecs.getincrementaldecoder(encoding)().decode(head, final=whole_file), []
    except UnicodeDecodeError as e:
        if encoding == "utf-16":
            raise CSVImportError(f"{name}: starts like UTF-16 text but byte {e.start} is not "
                                 "— save it again as UTF-8 CSV") from None
    return "latin-1", head.decode("latin-1"), [latin1_note(name)]


def latin1_note(name: str) -> str:
    return (f"{name} is not UTF-8 text: read it as Latin-1 (Windows Western) — "
            "check that accented letters look right")


def _choose_delimiter(rows: dict) -> str:
    """Tab, then semicolon, then comma: the first that splits the rows into the same number
    (≥ 2) of fields.  Semicolon goes before comma because semicolon files use the comma as
    their decimal mark, which splits every number in two."""
    shares = {}
    for delimiter, sample in rows.items():
        counts = [len(fields) for _, fields in sample[preamble_length(sample):]]
        if not counts or counts[0] < 2:
            continue
        share = counts.count(counts[0]) / len(counts)
        if share >= 0.8:
            return delimiter
        shares[delimiter] = share
    return max(shares, key=shares.get) if shares else ","


def _choose_decimal(rows: list, delimiter: str) -> str:
    """The decimal mark most number cells agree on.  Between commas a decimal comma can
    only stand in a quoted cell ("2040,92", as spreadsheets set to a European language
    export them); there "1,234" is rather a thousands separator, so it does not count."""
    cells = [c.strip() for _, fields in rows[1:] for c in fields]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(c)) and
                not (delimiter == "," and GROUPED["."].fullmatch(c)) for c in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(c)) and not GROUPED[","].fullmatch(c) for c in cells)
    return "," if comma > dot else "."


def _has_header(rows: list, decimal: str) -> bool:
    """A column of numbers under a first cell that is not a number says "header"; one
    whose first cell is a number too says "no header".  Tables of text alone: a header if
    its cells are all filled, all different, and none recurs below it."""
    first, body = rows[0][1], [fields for _, fields in rows[1:]]
    votes_for, votes_against = _header_votes(rows, decimal)
    if votes_for or votes_against:
        return votes_for > votes_against
    if not body:
        return not all(is_number(c, decimal) or is_missing(c) for c in first)
    names = [c.strip() for c in first]
    if not all(names) or len(set(names)) < len(names):
        return False
    return not any(j < len(r) and r[j].strip() == names[j] for r in body for j in range(len(names)))


def _header_votes(rows: list, decimal: str) -> tuple:
    """(for, against) a header: per column of numbers, whether its first cell is one."""
    first, body = rows[0][1], [fields for _, fields in rows[1:]]
    votes_for = votes_against = 0
    for j, cell in enumerate(first):
        below = [r[j] for r in body if j < len(r) and not is_missing(r[j])]
        if not below or sum(is_number(c, decimal) for c in below) < 0.9 * len(below):
            continue
        if is_number(cell, decimal):
            votes_against += 1
        elif not is_missing(cell):
            votes_for += 1
    return votes_for, votes_against
