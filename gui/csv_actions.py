"""The window's CSV import: File → Open CSV… (Ctrl+O, application-wide), a file dropped
anywhere on the window, and what happens after — the network is rebuilt for the data with
the hidden layers the user has set, or a message naming the file says why it cannot be
used and the window keeps the data set and network it had.

The reading, the preview dialog and the building are CSVImportFlow's (gui/csv_loader.py);
this module only wires it to the window.
"""
from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QWidget

from core.csv_dataset import counted
from core.session import DataSource

from .csv_loader import CSVImportFlow

FILE_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
LAST_FOLDER_KEY = "csv/last_folder"
CSV_PLACEHOLDER = "(your CSV data)"


def file_menu(window) -> QMenu:
    """The window's File menu, made first in the menu bar if nobody has made it yet (the
    session and export actions live there too)."""
    bar = window.menuBar()
    for action in bar.actions():
        menu = action.menu()
        if menu is not None and menu.title().replace("&", "") == "File":
            return menu
    menu = QMenu("&File", window)
    if bar.actions():
        bar.insertMenu(bar.actions()[0], menu)
    else:
        bar.addMenu(menu)
    return menu


def output_names(dataset) -> list:
    """Names for the output neurons: the target for regression; for classification one per
    class ("species=Adelie"), or for a single sigmoid output the class it gives P of."""
    if dataset.task != "classification":
        return list(dataset.target_names)
    target, classes = dataset.target_names[0], [str(c) for c in dataset.classes]
    if dataset.n_outputs == 1:
        return [f"P({target}={classes[-1]})"]
    return [f"{target}={c}" for c in classes]


def local_file(mime) -> str | None:
    """The first local file a drag carries, if any."""
    if mime is None or not mime.hasUrls():
        return None
    return next((url.toLocalFile() for url in mime.urls() if url.isLocalFile()), None)


