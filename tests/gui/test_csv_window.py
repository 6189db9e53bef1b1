"""Your own data in the window: File → Open CSV (Ctrl+O) or a dropped file, the preview
dialog, training, and what the window then shows — the input names in the graph, the
test loss beside the training loss, predicted against actual in the file's units or a
confusion matrix with the accuracy.  A file that cannot be used leaves the window exactly
as it was."""
import hashlib
import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QMimeData, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox

from core import Network
from core.csv_dataset import accuracy, confusion_matrix

TIMEOUT = 10_000
DISTRICTS = ("North", "South", "Harbour")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def houses_csv(tmp_path, n=80):
    """Prices in dollars from area, rooms and a district (categorical)."""
    rng = np.random.RandomState(3)
    rows = ["area_m2,rooms,district,price"]
    for i in range(n):
        area, rooms, district = rng.uniform(40, 200), rng.randint(1, 7), i % 3
        price = 1500 * area + 9000 * rooms + 40_000 * district + rng.normal(0, 5000)
        rows.append(f"{area:.1f},{rooms},{DISTRICTS[district]},{price:.0f}")
    path = tmp_path / "houses.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def penguins_csv(tmp_path, n=90):
    """Three species told apart by bill and flipper length; the island is a category."""
    rng = np.random.RandomState(4)
    rows = ["bill_mm;flipper_mm;island;species"]        # semicolons, as a European export
    for i in range(n):
        s = i % 3
        rows.append(f"{38 + 5 * s + rng.normal(0, 1):.1f};{185 + 12 * s + rng.normal(0, 3):.0f};"
                    f"{('Biscoe', 'Dream')[i % 2]};{SPECIES[s]}")
    path = tmp_path / "penguins.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def open_csv(window, qtbot, path, target=None):
    """Open `path` through the window's import and return the preview dialog."""
    dialogs = []
    window.csv.flow.dialog_opened.connect(dialogs.append)
    window.csv.open(path)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=TIMEOUT)
    dialog = dialogs[0]
    if target is not None:
        dialog.role_box(target).setCurrentText("target")
    return dialog


def accept(window, qtbot, dialog):
    name = f"csv:{dialog.table.path.stem}"
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert dialog.result() == QDialog.Accepted
    qtbot.waitUntil(lambda: window.scenario.name == name, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)


def train(window, qtbot, epochs):
    future = window.run_epochs(epochs)
    qtbot.waitUntil(future.done, timeout=TIMEOUT)
    assert future.result() == epochs
    window.wait_until_drawn()
    return window.last_frame().snapshot


def network_at(snapshot) -> Network:
    """A copy of the trained network, for checking what the window shows."""
    net = Network(list(snapshot.sizes), list(snapshot.activation_names))
    net.set_params(snapshot.params)
    return net


def assert_test_loss_drawn(window):
    curve = window.loss_plot.test
    x, y = curve.getData()
    assert curve.isVisible() and len(x) >= 2 and np.all(np.isfinite(y))


def test_regression_csv_trains_and_shows_predicted_against_actual_in_dollars(make_window, qtbot, tmp_path):
    window = make_window()
    dialog = open_csv(window, qtbot, houses_csv(tmp_path), target="price")
    accept(window, qtbot, dialog)
    d = window.dataset
    assert d.task == "regression" and d.target_names == ["price"]
    # The hidden layers are the ones the user had (the lecture's 5); the rest follows the data.
    assert window.scenario.network.sizes == [5, 5, 1]
    assert window.network_view.state.input_names == ("area_m2", "rooms", "district=Harbour",
                                                     "district=North", "district=South")
    assert window.network_view.state.unit_label(0, 2) == "district=Harbour"
    assert window.network_view.state.output_names == ("price",)
    snapshot = train(window, qtbot, 40)
    assert snapshot.epoch == 40 and "Epoch 40" in window.status_text()
    panel = window.output_panel
    assert panel.mode == "regression"
    actual, predicted = panel.train_points.getData()
    assert np.allclose(np.sort(actual), np.sort(d.y_to_original(d.Y)[:, 0]))   # dollars
    expected = d.y_to_original(network_at(snapshot).predict(d.X))[:, 0]
    assert np.allclose(predicted, expected)
    assert len(panel.test_points.getData()[0]) == len(d.Y_test) == 16
    assert_test_loss_drawn(window)
    assert "houses" in window.narrative.text.toPlainText()
    # A session saved now names the file (and its hash) and how it was imported.
    source = window.sessions.data_source()
    assert (source.kind, source.csv_path, source.csv_options["target"]) == ("csv", str(dialog.table.path), "price")
    # A CSV is never remembered as the scenario to open next time.
    assert window.settings.value("scenario") == "lecture-house-prices"
    assert window.controls.scenario.currentIndex() == -1


