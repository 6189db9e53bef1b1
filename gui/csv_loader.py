"""Loading a CSV file off the GUI thread, with a progress bar and a Cancel button.

The work is core's — read_csv_table reports progress through a callback and stops when a
flag says so; build_dataset and make_csv_setup make the data set and the network — this
module only runs it on a QThread, so a million-row file never freezes the window.

For the window, CSVImportFlow does the whole sequence: read (progress dialog) → preview
dialog → build (off the GUI thread too) → `imported(scenario, notes)`; on any failure
`failed(message)` and the window keeps the data set and network it had.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from core.csv_dataset import build_dataset, make_csv_setup
from core.csv_import import read_csv_table
from core.errors import BackpropLabError, ImportCancelled

from .csv_dialog import CSVImportDialog

PROGRESS_STEPS = 1000           # progress is reported in thousandths


class _Job(QObject):
    """Runs one piece of core work in the loader's thread; its signals cross back queued."""
    progressed = Signal(int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, work):
        super().__init__()
        self._work = work
        self.stop = threading.Event()   # set from the GUI thread; polled by core

    @Slot()
    def run(self):
        try:
            result = self._work(self._report, self.stop.is_set)
        except ImportCancelled:
            self.cancelled.emit()
        except BackpropLabError as e:
            self.failed.emit(str(e))
        except Exception as e:      # a bug must still end the thread and reach the window
            self.failed.emit(f"unexpected error while loading: {type(e).__name__}: {e}")
        else:
            if self.stop.is_set():      # cancelled after the last check: drop the result
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self.finished.emit()

    def _report(self, fraction: float):
        self.progressed.emit(int(round(fraction * PROGRESS_STEPS)))


class CSVLoader(QObject):
    """One job at a time, each on its own QThread.  read(path) ends in `loaded(CSVTable)`;
    build(...) in `built((scenario, notes))`; either may end in `failed(message)` or
    `cancelled()` instead.  A new job cancels the one before, whose signals are then
    dropped.  `finished()` follows once the current job's thread has ended.  Call
    shutdown() before the owner goes (closeEvent): a running QThread that is destroyed
    aborts the process."""
    progressed = Signal(int)        # 0 .. PROGRESS_STEPS
    loaded = Signal(object)
    built = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: _Job | None = None
        self._result_signal = None
        # Every job stays referenced here until its thread has ended: it is Python's to
        # delete, never also Qt's (deleteLater as well would free it twice).
        self._jobs: dict = {}

    def is_running(self) -> bool:
        return self._thread is not None

    def read(self, path):
        self._start(lambda progress, cancelled: read_csv_table(path, progress, cancelled),
                    self.loaded)

    def build(self, table, options, **setup):
        """Data set and network: `setup` goes to make_csv_setup (hidden, activation, lr,
        seed, ...)."""
        def work(progress, cancelled):
            dataset, notes = build_dataset(table, options)
            return make_csv_setup(dataset, **setup), notes
        self._start(work, self.built)

    def cancel(self):
        if self._job is not None:
            self._job.stop.set()

    def shutdown(self, timeout_ms: int = 10_000):
        """Cancel the current job and wait for its thread to end; it ends in `cancelled`.
        (QThread.wait lets the thread run its Python, but no queued signal reaches this
        thread meanwhile: hence quit() called directly.)"""
        if self._thread is not None:
            self.cancel()
            self._thread.quit()
            self._thread.wait(timeout_ms)
            self._thread = self._job = None
            self.cancelled.emit()

    def _start(self, work, result_signal):
        self.shutdown()             # a new file replaces one still loading
        thread = QThread(self)
        job = _Job(work)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.progressed.connect(self._job_progressed)
        job.succeeded.connect(self._job_succeeded)
        job.failed.connect(self._job_failed)
        job.cancelled.connect(self._job_cancelled)
        job.finished.connect(thread.quit)
        thread.finished.connect(self._thread_finished)
        self._jobs[thread] = job
        self._thread, self._job, self._result_signal = thread, job, result_signal
        thread.start()

    # The job's signals arrive queued, in this (the GUI) thread; a replaced job's are dropped.
    @Slot(int)
    def _job_progressed(self, value: int):
        if self.sender() is self._job:
            self.progressed.emit(value)

    @Slot(object)
    def _job_succeeded(self, result):
        if self.sender() is self._job:
            self._result_signal.emit(result)

    @Slot(str)
    def _job_failed(self, message: str):
        if self.sender() is self._job:
            self.failed.emit(message)

    @Slot()
    def _job_cancelled(self):
        if self.sender() is self._job:
            self.cancelled.emit()

    @Slot()
    def _thread_finished(self):
        thread = self.sender()
        thread.wait()               # `finished` comes just before the thread really ends
        del self._jobs[thread]
        thread.deleteLater()
        if thread is self._thread:
            self._thread = self._job = None
            self.finished.emit()


def progress_dialog(loader: CSVLoader, text: str, parent: QWidget | None,
                    busy: bool = False) -> QProgressDialog:
    """A window-modal progress bar with Cancel for the loader's current job, shown only if
    it takes a moment; it closes itself when the job ends, whatever the outcome.
    busy: a job that reports no progress (the bar just moves)."""
    dialog = QProgressDialog(text, "Cancel", 0, 0 if busy else PROGRESS_STEPS, parent)
    dialog.setWindowTitle("Loading")
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(400)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    loader.progressed.connect(dialog.setValue)
    dialog.canceled.connect(loader.cancel)
    for ending in (loader.loaded, loader.built, loader.failed, loader.cancelled):
        ending.connect(dialog.deleteLater)
    dialog.setValue(0)
    return dialog


class CSVImportFlow(QObject):
    """Open a CSV file the way the window does it:

        flow = CSVImportFlow(window, setup=lambda: {"hidden": [8], "seed": 0})
        flow.imported.connect(...)      # (Scenario, notes): train on it
        flow.failed.connect(...)        # one-line message: show it, keep what you had
        flow.open(path)                 # File → Open CSV, Ctrl+O, a dropped file
        flow.shutdown()                 # in closeEvent

    `setup()` is asked when the user clicks OK: the hidden layers (and activation, lr,
    seed) the window has then.  The dialog is CSVImportDialog; `dialog_opened(dialog)`
    lets a test or the window reach it."""
    imported = Signal(object, list)
    failed = Signal(str)
    dialog_opened = Signal(object)

    def __init__(self, parent: QWidget | None = None, setup=dict):
        super().__init__(parent)
        self._parent, self._setup = parent, setup
        self.loader = CSVLoader(self)
        self.loader.loaded.connect(self._show_preview)
        self.loader.built.connect(lambda result: self.imported.emit(*result))
        self.loader.failed.connect(self.failed)

    def open(self, path):
        self.loader.read(path)
        progress_dialog(self.loader, f"Loading {Path(path).name}…", self._parent)

    def shutdown(self):
        self.loader.shutdown()

    @Slot(object)
    def _show_preview(self, table):
        dialog = CSVImportDialog(table, self._parent, seed=self._setup().get("seed", 0))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._build(table, dialog.options()))
        self.dialog_opened.emit(dialog)
        dialog.open()

    def _build(self, table, options):
        self.loader.build(table, options, **self._setup())
        progress_dialog(self.loader, f"Preparing {table.name}…", self._parent, busy=True)