class CSVActions(QObject):
    """Owns the window's CSVImportFlow.  `ask_path()` (a file dialog) and `report(message)`
    (a message box) are attributes so that tests can replace them."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.flow = CSVImportFlow(window, setup=self.setup)
        self.flow.imported.connect(self._imported)
        self.flow.failed.connect(self._failed)
        self.flow.dialog_opened.connect(self._preview_opened)
        self.flow.loader.cancelled.connect(lambda: self._kept("loading cancelled"))
        self.ask_path = self._ask_path
        self.report = self._report
        self.error_box: QMessageBox | None = None
        self._chosen = None                 # (path, ImportOptions, sha256) of the file being built
        self.open_action = QAction("Open CSV…", window)
        self.open_action.setShortcut(QKeySequence("Ctrl+O"))
        # Application-wide, like every shortcut here: plot and graphics views swallow keys.
        self.open_action.setShortcutContext(Qt.ApplicationShortcut)
        self.open_action.setToolTip("Train on your own data: a CSV file (Ctrl+O, or drop it on the window)")
        self.open_action.triggered.connect(self.choose_file)
        window.addAction(self.open_action)
        menu = file_menu(window)
        menu.insertAction(menu.actions()[0] if menu.actions() else None, self.open_action)
        window.controls.scenario.setPlaceholderText(CSV_PLACEHOLDER)
        self._accept_drops(window)
        QApplication.instance().aboutToQuit.connect(self.shutdown)

    # -- opening ---------------------------------------------------------------------------
    def choose_file(self):
        path = self.ask_path()
        if path:
            self.open(path)

    def _ask_path(self) -> str:
        folder = self.window.settings.value(LAST_FOLDER_KEY, "")
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a CSV file", str(folder or ""), FILE_FILTER)
        return path

    def open(self, path):
        """Read `path` (progress, then the preview dialog); the rest follows from signals."""
        self.window.settings.setValue(LAST_FOLDER_KEY, str(Path(path).parent))
        self.window.show_message(f"Loading {Path(path).name}…")
        self.flow.open(str(path))

    def setup(self) -> dict:
        """What the new network keeps of the window's: the hidden layers set in the network
        editor, their activation and the seed."""
        choice = self.window.controls.architecture.choice()
        hidden = list(choice.hidden)
        return {"hidden": hidden, "activation": choice.activations[0] if hidden else "tanh",
                "seed": int(choice.seed)}

    def shutdown(self):
        self.flow.shutdown()

    # -- results -----------------------------------------------------------------------------
    def _imported(self, scenario, notes):
        w = self.window
        name = scenario.dataset.name
        if w._has_training() and not w.confirm_discard(f"Training on {name}"):
            self._kept(f"{name} not opened")
            return
        path, options, sha256 = self._chosen
        self.show_imported(scenario, path, options, notes, sha256)

    def show_imported(self, scenario, path, options, notes, sha256=None):
        """Train on a CSV file's scenario (from the dialog, or `main.py --data`).  `sha256`:
        the file's hash, taken as it was read (CSVTable.sha256); without it the file is
        hashed here, on the GUI thread."""
        w = self.window
        w.use_scenario(scenario)
        try:            # sessions saved from now on name the file and its hash
            w.sessions.set_data_source(DataSource.from_csv(scenario.dataset, path, asdict(options), sha256))
        except OSError:
            pass        # gone since it was read: sessions keep a copy of the data instead
        w.narrative.text.setHtml(narrative_html(scenario, notes))     # the scenario panel's text
        w.show_message(f"Opened {scenario.dataset.name}: {scenario.title.split(': ', 1)[-1]}")

    def _preview_opened(self, dialog):
        self.window.show_message(f"{dialog.table.describe()}: choose what to predict")
        dialog.accepted.connect(lambda: setattr(self, "_chosen", (dialog.table.path, dialog.options(),
                                                                  dialog.table.sha256)))
        dialog.rejected.connect(lambda: self._kept(f"{dialog.table.name} not opened"))

    def _kept(self, what: str):
        self.window.show_message(f"{what}: the current data set and network are kept")

    def _failed(self, message: str):
        self.window.show_message(message, 15000)
        self.report(message)

    def _report(self, message: str):
        if self.error_box is not None:
            self.error_box.close()
        box = QMessageBox(QMessageBox.Warning, "Cannot use this file", message, QMessageBox.Ok, self.window)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda _: setattr(self, "error_box", None))
        self.error_box = box
        box.open()                  # window-modal, without blocking the event loop

    # -- drag and drop ---------------------------------------------------------------------
    def _accept_drops(self, window):
        """Files dropped anywhere on the window: the window and every child that takes
        drops itself (graph and plot views, text fields) hand a file to open().  Again
        when the window is shown, for the panels added after this."""
        window.setAcceptDrops(True)
        for widget in [window, *window.findChildren(QWidget)]:
            if widget.acceptDrops():
                widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        kind = event.type()
        if kind == QEvent.Show and watched is self.window:
            self._accept_drops(self.window)
        elif kind in (QEvent.DragEnter, QEvent.DragMove, QEvent.Drop):
            path = local_file(event.mimeData())
            if path is None:
                return False        # text dragged into a field, say: not ours
            event.acceptProposedAction()
            if kind == QEvent.Drop:
                self.open(path)
            return True
        return False


def listing(names, shown: int = 12) -> str:
    """'a, b, c' or, for long lists, 'a, b, … and 40 more' (escaped for HTML)."""
    names = [escape(str(n)) for n in names]
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def narrative_html(scenario, notes) -> str:
    """The narrative panel for a CSV data set: what is predicted from what, the rows, the
    scaling and the importer's notes — facts about the data only, since the network and
    its training settings can change (they are in the graph and the controls)."""
    d = scenario.dataset
    target = escape(d.target_names[0])
    if d.task == "classification":
        task = f"which of {len(d.classes)} classes <b>{target}</b> is ({listing(d.classes)})"
    else:
        task = f"<b>{target}</b> (regression)"
    scaled = ("Inputs standardised (v − mean) / std with the training rows' statistics"
              + ("; the target too, shown in its own units" if d.task == "regression" else "")
              if d.x_mean is not None else
              "Inputs <b>not</b> standardised: the network sees the raw numbers — watch what "
              "that does to the loss and the gradients")
    n_test = 0 if d.X_test is None else len(d.X_test)
    html = (f"<h3>{escape(d.name)}</h3>"
            f"<p>Predicts {task} from {counted(d.X.shape[1], 'input')}: {listing(d.feature_names)}.</p>"
            f"<p>{counted(d.n_samples, 'training row')}, {counted(n_test, 'test row')}. {scaled}.</p>")
    if notes:
        html += "<p><b>Notes on the file:</b></p><ul>" + "".join(
            f"<li>{escape(n)}</li>" for n in notes) + "</ul>"
    return html