def test_a_session_names_the_file_by_the_hash_taken_as_it_was_read(make_window, qtbot, tmp_path, monkeypatch):
    # Hashing at OK, on the GUI thread, froze the window 0.64 s for a million rows, and
    # hashed a file changed since it was read in its new state.
    import core.session
    hashed_on = []
    real = core.session.file_sha256

    def file_sha256(path):
        hashed_on.append(threading.current_thread())
        return real(path)
    monkeypatch.setattr(core.session, "file_sha256", file_sha256)
    window = make_window()
    path = houses_csv(tmp_path)
    as_read = hashlib.sha256(path.read_bytes()).hexdigest()
    dialog = open_csv(window, qtbot, path, target="price")
    with open(path, "a") as f:          # changed after it was read: the data set is the old file
        f.write("99.0,2,North,180000\n")
    accept(window, qtbot, dialog)
    source = window.sessions.data_source()
    assert source.kind == "csv" and source.csv_sha256 == as_read
    assert threading.main_thread() not in hashed_on


def test_classification_csv_shows_a_confusion_matrix_and_accuracy(make_window, qtbot, tmp_path):
    window = make_window()
    dialog = open_csv(window, qtbot, penguins_csv(tmp_path))
    assert dialog.role_box("species").currentText() == "target"      # the last column
    accept(window, qtbot, dialog)
    d = window.dataset
    assert d.task == "classification" and d.classes == list(SPECIES)
    assert window.scenario.config.loss == "cross_entropy"
    assert window.network_view.state.input_names == ("bill_mm", "flipper_mm", "island=Biscoe",
                                                     "island=Dream")
    assert window.network_view.state.output_names == tuple(f"species={s}" for s in SPECIES)
    snapshot = train(window, qtbot, 60)
    panel = window.output_panel
    assert panel.mode == "confusion"
    expected = confusion_matrix(network_at(snapshot).predict(d.X_test), d.Y_test, 3)
    assert expected.sum() == len(d.Y_test) == 18
    assert np.array_equal(panel.confusion.counts_shown(), expected)
    assert f"test {100 * accuracy(expected):.1f} %" in panel._title
    train_counts = confusion_matrix(network_at(snapshot).predict(d.X), d.Y, 3)
    assert f"train {100 * accuracy(train_counts):.1f} %" in panel._title
    assert [label for _, label in panel.getPlotItem().getAxis("bottom")._tickLevels[0]] == list(SPECIES)
    assert_test_loss_drawn(window)


def test_a_two_feature_classification_csv_shows_boundary_matrix_and_legend(make_window, qtbot, tmp_path):
    # The output panel switches to the decision boundary for two inputs; the matrix and
    # the accuracy must not be lost with it (they were), and the colours need a key.
    rng = np.random.RandomState(6)
    rows = ["bill_mm,flipper_mm,species"]
    for i in range(75):
        s = i % 3
        bill, flipper = 38 + 4 * s + rng.normal(0, 1.5), 185 + 8 * s + rng.normal(0, 5)
        rows.append(f"{bill:.1f},{flipper:.0f},{SPECIES[s]}")
    path = tmp_path / "two_features.csv"
    path.write_text("\n".join(rows) + "\n")
    window = make_window()
    accept(window, qtbot, open_csv(window, qtbot, path))
    d = window.dataset
    assert d.task == "classification" and d.X.shape[1] == 2 and d.classes == list(SPECIES)
    snapshot = train(window, qtbot, 30)
    panel = window.output_panel
    assert panel.mode == "boundary" and panel.heat.image is not None
    expected = confusion_matrix(network_at(snapshot).predict(d.X_test), d.Y_test, 3)
    assert expected.sum() == len(d.Y_test) == 15
    assert np.array_equal(panel.matrix_shown().counts_shown(), expected)
    assert panel.matrix_shown().counts_readable()
    assert f"test {100 * accuracy(expected):.1f} %" in panel.getPlotItem().titleLabel.text
    assert [name for name, _ in panel.legend_entries()] == list(SPECIES) + ["test rows"]


