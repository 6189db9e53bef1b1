"""CSV import: real-world file formats, column kinds and roles, the data set built from
them, and a clear CSVImportError for every file that cannot be used.  Every file is
written by the test itself."""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

import core.csv_import as csv_import
from core.csv_dataset import (ImportOptions, accuracy, build_dataset, confusion_matrix,
                              default_options, make_csv_setup, plan_import, resolve_column)
from core.csv_import import read_csv_table
from core.errors import CSVImportError, ImportCancelled
from main import main


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def penguins(n=60, missing_every=0):
    rows = ["id,species,island,bill_mm,flipper_mm,comment,sex"]
    for i in range(n):
        bill = "NA" if missing_every and i % missing_every == 0 else f"{35 + (i * 7) % 15 + 0.1 * (i % 3)}"
        rows.append(f"{i + 1},{['Adelie', 'Gentoo', 'Chinstrap'][i % 3]},"
                    f"{['Biscoe', 'Dream', 'Torgersen'][(i // 2) % 3]},{bill},{180 + (i * 11) % 37},"
                    f"note number {i},{'male' if (i * 5) % 7 < 3 else 'female'}")
    return "\n".join(rows) + "\n"


def import_csv(path, **changes):
    table = read_csv_table(path)
    options = default_options(table)
    for key, value in changes.items():
        setattr(options, key, value)
    return table, *build_dataset(table, options)


def trained_loss(dataset, epochs=20, **kw):
    trainer = make_csv_setup(dataset, **kw).make_trainer()
    trainer.run_epochs(epochs)
    return trainer


# -- formats -----------------------------------------------------------------------------
def test_european_export_semicolons_decimal_comma_and_thousands(tmp_path):
    path = write(tmp_path, "preise.csv",
                 "Fläche;Zimmer;Preis\n1.234,5;3;250.000,00\n87,25;2;-\n99,5;4;199.500,50\n"
                 "120,0;3;310.000,00\n", encoding="utf-8")
    table = read_csv_table(path)
    assert (table.format.delimiter, table.format.decimal, table.format.header) == (";", ",", True)
    assert table.column_names == ["Fläche", "Zimmer", "Preis"]
    np.testing.assert_allclose(table.numbers("Fläche"), [1234.5, 87.25, 99.5, 120.0])
    np.testing.assert_allclose(table.numbers("Preis"), [250000.0, np.nan, 199500.5, 310000.0])
    assert "decimal comma" in table.format.describe()


def test_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeffx,y\n1,2\n3,4\n5,7\n")
    table = read_csv_table(path)
    assert table.column_names == ["x", "y"]
    assert table.format.encoding == "utf-8-sig"


def test_latin1_file_falls_back_with_a_note(tmp_path):
    path = write(tmp_path, "städte.csv", "Stadt,Größe\nMünchen,1.5\nKöln,1.1\nMünchen,1.4\n"
                 "Köln,1.0\n", encoding="latin-1")
    table = read_csv_table(path)
    assert table.format.encoding == "latin-1"
    assert table.column("Stadt").levels == ["Köln", "München"]
    assert any("städte.csv is not UTF-8" in note and "Latin-1" in note for note in table.notes)


def test_latin1_byte_after_the_first_megabyte_still_falls_back(tmp_path):
    body = "".join(f"{i},{i % 7}\n" for i in range(200_000))     # > 1 MB of plain ASCII
    path = write(tmp_path, "late.csv", ("a,b\n" + body + "3,Café\n").encode("latin-1"))
    table = read_csv_table(path)
    assert table.format.encoding == "latin-1"
    assert table.n_rows == 200_001
    assert any("Latin-1" in note for note in table.notes)


def test_utf16_tab_separated_excel_unicode_text(tmp_path):
    path = write(tmp_path, "unicode.txt", "a\tb\n1,5\t2\n2,5\t3\n3,5\t5\n", encoding="utf-16")
    table = read_csv_table(path)
    assert (table.format.delimiter, table.format.encoding) == ("\t", "utf-16")
    np.testing.assert_allclose(table.numbers("a"), [1.5, 2.5, 3.5])


def test_headerless_file_gets_numbered_columns_and_keeps_its_first_row(tmp_path):
    path = write(tmp_path, "raw.csv", "".join(f"{i * 0.5},{i % 3},{2 * i + 1}\n" for i in range(12)))
    table = read_csv_table(path)
    assert not table.format.header
    assert table.column_names == ["col1", "col2", "col3"]
    assert table.n_rows == 12 and table.numbers("col1")[0] == 0.0
    assert resolve_column(table, "3") == "col3"


def test_headerless_text_file_is_not_mistaken_for_a_header(tmp_path):
    rows = [f"{['red', 'blue'][i % 2]},{['s', 'm', 'l'][i % 3]},{i * 1.5}" for i in range(9)]
    table = read_csv_table(write(tmp_path, "t.csv", "\n".join(rows) + "\n"))
    assert not table.format.header and table.n_rows == 9


