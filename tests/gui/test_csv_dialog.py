"""The CSV preview dialog and loader: defaults a user sees, picking a target, the options
it returns, training on the result, and loading on a thread that can be cancelled."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from core.csv_dataset import build_dataset, make_csv_setup
from core.csv_import import read_csv_table
from gui.csv_dialog import CSVImportDialog
from gui.csv_loader import CSVImportFlow, CSVLoader


def penguins(tmp_path, n=60, missing_every=0):
    rows = ["id,species,island,bill_mm,flipper_mm,comment,sex"]
    for i in range(n):
        bill = "NA" if missing_every and i % missing_every == 0 else f"{35 + (i * 7) % 15 + 0.1 * (i % 3)}"
        rows.append(f"{i + 1},{['Adelie', 'Gentoo', 'Chinstrap'][i % 3]},"
                    f"{['Biscoe', 'Dream', 'Torgersen'][(i // 2) % 3]},{bill},{180 + (i * 11) % 37},"
                    f"note {i},{'male' if (i * 5) % 7 < 3 else 'female'}")
    path = tmp_path / "penguins.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def open_dialog(qtbot, path):
    dialog = CSVImportDialog(read_csv_table(path))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def accept(qtbot, dialog):
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert dialog.result() == QDialog.Accepted
    return dialog.options()


def train(dialog, options, epochs=30):
    dataset, _ = build_dataset(dialog.table, options)
    scenario = make_csv_setup(dataset, hidden=[6], seed=1)
    trainer = scenario.make_trainer()
    trainer.run_epochs(epochs)
    assert math.isfinite(trainer.history.loss.last()) and not trainer.diverged
    return dataset, scenario


def test_dialog_proposes_roles_and_picking_a_target_makes_it_classification(qtbot, tmp_path):
    dialog = open_dialog(qtbot, penguins(tmp_path))
    roles = {name: dialog.role_box(name).currentText() for name in dialog.table.column_names}
    assert roles == {"id": "ignore", "species": "feature", "island": "feature", "bill_mm": "feature",
                     "flipper_mm": "feature", "comment": "ignore", "sex": "target"}
    dialog.role_box("species").setCurrentText("target")
    assert dialog.role_box("sex").currentText() == "feature"     # only one target
    assert dialog.type_box("species").currentText() == "categorical"
    assert dialog.summary_label.text().startswith("Classification of 'species' into 3 classes")
    options = accept(qtbot, dialog)
    assert options.target == "species" and "sex" in options.features and "id" not in options.features
    dataset, scenario = train(dialog, options)
    assert dataset.task == "classification" and dataset.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert scenario.network.sizes[-1] == 3 and scenario.config.loss == "cross_entropy"


def test_dialog_regression_with_fill_no_standardising_and_no_test_set(qtbot, tmp_path):
    dialog = open_dialog(qtbot, penguins(tmp_path, missing_every=4))
    dialog.role_box("flipper_mm").setCurrentText("target")
    assert "keeps 45 of 60" in dialog.drop_button.text()
    assert "keeps 60 of 60" in dialog.fill_button.text()
    dialog.fill_button.setChecked(True)
    dialog.standardise_box.setChecked(False)
    dialog.test_percent.setValue(0)
    assert dialog.summary_label.text() == ("Regression of 'flipper_mm' from 9 inputs; "
                                           "60 training rows, 0 test rows")
    options = accept(qtbot, dialog)
    assert (options.missing, options.standardise, options.test_fraction) == ("fill", False, 0)
    dataset, scenario = train(dialog, options)
    assert dataset.task == "regression" and dataset.y_mean is None and dataset.X_test is None
    assert scenario.network.activation_names[-1] == "linear"


def test_dialog_shows_why_a_choice_cannot_work_and_blocks_ok(qtbot, tmp_path):
    dialog = open_dialog(qtbot, penguins(tmp_path))
    box = dialog.type_box("island")
    box.setCurrentText("numeric")
    box.activated.emit(box.currentIndex())          # as a user's pick does
    assert "column 'island' has no numeric values (line 2: 'Biscoe')" in dialog.summary_label.text()
    assert not dialog.ok_button.isEnabled()
    box.setCurrentText("categorical")
    box.activated.emit(box.currentIndex())
    assert dialog.ok_button.isEnabled()
    for name in ("species", "island", "bill_mm", "flipper_mm"):
        dialog.role_box(name).setCurrentText("ignore")
    assert "no feature columns" in dialog.summary_label.text()
    assert not dialog.ok_button.isEnabled()


def test_loader_reads_on_a_thread_and_reports_failures(qtbot, tmp_path):
    loader = CSVLoader()
    path = penguins(tmp_path)
    with qtbot.waitSignal(loader.loaded, timeout=10_000) as got:
        loader.read(path)
    assert got.args[0].n_rows == 60
    assert got.args[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()     # for sessions
    qtbot.waitUntil(lambda: not loader.is_running())
    bad = tmp_path / "picture.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with qtbot.waitSignal(loader.failed, timeout=10_000) as got:
        loader.read(bad)
    assert got.args[0].startswith("picture.csv: is not a CSV file but a PNG image")
    qtbot.waitUntil(lambda: not loader.is_running())


def test_loading_can_be_cancelled(qtbot, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(200_000)))
    loader = CSVLoader()
    loaded = []
    loader.loaded.connect(loaded.append)
    with qtbot.waitSignals([loader.cancelled, loader.finished], timeout=10_000):
        loader.read(path)
        loader.cancel()
    assert not loaded and not loader.is_running()


def test_import_flow_from_file_to_a_trainable_scenario(qtbot, tmp_path):
    flow = CSVImportFlow(setup=lambda: {"hidden": [4, 3], "seed": 2})
    dialogs = []
    flow.dialog_opened.connect(dialogs.append)
    with qtbot.waitSignal(flow.dialog_opened, timeout=10_000):
        flow.open(penguins(tmp_path))
    dialog = dialogs[0]
    dialog.role_box("bill_mm").setCurrentText("target")
    with qtbot.waitSignal(flow.imported, timeout=10_000) as got:
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    scenario, notes = got.args
    assert scenario.dataset.task == "regression" and scenario.network.sizes[1:] == [4, 3, 1]
    assert scenario.seed == 2 and isinstance(notes, list)
    trainer = scenario.make_trainer()
    trainer.run_epochs(5)
    assert np.isfinite(trainer.history.loss.last())
    qtbot.waitUntil(lambda: not flow.loader.is_running())
    flow.shutdown()


def test_a_new_file_replaces_one_still_loading(qtbot, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(200_000)))
    loader = CSVLoader()
    loaded, cancelled = [], []
    loader.loaded.connect(loaded.append)
    loader.cancelled.connect(lambda: cancelled.append(True))
    loader.read(big)
    with qtbot.waitSignal(loader.loaded, timeout=10_000):
        loader.read(penguins(tmp_path))
    qtbot.waitUntil(lambda: not loader.is_running())
    qtbot.wait(50)                  # any late signal of the first file would arrive now
    assert [t.name for t in loaded] == ["penguins.csv"] and cancelled == [True]