def bad_file(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "ragged":
        path.write_text("a,b,c\n1,2,3\n4,5,6,7\n7,8,9\n")
    else:
        path.write_bytes(b"\x00\x01\x02\x03binary\xff\xfe" * 64)
    return path


@pytest.mark.parametrize("kind, says", [("empty", "the file is empty"), ("ragged", "line 3 has 4 fields"),
                                        ("binary", "not a text file")])
def test_a_file_that_cannot_be_used_is_named_and_changes_nothing(make_window, qtbot, tmp_path, kind, says):
    window = make_window()
    before = train(window, qtbot, 7)
    scenario, dataset, worker = window.scenario, window.dataset, window.worker
    messages = []
    window.csv.report = messages.append
    window.csv.open(bad_file(tmp_path, kind))
    qtbot.waitUntil(lambda: bool(messages), timeout=TIMEOUT)
    assert messages[0].startswith(f"{kind}.csv: ") and says in messages[0]
    assert says in window.message_text()
    qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)
    assert window.scenario is scenario and window.dataset is dataset and window.worker is worker
    settle = window.worker.submit(lambda: None)
    qtbot.waitUntil(settle.done, timeout=TIMEOUT)
    window.wait_until_drawn()
    after = window.last_frame().snapshot
    assert after.epoch == before.epoch == 7
    assert np.array_equal(after.params, before.params)


def test_the_message_box_names_the_file(make_window, qtbot, tmp_path):
    window = make_window()
    window.csv.open(bad_file(tmp_path, "empty"))
    qtbot.waitUntil(lambda: window.csv.error_box is not None, timeout=TIMEOUT)
    box = window.csv.error_box
    assert isinstance(box, QMessageBox) and box.text().startswith("empty.csv: the file is empty")
    box.close()
    assert window.scenario.name == "lecture-house-prices"


def test_cancelling_a_load_keeps_everything(make_window, qtbot, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(200_000)))
    window = make_window()
    dialogs = []
    window.csv.flow.dialog_opened.connect(dialogs.append)
    window.csv.open(big)
    window.csv.flow.loader.cancel()         # the progress dialog's Cancel
    qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)
    qtbot.wait(50)
    assert not dialogs and window.scenario.name == "lecture-house-prices"
    assert window.message_text().startswith("loading cancelled: the current data set")