def test_tab_separated_with_missing_markers(tmp_path):
    cells = ["", "NA", "N/A", "NaN", "?", "-"]
    text = "x\ty\n" + "".join(f"{c}\t{i}\n" for i, c in enumerate(cells)) + "1.5\t9\n2.5\t10\n"
    table = read_csv_table(write(tmp_path, "m.tsv", text))
    assert table.format.delimiter == "\t"
    assert np.isnan(table.numbers("x")[:6]).all()
    assert table.column("x").n_missing == 6


def test_stray_non_numbers_in_a_numeric_column_are_missing_with_a_note(tmp_path):
    text = "x,y\n" + "".join(f"{i * 1.5},{i * 2}\n" for i in range(30)) + "<5,3\n"
    table, dataset, notes = import_csv(write(tmp_path, "junk.csv", text))
    column = table.column("x")
    assert column.kind == "numeric" and column.junk == 1
    assert any("'<5'" in n and "column 'x'" in n for n in notes)
    assert dataset.n_samples + len(dataset.X_test) == 30


def test_text_late_in_a_long_numeric_column_is_read_consistently(tmp_path):
    # pandas guesses types a chunk of rows at a time: numbers first, text in a later chunk.
    body = "".join(f"{i},5;{i % 9}\n" for i in range(300_000))
    table = read_csv_table(write(tmp_path, "late.csv", "a;b\n" + body + "n. v.;3\n"))
    column = table.column("a")
    assert column.kind == "numeric" and column.junk == 1 and column.first_junk == (300_000, "n. v.")
    assert table.numbers("a")[299_999] == 299_999.5 and np.isnan(table.numbers("a")[-1])


def test_quoted_cells_after_a_space(tmp_path):
    text = 'city, label, x\n"Paris", "Paris, FR", 1.5\n"Lyon", "Lyon, FR", 2.5\n"Nice", "Nice, FR", 4\n'
    table = read_csv_table(write(tmp_path, "cities.csv", text))
    assert table.column_names == ["city", "label", "x"]
    assert table.codes("label")[1] == ["Lyon, FR", "Nice, FR", "Paris, FR"]


