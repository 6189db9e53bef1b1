"""A table read from a CSV file, and what each of its columns looks like.

Every column gets a kind, the first thing a user needs to decide what to do with it:
    numeric         numbers (a few stray non-numbers are counted as missing, with a note)
    categorical     a handful of repeated labels (island = Biscoe, Dream, Torgersen)
    text            a different label on (nearly) every row: names, comments, codes;
                    and dates
    constant        one value throughout: nothing to learn from
    mostly missing  more than half the cells empty
and a default role: identifiers (1, 2, 3, … or a column called id), text, constant and
mostly-missing columns are ignored; the rest are features; the last usable column is the
target.  Nothing here is training maths: it is counting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .csv_format import GROUPED, MISSING_MARKERS, CSVFormat, counted

NUMERIC_SHARE = 0.9         # a column is numeric if this share of its values are numbers
CATEGORY_LIMIT = 50         # more distinct labels than this: text, not a category
MISSING_LIMIT = 0.5         # more missing than this: "mostly missing"
TOO_LARGE = 1e100           # beyond this, squares overflow: no network can train on it
PREVIEW_ROWS = 20

KINDS = ("numeric", "categorical", "text", "constant", "mostly missing")
ROLES = ("feature", "target", "ignore")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T][\d:.]+)?|\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_ID_NAME = re.compile(r"(?i)(id|index|idx|row|key|no\.?|nr\.?|#|unnamed.*)|.*(_id|Id|ID)")


@dataclass
class ColumnInfo:
    name: str
    kind: str                   # one of KINDS
    base: str                   # what it is used as unless told otherwise: numeric / categorical
    n_rows: int
    n_missing: int              # empty cells, missing markers and (numeric) non-numbers
    n_numbers: int              # cells that are numbers
    n_distinct: int | None      # None: a continuous numeric column (not counted)
    identifier: bool = False
    integers: bool = False
    levels: list = field(default_factory=list)        # categorical base: its labels, sorted
    minimum: float | None = None
    maximum: float | None = None
    junk: int = 0               # cells in a numeric column that are not numbers
    first_junk: tuple | None = None                   # (row, text)
    first_text: tuple | None = None                   # (row, text): first non-number
    too_large: tuple | None = None                    # (row, value) beyond TOO_LARGE
    summary: str = ""
    warning: str = ""

    @property
    def default_role(self) -> str:
        usable = self.kind in ("numeric", "categorical") and not self.identifier
        return "feature" if usable else "ignore"

    @property
    def few_integer_values(self) -> bool:
        """Two whole numbers (0/1), or up to ten that recur (grades 1–5): as a target,
        classes rather than a quantity."""
        k = self.n_distinct
        return self.integers and k is not None and (k == 2 or 2 < k <= 10 and self.n_numbers >= 3 * k)


class CSVTable:
    """The parsed file (a pandas DataFrame) with its columns described.  Conversions to
    numbers and to category codes are cached: the dialog asks for them on every change.
    `sha256`: the hash of the bytes it was read from, for a session to name the file by."""

    def __init__(self, path, frame: pd.DataFrame, fmt: CSVFormat, notes=(),
                 sha256: str | None = None):
        self.path = Path(path)
        self.frame = frame
        self.format = fmt
        self.sha256 = sha256
        self.notes = list(fmt.notes) + list(notes)
        self._numbers: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple] = {}
        self.columns = [describe_column(self, name) for name in frame.columns]
        self._by_name = {c.name: c for c in self.columns}

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def column_names(self) -> list:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnInfo:
        return self._by_name[name]

    def line_of(self, row: int) -> int:
        """The file line a data row came from (exact unless the file has blank lines or
        line breaks inside quoted cells)."""
        return row + self.format.skip_lines + (2 if self.format.header else 1)

    def describe(self) -> str:
        return (f"{self.name}: {counted(self.n_rows, 'row')} × {counted(len(self.columns), 'column')} "
                f"({self.format.describe()})")

    def default_target(self) -> str | None:
        usable = [c.name for c in self.columns if c.default_role == "feature"]
        return usable[-1] if usable else None

    def preview(self, n: int = PREVIEW_ROWS) -> list:
        """The first rows as text, missing cells empty."""
        head = self.frame.head(n)
        return [["" if pd.isna(v) else _format_value(v) for v in row]
                for row in head.itertuples(index=False)]

    def numbers(self, name: str) -> np.ndarray:
        """The column as float64, NaN where missing or not a (finite) number."""
        if name not in self._numbers:
            self._numbers[name] = _to_numbers(self.frame[name], self.format.decimal)
        return self._numbers[name]

    def codes(self, name: str) -> tuple:
        """(codes, labels): the column as category codes 0 .. k−1 (−1 where missing) and
        the sorted labels they stand for."""
        if name not in self._codes:
            series = self.frame[name]
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                codes, uniques = pd.factorize(self.numbers(name), sort=True)
                labels = [_format_value(v) for v in uniques]
            else:
                codes, uniques = pd.factorize(series, sort=True)
                labels = [str(v) for v in uniques]
            self._codes[name] = (codes.astype(np.int64, copy=False), labels)
        return self._codes[name]


def tidy_frame(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Column names stripped and never blank; text cells stripped, with missing markers
    that had spaces around them made missing; columns of mixed numbers and text made all
    text (pandas guesses types a chunk of rows at a time, so a column whose text comes
    late holds numbers from the chunks before)."""
    names, seen = [], set()
    for i, raw in enumerate(frame.columns):
        name = str(raw).strip()
        if not name or name.startswith("Unnamed: "):
            name = f"col{i + 1}"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    frame.columns = names
    for name in names:
        series = frame[name]
        if series.dtype == object:
            series = series.map(lambda v: _as_text(v, decimal))
        if pd.api.types.is_string_dtype(series):
            stripped = series.str.strip()
            frame[name] = stripped.mask(stripped.isin(MISSING_MARKERS))
    return frame