def drag_events(path):
    mime = QMimeData()                      # as a file manager sends it: a URL and its text
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    mime.setText(QUrl.fromLocalFile(str(path)).toString())
    enter = QDragEnterEvent(QPoint(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    drop = QDropEvent(QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    return mime, enter, drop


def test_a_file_dropped_on_the_window_or_the_graph_opens(make_window, qtbot, tmp_path):
    window = make_window()
    path = houses_csv(tmp_path)
    dialogs = []
    window.csv.flow.dialog_opened.connect(dialogs.append)
    # The graph view takes drops itself (a QGraphicsView): the file must still open.
    for target in (window, window.network_view.viewport()):
        dialogs.clear()
        _, enter, drop = drag_events(path)
        QApplication.sendEvent(target, enter)
        assert enter.isAccepted()
        QApplication.sendEvent(target, drop)
        qtbot.waitUntil(lambda: bool(dialogs), timeout=TIMEOUT)
        assert dialogs[0].table.path == path
        dialogs[0].reject()                 # Cancel: nothing changes
        qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)
        assert window.scenario.name == "lecture-house-prices"
        assert window.message_text() == ("houses.csv not opened: the current data "
                                                       "set and network are kept")
    text = QMimeData()
    text.setText("just words")
    enter = QDragEnterEvent(QPoint(20, 20), Qt.CopyAction, text, Qt.LeftButton, Qt.NoModifier)
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()           # not a file: not ours


def test_a_panel_added_after_the_window_was_built_hands_dropped_files_on_too(make_window, qtbot, tmp_path):
    window = make_window(show=False)
    field = QLineEdit()                     # takes text drops itself, like lecture mode's fields
    window.side.addWidget(field)
    window.show()
    qtbot.waitExposed(window)
    dialogs = []
    window.csv.flow.dialog_opened.connect(dialogs.append)
    _, enter, drop = drag_events(penguins_csv(tmp_path))
    QApplication.sendEvent(field, enter)
    QApplication.sendEvent(field, drop)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=TIMEOUT)
    assert field.text() == ""               # the file opened; its path was not typed into the field
    dialogs[0].reject()
    qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)


def test_ctrl_o_opens_a_csv_whatever_has_the_focus(make_window, qtbot, tmp_path):
    window = make_window()
    action = window.csv.open_action
    assert action.shortcut().toString() == "Ctrl+O"
    assert action.shortcutContext() == Qt.ApplicationShortcut
    menus = {a.menu().title(): a.menu() for a in window.menuBar().actions() if a.menu()}
    assert action in menus["&File"].actions()
    assert window.menuBar().actions()[0].menu() is menus["&File"]       # File comes first
    path = penguins_csv(tmp_path)
    asked = []
    window.csv.ask_path = lambda: asked.append(True) or str(path)
    dialogs = []
    window.csv.flow.dialog_opened.connect(dialogs.append)
    lr_field = window.controls.training.lr.field
    for widget in (window.network_view, lr_field):
        window.activateWindow()             # back from the dialog (a window manager does this)
        qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
        widget.setFocus()
        dialogs.clear()
        qtbot.keyClick(widget, Qt.Key_O, Qt.ControlModifier)
        qtbot.waitUntil(lambda: bool(dialogs), timeout=TIMEOUT)
        dialogs[0].reject()
        qtbot.waitUntil(lambda: not window.csv.flow.loader.is_running(), timeout=TIMEOUT)
    assert len(asked) == 2


def test_a_big_many_class_confusion_matrix_stays_readable(qtbot):
    from core.datasets import Dataset
    from gui.plots import OutputPanel
    from gui.worker import CONFUSION_SAMPLES, Outputs
    k, n_train, n_test = 25, 50_000, 30_000
    classes = [f"class number {i}" for i in range(k)]
    dataset = Dataset("many", np.zeros((n_train, 2)), np.zeros((n_train, 1)), ["a", "b"], ["kind"],
                      "classification", classes=classes, X_test=np.zeros((n_test, 2)), Y_test=np.zeros((n_test, 1)))
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(dataset)
    counts = np.full((k, k), CONFUSION_SAMPLES // (k * k))
    np.fill_diagonal(counts, 0)
    counts[0, 0] = CONFUSION_SAMPLES - counts.sum()             # the first class right, the rest wrong
    panel.refresh(None, Outputs(np.zeros((1, k)), None, None, counts, counts))
    assert panel.mode == "confusion" and panel.confusion.texts == []        # too many cells to write in
    ticks = panel.getPlotItem().getAxis("left")._tickLevels[0]
    assert len(ticks) <= 20 and ticks[0] == (0, "class numbe…")
    share = f"{100 * counts[0, 0] / CONFUSION_SAMPLES:.1f} %"
    assert panel._title == (f"Confusion matrix (first {CONFUSION_SAMPLES:,} of {n_test:,} test rows)<br>"
                            f"accuracy: test {share} · train {share} (first {CONFUSION_SAMPLES:,})")