def test_reading_with_or_without_progress_gives_the_same_table(tmp_path):
    # Without a progress callback pandas reads the path (on every core); with one, a stream.
    rows = [f"{i * 0.25},{['a', 'b', 'NA'][i % 3]},{i % 11},{'' if i % 7 else '?'}" for i in range(600_000)]
    rows[350_000] = "late text,b,3,1"
    path = write(tmp_path, "both.csv", "x,c,k,m\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > 6 << 20      # past pandas' 5 MB threshold for reading in parallel
    quick, watched = read_csv_table(path), read_csv_table(path, progress=lambda f: None)
    pd.testing.assert_frame_equal(quick.frame, watched.frame)
    assert [c.kind for c in quick.columns] == [c.kind for c in watched.columns] == [
        "numeric", "categorical", "numeric", "mostly missing"]
    assert quick.column("x").first_junk == (350_000, "late text")



def test_decimal_commas_in_quoted_cells_of_a_comma_separated_file(tmp_path):
    # A spreadsheet set to German exports "2040,92" between commas; read as text, a target
    # like y became a "60-class classification" with a class per row.
    rows = [f'"{f"{2000 + 3.25 * i:.2f}".replace(".", ",")}",{i % 4},"{f"{10 + i / 8:.3f}".replace(".", ",")}"'
            for i in range(60)]
    table, dataset, _ = import_csv(write(tmp_path, "de.csv", "area,rooms,y\n" + "\n".join(rows) + "\n"))
    assert (table.format.delimiter, table.format.decimal) == (",", ",")
    assert [c.kind for c in table.columns] == ["numeric", "numeric", "numeric"]
    np.testing.assert_allclose(table.numbers("area")[:3], [2000.0, 2003.25, 2006.5])
    np.testing.assert_allclose(table.numbers("y")[:2], [10.0, 10.125])
    assert dataset.task == "regression" and dataset.target_names == ["y"]
    # "1,234" between commas is a thousands separator, as before.
    text = "x,y\n" + "".join(f'"{1 + i},{i % 10}00",{i * 0.5}\n' for i in range(20))
    table = read_csv_table(write(tmp_path, "en.csv", text))
    assert table.format.decimal == "." and table.numbers("x")[1] == 2100


def test_the_table_carries_the_hash_of_the_bytes_it_was_read(tmp_path):
    # What a session names the file by: taken as the file is read (on the loader's thread),
    # not afterwards from a file that may have changed since.
    small = write(tmp_path, "p.csv", penguins())
    late = write(tmp_path, "late.csv", ("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(200_000))
                                        + "3,Café\n").encode("latin-1"))      # read twice
    for path in (small, late):
        expected = hashlib.sha256(path.read_bytes()).hexdigest()
        assert read_csv_table(path).sha256 == expected                         # the command line
        assert read_csv_table(path, progress=lambda f: None).sha256 == expected  # the window


def big_file(tmp_path):
    path = write(tmp_path, "big.csv", "a,b\n" + "".join(f"{i},{i % 9}\n" for i in range(300_000)))
    os.utime(path, ns=(10**18, 10**18))     # an older time than any change gets
    return path


def change(path, how):
    size = path.stat().st_size
    if how == "truncated":
        os.truncate(path, size // 2)
    elif how == "appended":
        with open(path, "ab") as f:
            f.write(b"1,2\n" * 1000)
    else:                                       # rewritten in place, to the same length
        path.write_bytes(path.read_bytes().replace(b"7,", b"8,"))


@pytest.mark.parametrize("how", ["truncated", "appended", "rewritten"])
def test_a_file_changed_while_it_is_read_is_refused(tmp_path, monkeypatch, how):
    # Truncated half-way, the file gave half its rows and a partial last row, silently.
    path = big_file(tmp_path)

    def progress(fraction):                 # the window's read: the file changes under it
        if fraction < 1 and not changed:
            changed.append(change(path, how))
    changed = []
    with pytest.raises(CSVImportError) as caught:
        read_csv_table(path, progress=progress)
    assert changed and str(caught.value) == "big.csv: changed while it was being read — open it again once it is saved"

    path = big_file(tmp_path)               # the command line's read: pandas reads the path
    real = csv_import.pd.read_csv

    def read_after_a_change(*args, **kwargs):
        change(path, how)
        return real(*args, **kwargs)
    monkeypatch.setattr(csv_import.pd, "read_csv", read_after_a_change)
    assert refused(path).startswith("big.csv: changed while it was being read")


def test_a_file_with_one_data_row(tmp_path):
    # Every column of one row is a constant: "none looks usable" said nothing useful.
    message = refused(write(tmp_path, "one.csv", "x,y,z\n1,2,3\n"))
    assert message.startswith("one.csv: has only one data row (line 2)")
    assert refused(write(tmp_path, "raw.csv", "1.5,2,3\n")).startswith("raw.csv: has only one data row (line 1)")


@pytest.mark.parametrize("column, kinds, says", [
    ("price", {}, "column 'price' has a different value on every row: numbers written as text? "
                  "('2000,5', '2001,5', '2002,5', …) — as the target that is 60 classes of about one row "
                  "each: check how the file writes its numbers"),
    ("name", {}, "column 'name' has a different value on every row ('a0', 'a1', 'a10', …) — as the "
                 "target that is 60 classes of about one row each: choose another target"),
    ("x", {"x": "categorical"}, "column 'x' has 40 different values in 60 rows ('0.25', '0.5', "
                                "'0.75', …) — as the target that is 40 classes of about one row "
                                "each: use it as numeric (regression)"),
])
def test_a_target_with_a_class_on_nearly_every_row_is_refused(tmp_path, column, kinds, says):
    # Dot decimals elsewhere, so the quoted decimal commas of 'price' stay text.
    text = "name,x,z,price\n" + "".join(f'a{i},{0.25 * (1 + i % 40)},{i * 1.5 % 7},"{2000 + i},5"\n'
                                        for i in range(60))
    path = write(tmp_path, "shop.csv", text)
    assert says in refused(path, target=column, features=["z"], kinds=kinds)


def test_the_command_line_refuses_a_target_with_a_class_per_row(tmp_path, capsys):
    # More dot decimals than decimal commas: y stays text.
    text = "x,z,y\n" + "".join(f'{i * 0.5 + 0.25},{i * 1.5 % 7},"{1000 + i},{i % 10}"\n' for i in range(60))
    path = write(tmp_path, "text.csv", text)
    assert main(["--headless", "--data", str(path), "--target", "y", "--epochs", "1"]) == 2
    assert "column 'y' has a different value on every row: numbers written as text?" in capsys.readouterr().err


def test_counts_of_one_are_singular(tmp_path):
    text = "a,b,y\n1,2,5\nNA,3,6\n4,NA,7\n"
    message = refused(write(tmp_path, "few.csv", text), target="y", features=["a", "b"])
    assert "the target 'y' has only one value ('5') in the 1 row kept" in message
    table = read_csv_table(write(tmp_path, "five.csv", "x,y\n1.5,2\n2,4\n3,5\n4,9\n5,8\n"))
    assert table.describe().startswith("five.csv: 5 rows × 2 columns")
    options = default_options(table)
    assert plan_import(table, options).summary() == "regression of 'y' from 1 input; 4 training rows, 1 test row"
    text = "x,y\n" + "".join(f"{'' if i == 3 else i},{i % 5}.5\n" for i in range(10))
    _, _, notes = import_csv(write(tmp_path, "gap.csv", text))
    assert "1 of 10 rows left out: it has a missing value" in notes
    _, _, notes = import_csv(write(tmp_path, "gap.csv", text), missing="fill")
    assert any(n.startswith("1 row had missing values, filled") for n in notes)


# -- kinds and default roles -------------------------------------------------------------
def test_column_kinds_and_default_roles(tmp_path):
    text = "row,size,colour,name,unit,rarely,price\n"
    for i in range(40):
        text += (f"{i + 1},{1.5 * i},{['red', 'green', 'blue'][i % 3]},person {i},kg,"
                 f"{'7' if i % 5 == 0 else ''},{10 + 2.5 * i}\n")
    table = read_csv_table(write(tmp_path, "kinds.csv", text))
    kinds = {c.name: c.kind for c in table.columns}
    assert kinds == {"row": "numeric", "size": "numeric", "colour": "categorical",
                     "name": "text", "unit": "constant", "rarely": "mostly missing",
                     "price": "numeric"}
    assert table.column("row").identifier
    options = default_options(table)
    assert options.target == "price"
    assert options.features == ["size", "colour"]
    assert [options.role(table, c) for c in table.column_names] == [
        "ignore", "feature", "feature", "ignore", "ignore", "ignore", "target"]


def test_dates_are_text_and_ignored_by_default(tmp_path):
    text = "day,sold,price\n" + "".join(f"2024-03-{1 + i % 28:02d},{i % 3 * 5},{7 + i * 0.5}\n"
                                         for i in range(40))
    table = read_csv_table(write(tmp_path, "sales.csv", text))
    day = table.column("day")
    assert day.kind == "text" and day.summary == "dates, 2024-03-01 … 2024-03-28"
    assert default_options(table).features == ["sold"]


def test_identifier_named_id_is_ignored_even_if_not_consecutive(tmp_path):
    text = "PassengerId,age,fare\n" + "".join(f"{i * 7 + 3},{20 + i % 9},{i * 1.25}\n" for i in range(20))
    table = read_csv_table(write(tmp_path, "ids.csv", text))
    assert table.column("PassengerId").identifier
    assert default_options(table).features == ["age"]


# -- the data set ------------------------------------------------------------------------
def test_categorical_target_is_classification_with_one_hot_features(tmp_path):
    table = read_csv_table(write(tmp_path, "penguins.csv", penguins()))
    options = ImportOptions(target="species", features=["island", "bill_mm", "flipper_mm"])
    dataset, _ = build_dataset(table, options)
    assert dataset.task == "classification"
    assert dataset.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert dataset.feature_names == ["island=Biscoe", "island=Dream", "island=Torgersen",
                                     "bill_mm", "flipper_mm"]
    one_hot = dataset.X[:, :3]
    assert set(np.unique(one_hot)) == {0.0, 1.0} and (one_hot.sum(axis=1) == 1).all()
    assert set(np.unique(dataset.Y)) == {0.0, 1.0, 2.0} and dataset.Y.shape[1] == 1
    scenario = make_csv_setup(dataset, hidden=[6, 4], seed=3)
    assert scenario.network.sizes == [5, 6, 4, 3]
    assert scenario.network.activation_names[-1] == "softmax"
    assert scenario.config.loss == "cross_entropy"


def test_class_indices_follow_the_labels_row_by_row(tmp_path):
    table = read_csv_table(write(tmp_path, "penguins.csv", penguins()))
    dataset, _ = build_dataset(table, ImportOptions(target="species", features=["flipper_mm"],
                                                    standardise=False, test_fraction=0))
    frame = pd.read_csv(tmp_path / "penguins.csv")
    expected = frame["species"].map({"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}).to_numpy()
    np.testing.assert_array_equal(dataset.Y[:, 0], expected)
    np.testing.assert_array_equal(dataset.X[:, 0], frame["flipper_mm"].to_numpy())


def test_two_classes_use_sigmoid_and_binary_cross_entropy(tmp_path):
    table, dataset, _ = import_csv(write(tmp_path, "penguins.csv", penguins()))
    assert table.column("id").identifier and table.column("comment").kind == "text"
    assert dataset.classes == ["female", "male"]
    assert set(np.unique(dataset.Y)) == {0.0, 1.0}
    scenario = make_csv_setup(dataset)
    assert scenario.network.sizes[-1] == 1
    assert (scenario.network.activation_names[-1], scenario.config.loss) == (
        "sigmoid", "binary_cross_entropy")


def test_a_target_of_few_whole_numbers_is_classes_and_of_many_is_regression(tmp_path):
    text = "x,grade,score\n" + "".join(f"{i},{1 + i % 4},{i * 3 + i % 2}\n" for i in range(40))
    table = read_csv_table(write(tmp_path, "g.csv", text))
    assert plan_import(table, ImportOptions(target="grade", features=["x"])).task == "classification"
    assert plan_import(table, ImportOptions(target="score", features=["x"])).task == "regression"
    as_numbers = ImportOptions(target="grade", features=["x"], kinds={"grade": "numeric"})
    assert plan_import(table, as_numbers).task == "regression"


def test_regression_standardises_with_training_statistics_and_maps_back(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.uniform(0, 100, 50)
    y = 3 * x + 1000
    text = "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y))
    table, dataset, _ = import_csv(write(tmp_path, "lin.csv", text))
    assert dataset.task == "regression"
    np.testing.assert_allclose(dataset.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(dataset.X.std(axis=0), 1)
    original = np.concatenate([dataset.y_to_original(dataset.Y), dataset.y_to_original(dataset.Y_test)])
    np.testing.assert_allclose(np.sort(original[:, 0]), np.sort(y))
    np.testing.assert_allclose(dataset.x_to_original(dataset.X_test)[:, 0] * 3 + 1000,
                               dataset.y_to_original(dataset.Y_test)[:, 0])
    scenario = make_csv_setup(dataset)
    assert (scenario.network.activation_names[-1], scenario.config.loss) == ("linear", "mse")


def test_standardisation_off_keeps_raw_values(tmp_path):
    text = "x,y\n" + "".join(f"{i * 1000},{i * 2.5}\n" for i in range(20))
    table, dataset, _ = import_csv(write(tmp_path, "raw.csv", text), standardise=False, test_fraction=0)
    assert dataset.x_mean is None and dataset.y_mean is None and dataset.X_test is None
    np.testing.assert_array_equal(dataset.X[:, 0], np.arange(20) * 1000.0)
    np.testing.assert_array_equal(dataset.Y[:, 0], np.arange(20) * 2.5)


def test_split_is_seeded_and_eighty_twenty_by_default(tmp_path):
    path = write(tmp_path, "p.csv", penguins(100))
    _, a, _ = import_csv(path)
    _, b, _ = import_csv(path)
    _, c, _ = import_csv(path, seed=1)
    assert (a.n_samples, len(a.X_test)) == (80, 20)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_missing_values_drop_or_fill_and_the_rows_each_keeps(tmp_path):
    table = read_csv_table(write(tmp_path, "p.csv", penguins(60, missing_every=4)))
    options = ImportOptions(target="species", features=["bill_mm", "island"], test_fraction=0)
    plan = plan_import(table, options)
    assert plan.rows_kept == {"drop": 45, "fill": 60}
    dropped, notes = build_dataset(table, options)
    assert dropped.n_samples == 45 and any("15 of 60 rows left out" in n for n in notes)
    options.missing, options.standardise = "fill", False
    filled, notes = build_dataset(table, options)
    assert filled.n_samples == 60 and any("filled" in n for n in notes)
    bill = table.numbers("bill_mm")
    filled_bill = filled.X[:, filled.feature_names.index("bill_mm")]
    np.testing.assert_allclose(filled_bill[np.isnan(bill)], np.nanmean(bill))


def test_fill_uses_the_most_frequent_category(tmp_path):
    text = "c,x,y\na,1,1\na,2,2\nb,3,3\n,4,4\na,5,5\nb,6,7\n"
    table = read_csv_table(write(tmp_path, "f.csv", text))
    dataset, _ = build_dataset(table, ImportOptions(target="y", features=["c", "x"], missing="fill",
                                                    test_fraction=0, standardise=False))
    np.testing.assert_array_equal(dataset.X[3], [1.0, 0.0, 4.0])      # c=a, c=b, x


def test_trains_to_a_finite_loss_and_reports_a_confusion_matrix(tmp_path):
    _, dataset, _ = import_csv(write(tmp_path, "p.csv", penguins(90)), target="species",
                               features=["island", "bill_mm", "flipper_mm"])
    scenario = make_csv_setup(dataset, hidden=[8], seed=0, lr=0.05)
    trainer = scenario.make_trainer()
    first = trainer.run_epochs(1) and trainer.history.loss.last()
    trainer.run_epochs(150)
    assert math.isfinite(trainer.history.loss.last()) and trainer.history.loss.last() < first
    outputs = scenario.network.predict(dataset.X_test)
    counts = confusion_matrix(outputs, dataset.Y_test, 3)
    assert counts.sum() == len(dataset.X_test)
    for true, predicted in zip(dataset.Y_test[:, 0].astype(int), outputs.argmax(axis=1)):
        assert counts[true, predicted] > 0
    assert accuracy(counts) == pytest.approx(np.mean(outputs.argmax(axis=1) == dataset.Y_test[:, 0]))
    assert accuracy(confusion_matrix(scenario.network.predict(dataset.X), dataset.Y, 3)) > 0.5


def test_binary_confusion_matrix_thresholds_the_sigmoid_at_one_half():
    counts = confusion_matrix(np.array([[0.2], [0.7], [0.5], [0.1]]), np.array([[0], [1], [0], [1]]), 2)
    np.testing.assert_array_equal(counts, [[1, 1], [1, 1]])


def test_progress_is_reported_and_cancel_stops_loading(tmp_path):
    path = write(tmp_path, "big.csv", "a,b\n" + "".join(f"{i},{i % 9}\n" for i in range(300_000)))
    seen = []
    read_csv_table(path, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    partial = []
    with pytest.raises(ImportCancelled):
        read_csv_table(path, progress=partial.append, cancelled=lambda: len(partial) > 0)
    assert partial and partial[-1] < 1.0


# -- files that cannot be used -----------------------------------------------------------
def refused(path, **options):
    with pytest.raises(CSVImportError) as caught:
        import_csv(path, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_empty_file(tmp_path):
    assert refused(write(tmp_path, "empty.csv", "")).startswith("empty.csv: the file is empty")
    assert "empty" in refused(write(tmp_path, "blank.csv", "\n\n  \n"))


def test_header_without_rows(tmp_path):
    message = refused(write(tmp_path, "head.csv", "species,island,bill\n"))
    assert message.startswith("head.csv: has a header (species, island, bill) but no data rows")


def test_ragged_row_names_its_line(tmp_path):
    long = refused(write(tmp_path, "long.csv", "a;b\n1;2\n3;4;5\n6;7\n"))
    assert long.startswith("long.csv: line 3 has 3 fields but the header has 2") and "semicolon" in long
    headerless = refused(write(tmp_path, "raw.csv", "1,2\n3,4\n5,6,7\n"))
    assert headerless.startswith("raw.csv: line 3 has 3 fields but the first row has 2")


def test_a_line_of_delimiters_is_a_row_not_a_blank_line(tmp_path):
    # As pandas reads it: found by the property tests, where pandas silently dropped cells.
    message = refused(write(tmp_path, "commas.csv", ",\n1-3,1,5\n"))
    assert message.startswith("commas.csv: line 2 has 3 fields but the first row has 2")


def test_ragged_row_beyond_the_sample_names_its_line(tmp_path):
    body = "".join(f"{i},{i % 5},{i * 2}\n" for i in range(120_000))
    message = refused(write(tmp_path, "middle.csv", "a,b,c\n" + body + "1,2,3,4\n" + body))
    assert message.startswith("middle.csv: line 120002 has 4 fields but the header has 3")


def test_short_rows_are_trailing_missing_cells_with_a_note(tmp_path):
    # Exports often leave out empty trailing cells (e.g. distro-info's ubuntu.csv).
    text = "x,y,z\n" + "".join(f"{i * 1.5},{i % 4}" + (f",{i}" if i % 3 else "") + "\n" for i in range(30))
    table, dataset, notes = import_csv(write(tmp_path, "short.csv", text), target="y", features=["x", "z"])
    assert any("some rows (the first on line 2) have fewer than 3 fields" in n for n in notes)
    assert table.column("z").n_missing == 10 and dataset.n_samples + len(dataset.X_test) == 20


def test_text_above_the_table_is_named(tmp_path):
    text = "Exported by LabTool 2.1\nOperator: J. Smith, bench 4\nt,v\n0,1.5\n1,2.5\n"
    message = refused(write(tmp_path, "instrument.csv", text))
    assert message.startswith("instrument.csv: does not start with a row of the table: line 1 has "
                              "one field but line 2 has 2")


def test_a_metadata_line_above_the_table_is_skipped_with_a_note(tmp_path):
    # scikit-learn's bundled CSVs (wine, breast cancer) start "n_samples,n_features,classes".
    rows = ["40,4,class_0,class_1"] + [f"{i * 0.5},{i % 3 + 0.25},{(i * 7) % 5},{i * i},{i % 2}"
                                       for i in range(40)]
    table, dataset, notes = import_csv(write(tmp_path, "wine.csv", "\n".join(rows) + "\n"))
    assert (table.format.skip_lines, table.format.header) == (1, False)
    assert table.column_names == ["col1", "col2", "col3", "col4", "col5"] and table.n_rows == 40
    assert table.numbers("col1")[0] == 0.0 and table.numbers("col1")[-1] == 19.5
    assert any(n.startswith("wine.csv: line 1 ('40,4,class_0,class_1') skipped") for n in notes)
    assert dataset.task == "classification" and dataset.classes == ["0", "1"]


def test_a_header_with_numbers_in_it_is_pointed_out(tmp_path):
    # scikit-learn's iris.csv: "n_samples,n_features,class names" where the header goes.
    text = "150,4,setosa,versicolor,virginica\n" + "".join(
        f"{5 + i % 3 * 0.5},{3 + i % 2 * 0.25},{1.4 + i % 5},{0.2 * (i % 4)},{i % 3}\n" for i in range(30))
    table = read_csv_table(write(tmp_path, "iris.csv", text))
    assert table.format.header and table.column_names[2:] == ["setosa", "versicolor", "virginica"]
    assert any(n.startswith("iris.csv: line 1 is taken for the column names, though 2 of them are "
                            "numbers ('150', '4')") for n in table.notes)
    assert not any("taken for the column names" in n for n in read_csv_table(
        write(tmp_path, "plain.csv", "a,b\n1,2\n3,4\n")).notes)


def test_a_title_above_a_tab_separated_table_is_skipped_and_lines_still_named(tmp_path):
    text = "Run 7 results\n\nt\tv\tlabel\n" + "".join(f"{i}\t{i + 0.5}\t{'ab'[i % 2]}\n" for i in range(8))
    table = read_csv_table(write(tmp_path, "run7.tsv", text))
    assert (table.format.delimiter, table.format.header, table.format.skip_lines) == ("\t", True, 2)
    assert table.column_names == ["t", "v", "label"]
    message = refused(write(tmp_path, "run7.tsv", text), target="v", features=["t", "label"],
                      kinds={"label": "numeric"})
    assert "column 'label' has no numeric values (line 4: 'a')" in message


@pytest.mark.parametrize("text, says", [
    ("a,b,c\n1,2,3,\n4,5,6,\n7,8,9,\n", "line 2 has 4 fields but the header has 3"),   # a comma ending every row
    ("1,2\n3,4,5\n6,7,8\n9,1,2\n", "line 2 has 3 fields but the first row has 2"),    # a short row of numbers
])
def test_rows_wider_than_the_first_are_not_taken_for_a_title(tmp_path, text, says):
    assert says in refused(write(tmp_path, "wide.csv", text))


def test_values_separated_by_spaces_are_named_as_such(tmp_path):
    # scikit-learn's linnerud_exercise.csv
    message = refused(write(tmp_path, "linnerud.csv", "Chins Situps Jumps\n5 162 60\n2 110 60\n12 101 101\n"))
    assert message.startswith("linnerud.csv: its values are separated by spaces")
    message = refused(write(tmp_path, "words.csv", "name\nAda\nGrace\nEdsger\n"))
    assert message.startswith("words.csv: found only one column")


def test_unclosed_quote_names_its_line(tmp_path):
    message = refused(write(tmp_path, "quote.csv", "a,b\n1,2\n3,\"oops\n5,6\n"))
    assert message.startswith("quote.csv: a quoted cell starting on line 3 never ends")


def test_target_with_one_value(tmp_path):
    text = "x,y\n" + "".join(f"{i},same\n" for i in range(10))
    message = refused(write(tmp_path, "one.csv", text), target="y", features=["x"])
    assert message.startswith("one.csv: the target 'y' has only one value ('same')")


def test_text_column_chosen_as_numeric_feature(tmp_path):
    path = write(tmp_path, "p.csv", penguins())
    message = refused(path, target="sex", features=["comment", "bill_mm"])
    assert "p.csv: column 'comment' has no numeric values (line 2: 'note number 0')" in message
    message = refused(path, target="sex", features=["island"], kinds={"island": "numeric"})
    assert "p.csv: column 'island' has no numeric values (line 2: 'Biscoe')" in message


def test_every_row_dropped_by_the_missing_value_policy(tmp_path):
    text = "a,b,y\n" + "".join(f"{i},{'' if i % 2 else 1},{'' if i % 2 == 0 else i}\n" for i in range(10))
    message = refused(write(tmp_path, "holes.csv", text), target="y", features=["a", "b"])
    assert message.startswith("holes.csv: every row has a missing value in the chosen columns")
    assert "fill missing values" in message


def test_fill_needs_a_value_to_fill_with(tmp_path):
    text = "c,x,y\n" + "".join(f"{'a' if i % 2 else ''},{i * 1.5},{'' if i % 2 else i}\n" for i in range(10))
    message = refused(write(tmp_path, "gaps.csv", text), target="y", features=["c", "x"], missing="fill")
    assert message.startswith("gaps.csv: column 'c' has no values in the rows kept")


def test_hundreds_of_levels(tmp_path):
    text = "city,x,y\n" + "".join(f"town{i % 300},{i},{i % 7}\n" for i in range(900))
    path = write(tmp_path, "cities.csv", text)
    assert "300 different values" in read_csv_table(path).column("city").warning
    message = refused(path, target="y", features=["city", "x"], kinds={"city": "categorical"})
    assert message.startswith("cities.csv: column 'city' has 300 different values")
    assert "ignore it" in message


@pytest.mark.parametrize("content, what", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "a PNG image"),
    (b"PK\x03\x04" + b"\x00" * 100, "Excel .xlsx"),
    (bytes(range(256)) * 8, "is not a text file"),
])
def test_binary_file_renamed_csv(tmp_path, content, what):
    message = refused(write(tmp_path, "data.csv", content))
    assert message.startswith("data.csv: is not") and what in message


def test_unreadable_files(tmp_path, monkeypatch):
    assert "is a folder" in refused(tmp_path)
    assert "no such file" in refused(tmp_path / "gone.csv")
    path = write(tmp_path, "locked.csv", "a,b\n1,2\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(csv_import, "open", denied, raising=False)
    assert refused(path).startswith("locked.csv: cannot be read: permission denied")


def test_file_vanishing_while_loading(tmp_path, monkeypatch):
    path = write(tmp_path, "vanish.csv", "a,b\n" + "".join(f"{i},{i}\n" for i in range(300_000)))
    real = csv_import._ProgressReader.readinto

    class Unplugged:        # what a network drive or USB stick does when pulled out
        def readinto(self, buffer):
            raise OSError(errno.EIO, "Input/output error")

    def failing(self, buffer):
        if self.done > 1 << 20:
            self.raw = Unplugged()
        return real(self, buffer)
    monkeypatch.setattr(csv_import._ProgressReader, "readinto", failing)
    with pytest.raises(CSVImportError) as caught:           # the GUI's read, with progress
        read_csv_table(path, progress=lambda fraction: None)
    message = str(caught.value)
    assert message.startswith("vanish.csv: reading stopped") and "moved, deleted or changed" in message

    def pandas_reading_the_path(*args, **kwargs):           # the command line's read
        raise OSError(errno.ESTALE, "Stale file handle")
    monkeypatch.setattr(csv_import.pd, "read_csv", pandas_reading_the_path)
    assert refused(path).startswith("vanish.csv: reading stopped (Stale file handle)")


def test_too_large_for_memory(tmp_path, monkeypatch):
    path = write(tmp_path, "huge.csv", "a,b\n" + "".join(f"{i},{i}\n" for i in range(1000)))
    monkeypatch.setattr(csv_import, "available_memory", lambda: 1000)
    assert refused(path).startswith("huge.csv: too large for the memory available")
    monkeypatch.setattr(csv_import, "available_memory", lambda: None)

    def out_of_memory(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(csv_import.pd, "read_csv", out_of_memory)
    assert refused(path).startswith("huge.csv: too large for the memory available")


def test_unknown_column_lists_the_columns(tmp_path):
    message = refused(write(tmp_path, "p.csv", penguins()), target="weight")
    assert message.startswith("p.csv: has no column 'weight'; its columns are: id, species")


# -- the command line --------------------------------------------------------------------
def test_command_line_trains_on_a_csv_file(tmp_path, capsys):
    path = write(tmp_path, "penguins.csv", penguins(80))
    out = tmp_path / "run.json"
    code = main(["--headless", "--data", str(path), "--target", "species", "--features",
                 "island,bill_mm,flipper_mm", "--hidden", "5,4", "--epochs", "30", "--seed", "2",
                 "--json", str(out), "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "classification of 'species'" in printed.out and "5-5-4-3" in printed.out
    record = json.loads(out.read_text())
    assert record["epochs_run"] == 30 and math.isfinite(record["final_loss"])
    assert record["test_loss"][-1] is not None
    # How often it is right, on the test rows and the training rows, as the window shows it.
    table = read_csv_table(path)
    options = default_options(table)
    options.target, options.features, options.seed = "species", ["island", "bill_mm", "flipper_mm"], 2
    dataset, _ = build_dataset(table, options)
    trainer = make_csv_setup(dataset, hidden=[5, 4], seed=2, epochs=30).make_trainer()
    trainer.run_epochs(30)
    test = confusion_matrix(trainer.net.predict(dataset.X_test), dataset.Y_test, 3)
    train = confusion_matrix(trainer.net.predict(dataset.X), dataset.Y, 3)
    assert (f"accuracy: test {100 * accuracy(test):.1f} % of {len(dataset.X_test)} rows · "
            f"train {100 * accuracy(train):.1f} % of {dataset.n_samples} rows") in printed.out


def test_command_line_options_reach_the_data_set(tmp_path, capsys):
    path = write(tmp_path, "p.csv", penguins(50, missing_every=5))
    code = main(["--headless", "--data", str(path), "--target", "5", "--missing", "fill",
                 "--no-standardise", "--test-fraction", "0", "--epochs", "2", "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "regression of 'flipper_mm'" in printed.out and "50 training rows, 0 test rows" in printed.out
    assert "filled with the column's mean" in printed.err


def test_command_line_session_names_the_file_by_the_hash_taken_as_it_was_read(tmp_path, monkeypatch, capsys):
    import core.session
    path = write(tmp_path, "p.csv", penguins(40))
    as_read = hashlib.sha256(path.read_bytes()).hexdigest()

    def hashed_again(path):             # after training, from a file that may have changed
        raise AssertionError(f"{path} hashed again")
    monkeypatch.setattr(core.session, "file_sha256", hashed_again)
    session = tmp_path / "run.json"
    assert main(["--headless", "--data", str(path), "--target", "species", "--epochs", "2",
                 "--quiet", "--save-session", str(session)]) == 0, capsys.readouterr().err
    assert f'"sha256": "{as_read}"' in session.read_text()


@pytest.mark.parametrize("args, expected", [
    (["--target", "nope"], "p.csv: has no column 'nope'"),
    (["--target", "species", "--features", "comment"], "p.csv: column 'comment' has no numeric values"),
    (["--test-fraction", "1.5"], "--test-fraction must be at least 0 and below 1"),
    (["--hidden", "8,x"], "--hidden: '8,x' is not a list of whole numbers"),
])
def test_command_line_errors_are_one_line_and_exit_2(tmp_path, capsys, args, expected):
    path = write(tmp_path, "p.csv", penguins())
    assert main(["--headless", "--data", str(path), "--epochs", "1", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("main.py: error:") and expected in err and "\n" not in err