def _as_text(value, decimal: str):
    """A cell of a mixed column as the file wrote it (numbers with its decimal mark)."""
    if isinstance(value, str) or pd.isna(value):
        return value
    return repr(value).replace(".", decimal) if isinstance(value, float) else str(value)


def _to_numbers(series: pd.Series, decimal: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = series.astype(object).where(series.notna(), None)
        grouped = text.str.fullmatch(GROUPED[decimal].pattern).fillna(False).astype(bool)
        if decimal == ",":
            text = text.where(~grouped, text.str.replace(".", "", regex=False))
            text = text.str.replace(",", ".", regex=False)
        else:
            text = text.where(~grouped, text.str.replace(",", "", regex=False))
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():          # "inf" and 1e999 parse, but no network can use them
        values = np.where(infinite, np.nan, values)
    return values


def _format_value(v) -> str:
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    return str(v)


def describe_column(table: CSVTable, name: str) -> ColumnInfo:
    series = table.frame[name]
    n_rows = len(series)
    present = series.notna().to_numpy()
    n_present = int(present.sum())
    is_bool = pd.api.types.is_bool_dtype(series)
    values = table.numbers(name)
    is_number = ~np.isnan(values)
    n_numbers = int(is_number.sum())
    numeric = not is_bool and n_numbers > 0 and n_numbers >= NUMERIC_SHARE * n_present
    info = ColumnInfo(name, "", "numeric" if numeric else "categorical", n_rows,
                      n_missing=n_rows - (n_numbers if numeric else n_present),
                      n_numbers=n_numbers, n_distinct=None)
    not_number = present & ~is_number
    if not_number.any():
        row = int(np.argmax(not_number))
        info.first_text = (row, str(series.iloc[row]))
    if numeric:
        _describe_numeric(info, values, is_number, not_number)
        if info.junk:
            row, text = info.first_junk
            info.warning = (f"{info.junk} value{'s are' if info.junk > 1 else ' is'} not a number "
                            f"(line {table.line_of(row)}: {text!r}): counted as missing")
    else:
        _describe_categorical(info, table.codes(name), n_present)
    n_present = n_rows - info.n_missing
    if n_present == 0 or n_present < (1 - MISSING_LIMIT) * n_rows:
        info.kind = "mostly missing"
        info.summary = f"{info.n_missing} of {n_rows} missing"
    elif info.n_distinct == 1:
        info.kind = "constant"
        info.summary = f"always {info.levels[0] if info.levels else _format_value(info.minimum)}"
    elif numeric:
        info.kind = "numeric"
    else:
        unique_per_row = info.n_distinct == n_present and n_present >= 3
        dates = _looks_like_dates(info.levels)
        info.kind = ("text" if unique_per_row or dates or info.n_distinct > CATEGORY_LIMIT
                     else "categorical")
        info.identifier = unique_per_row
        if dates:
            info.summary = f"dates, {info.levels[0]} … {info.levels[-1]}"
            info.warning = ("dates are not inputs a network can use as they are: leave it "
                            "ignored, or add a column of numbers (e.g. days since the first)")
    return info


def _looks_like_dates(labels) -> bool:
    sample = labels[:200]
    return bool(sample) and sum(bool(_DATE.fullmatch(v)) for v in sample) >= NUMERIC_SHARE * len(sample)


def _describe_numeric(info: ColumnInfo, values, is_number, not_number):
    numbers = values if info.n_numbers == len(values) else values[is_number]
    info.minimum, info.maximum = float(numbers.min()), float(numbers.max())
    info.junk = int(not_number.sum())
    info.first_junk = info.first_text
    if max(-info.minimum, info.maximum) > TOO_LARGE:
        row = int(np.argmax(is_number & (np.abs(np.nan_to_num(values)) > TOO_LARGE)))
        info.too_large = (row, float(values[row]))
    # Most measured columns show a fraction within their first thousand values.
    info.integers = (_whole(numbers[:1000]) and _whole(numbers))
    if info.minimum == info.maximum:
        info.n_distinct = 1
    elif info.integers:
        info.n_distinct = int(np.unique(numbers).size)
        consecutive = info.maximum - info.minimum == info.n_numbers - 1
        info.identifier = (info.n_distinct == info.n_numbers >= 3 and
                           (consecutive or bool(_ID_NAME.fullmatch(info.name))))
    lo, hi = _format_value(info.minimum), _format_value(info.maximum)
    if info.identifier:
        info.summary = f"identifier ({lo} … {hi}, one per row)"
    elif info.n_distinct is not None and info.n_distinct <= 10:
        info.summary = f"whole numbers {lo} … {hi} ({info.n_distinct} values)"
    else:
        info.summary = f"{lo} … {hi}"


def _whole(numbers) -> bool:
    return bool(np.array_equal(numbers, np.floor(numbers)))


def _describe_categorical(info: ColumnInfo, codes_and_labels, n_present: int):
    codes, labels = codes_and_labels
    info.levels = labels
    info.n_distinct = len(labels)
    shown = ", ".join(labels[:4]) + (", …" if len(labels) > 4 else "")
    if info.n_distinct == n_present and n_present >= 3:
        info.summary = f"{info.n_distinct} different values, one per row: {shown}"
    else:
        info.summary = f"{info.n_distinct} values: {shown}"
    if info.n_distinct > CATEGORY_LIMIT:
        info.warning = (f"{info.n_distinct} different values: too many to use as a category "
                        "(each would be an input); leave it ignored")
    elif info.n_distinct > 20:
        info.warning = f"as a feature it adds {info.n_distinct} inputs, one per value"
