"""Property-based: whatever bytes or small table a file holds, the importer either returns
a data set that trains to a finite loss, or raises CSVImportError with a one-line message
that names the file — never any other exception."""
from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.csv_dataset import build_dataset, default_options, make_csv_setup
from core.csv_import import read_csv_table
from core.errors import CSVImportError

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def import_and_train(content: bytes, choose=None) -> str:
    """'trained: task' or 'refused: why'; any other exception fails the test."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(content)
        try:
            table = read_csv_table(path)
            options = default_options(table)
            if choose is not None:
                choose(table, options)
            dataset, _ = build_dataset(table, options)
        except CSVImportError as e:
            message = str(e)
            assert message.startswith("data.csv: ") and "\n" not in message, message
            return "refused: " + re.split(r"[(':\d]", message[len("data.csv: "):])[0].strip()
    assert np.isfinite(dataset.X).all() and np.isfinite(dataset.Y).all()
    assert dataset.X.shape == (dataset.n_samples, len(dataset.feature_names))
    if dataset.task == "classification":
        assert 2 <= len(dataset.classes) and set(np.unique(dataset.Y)) <= set(range(len(dataset.classes)))
    trainer = make_csv_setup(dataset, hidden=[3], seed=0).make_trainer()
    trainer.run_epochs(3)
    assert not trainer.diverged, trainer.diverged_reason
    assert math.isfinite(trainer.history.loss.last())
    return f"trained: {dataset.task}"


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_train_or_are_refused(content):
    event(import_and_train(content))


@SETTINGS
@given(st.lists(st.sampled_from([b"1", b"2.5", b"-3", b",", b";", b"\t", b"\n", b"\r\n", b'"',
                                 b"a", b"NA", b"?", b"\xe9", b"\xef\xbb\xbf", b"1e308", b"inf",
                                 b"", b" "]), max_size=60))
def test_csv_like_byte_soup_trains_or_is_refused(pieces):
    event(import_and_train(b"".join(pieces)))


WORDS = ["red", "blue", "green", "Zürich", "a b", "x", "NA", "", "?", "-", "nan", "1.000,5"]
cell = st.one_of(st.integers(-1000, 1000).map(str),
                 st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
                 st.floats(-1e6, 1e6).map(lambda v: f"{v:.3f}"),
                 st.sampled_from(WORDS),
                 st.sampled_from(["1e300", "-1e300", "1e-300", "inf", "1e999"]))


@st.composite
def tables(draw):
    n_cols = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(cell, min_size=n_cols, max_size=n_cols), min_size=1, max_size=14))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    decimal_comma = delimiter != "," and draw(st.booleans())
    header = draw(st.booleans())
    lines = []
    if header:
        lines.append(delimiter.join(draw(st.sampled_from(["x", "y", "size", "", "Größe", "1"]))
                                    for _ in range(n_cols)))
    for row in rows:
        cells = [c.replace(".", ",") if decimal_comma else c for c in row]
        lines.append(delimiter.join(f'"{c}"' if delimiter in c else c for c in cells))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def choices(draw):
    """Options the preview dialog could produce: any target, any features, any policy."""
    seed = draw(st.integers(0, 2 ** 16))
    missing = draw(st.sampled_from(["drop", "fill"]))
    standardise = draw(st.booleans())
    test_fraction = draw(st.sampled_from([0.0, 0.2, 0.5]))
    pick_target = draw(st.booleans())

    def choose(table, options):
        rng = np.random.RandomState(seed)
        names = table.column_names
        if pick_target:
            options.target = names[rng.randint(len(names))]
            options.features = [n for n in names if n != options.target and rng.rand() < 0.7]
        options.missing, options.standardise = missing, standardise
        options.test_fraction = test_fraction
    return choose


@settings(SETTINGS, max_examples=250)
@given(tables(), choices())
def test_random_small_tables_train_or_are_refused(content, choose):
    event(import_and_train(content, choose))


def test_the_table_strategy_can_produce_trainable_files():
    """Guard against a vacuous property: a clean table of the kind generated trains."""
    content = "x;y\n1,5;2\n2,5;4\n3,5;7\n4,5;8\n5,5;11\n".encode("utf-8")
    assert import_and_train(content) == "trained: regression"
