"""The window's File menu for sessions and exports: Save (Ctrl+S), Save As…, Open Session…
(Ctrl+Shift+O), Export ▸ (figures, data, scripts), Quit; the autosaved recovery copy; and
the question before unsaved training is lost.

The Trainer belongs to the worker thread, so everything that reads it — a session
document, the history, the weights, a script — runs there (worker.with_trainer) and the
GUI waits for the answer without blocking its event loop.  Opening a session never
touches the current one until the new one has been read completely: a bad file ends in a
message and the window exactly as it was.

Unsaved training: the parameters or the step count differ from the state last saved or
opened (or the run's start).  The recovery copy is written every AUTOSAVE_SECONDS while
there is some, to recovery-<pid>-<n>.json in the app's data folder, guarded by a
QLockFile; a clean quit deletes both.  A recovery file whose lock is stale (its process
is gone) is an unclean exit's, and offer_recovery() proposes to restore it.

Dialogs are attributes (choose_save_path, choose_open_path, confirm_unsaved,
confirm_open_embedded, confirm_restore, show_error, ask_epochs, choose_folder), so tests
replace them.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QLockFile, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from core.errors import BackpropLabError, SessionError
from core.export_code import export_numpy, export_pytorch
from core.export_data import export_history_csv, export_weights_csv, export_weights_npz
from core.scenarios import Scenario, load_scenario
from core.session import CsvChangedError, DataSource, load_session, session_document, write_session

from . import figure_export as figures
from . import settings as stored
from .app import process_events_until
from .csv_actions import file_menu
from .network_view import COLOUR_MODES

AUTOSAVE_SECONDS = 180
SESSION_FILTER = "Backprop Lab sessions (*.json);;All files (*)"
APP_NAME = "Backprop Lab"
WAIT_SECONDS = 600              # longest wait for the worker to answer (a huge data set)
_serial = itertools.count()     # recovery files of several windows in one process


def _marker(trainer):
    """What "unsaved" is measured against: the step count and the parameters."""
    return trainer.steps, trainer.net.params.copy()


def _same(a, b) -> bool:
    return a is not None and b is not None and a[0] == b[0] and np.array_equal(a[1], b[1])


def scenario_for(trainer, dataset, name: str, title: str, source: DataSource | None = None) -> Scenario:
    """What the window shows around a Trainer that was not built from a scenario file (a
    reopened session, a headless run): the bundled scenario it came from, if any, for
    its narrative and diagnostic plot; else a plain description."""
    network, config = trainer.net.copy(), copy.deepcopy(trainer.config)
    if source is not None and source.kind == "scenario" and source.scenario:
        try:
            base = load_scenario(source.scenario, seed=source.seed, remedy=source.remedy)
        except BackpropLabError:
            base = None         # renamed or removed since: the session still opens
        if base is not None:
            return dataclasses.replace(base, dataset=dataset, network=network, config=config,
                                       title=title or base.title)
    if source is not None and source.kind == "csv":
        narrative = f"Trained on {source.csv_path} (a copy of the data is kept in the session)."
    else:
        narrative = "The data are kept in the session file."
    return Scenario(name=name, title=title or name, narrative=narrative, dataset=dataset,
                    network=network, config=config, epochs=100, seed=int(network.seed))


def recovery_folder() -> Path:
    return stored.data_folder() / "recovery"


class SessionActions(QObject):
    _job_done = Signal(object, object)      # (callback, future), from the worker thread

    def __init__(self, window, autosave_seconds: float = AUTOSAVE_SECONDS):
        super().__init__(window)
        self.window = window
        self.path: Path | None = None           # the session file, once saved or opened
        self._source: DataSource | None = None  # where the data came from (set_data_source)
        self._baseline = None                   # _marker of the state last saved or opened
        self._recovered = False                 # restored from a recovery file: unsaved
        self._autosaved = None                  # _marker of the last recovery copy
        self._autosaving = False
        self._opening = False
        self._run_id = None
        self._shown_title = window.windowTitle()
        self.recovery_path = recovery_folder() / f"recovery-{os.getpid()}-{next(_serial)}.json"
        self._lock: QLockFile | None = None
        self.choose_save_path = self._choose_save_path
        self.choose_open_path = self._choose_open_path
        self.confirm_unsaved = self._confirm_unsaved
        self.confirm_open_embedded = self._confirm_open_embedded
        self.confirm_restore = self._confirm_restore
        self.show_error = self._show_error
        self.ask_epochs = self._ask_epochs
        self.choose_folder = self._choose_folder
        self._job_done.connect(self._finish_job)      # queued: runs on this (the GUI) thread
        self._build_menu()
        self._install_context_menus()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.set_autosave_interval(autosave_seconds)
        window.run_started.connect(self._run_started)

    # -- menus -------------------------------------------------------------------------------
    def _action(self, text, slot, keys=None) -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcut(QKeySequence(keys))
            # Application-wide, like the window's other keys: plot and graphics views eat keys.
            action.setShortcutContext(Qt.ApplicationShortcut)
            self.window.addAction(action)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_menu(self):
        w = self.window
        self.open_action = self._action("Open Session…", self.open_session, "Ctrl+Shift+O")
        self.save_action = self._action("Save Session", self.save, "Ctrl+S")
        self.save_as_action = self._action("Save Session As…", self.save_as, "Ctrl+Shift+S")
        self.quit_action = self._action("Quit", self.quit, "Ctrl+Q")
        # File → Open CSV… (Ctrl+O, gui/csv_actions.py) goes first, above the sessions.
        menu = self.file_menu = file_menu(w)
        menu.addAction(self.open_action)
        menu.addSeparator()
        menu.addAction(self.save_action)
        menu.addAction(self.save_as_action)
        menu.addSeparator()
        self.export_menu = menu.addMenu("Export")
        menu.addSeparator()
        menu.addAction(self.quit_action)

        e = self.export_menu
        scales = e.addMenu("PNG scale (for slides)")
        self.scale_group = QActionGroup(self)
        saved = stored.read(w.settings, "export/png_scale", figures.DEFAULT_SCALE, int)
        for scale in figures.PNG_SCALES:
            action = QAction(f"{scale}× the size on screen", self, checkable=True)
            action.setData(scale)
            action.setChecked(scale == (saved if saved in figures.PNG_SCALES else figures.DEFAULT_SCALE))
            self.scale_group.addAction(action)
            scales.addAction(action)
        self.scale_group.triggered.connect(self._scale_chosen)
        e.addSeparator()
        self.graph_png_action = self._action("Network graph as PNG…", self.export_graph_png)
        self.graph_svg_action = self._action("Network graph as SVG…", self.export_graph_svg)
        e.addAction(self.graph_png_action)
        e.addAction(self.graph_svg_action)
        plots = e.addMenu("Plot")
        for stem, title in figures.PLOT_TITLES.items():
            plots.addAction(self._action(f"{title} as PNG…", lambda s=stem: self.export_plot_png(s)))
            plots.addAction(self._action(f"{title} as SVG…", lambda s=stem: self.export_plot_svg(s)))
        e.addAction(self._action("Whole window as PNG…", self.export_window_png))
        e.addAction(self._action("All figures to a folder…", self.export_all_figures))
        e.addSeparator()
        e.addAction(self._action("History as CSV…", self.export_history_csv))
        e.addAction(self._action("Weights as CSV (w1, w2, …)…", self.export_weights_csv))
        e.addAction(self._action("Weights as NumPy .npz…", self.export_weights_npz))
        e.addSeparator()
        e.addAction(self._action("PyTorch script…", self.export_pytorch))
        e.addAction(self._action("NumPy script…", self.export_numpy))

    def _install_context_menus(self):
        """Right-click on the graph: its exports.  Right-click on a plot: pyqtgraph's menu
        with our exports in place of its Export… dialog, whose SVG exporter fails on this
        Qt (pyqtgraph 0.14 cannot parse the closed paths Qt 6.11 writes, pyqtgraph #3495)."""
        view = self.window.network_view
        self.graph_menu = QMenu(view)
        self.graph_menu.addAction(self.graph_png_action)
        self.graph_menu.addAction(self.graph_svg_action)
        view.setContextMenuPolicy(Qt.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos: self.graph_menu.popup(view.mapToGlobal(pos)))
        self.plot_png_actions = {}
        for stem, plot in figures.window_plots(self.window).items():
            scene = figures.plot_item(plot).scene()
            png = self._action("", lambda s=stem: self.export_plot_png(s))
            svg = self._action("Save this plot as SVG…", lambda s=stem: self.export_plot_svg(s))
            scene.contextMenu = [png, svg]
            self.plot_png_actions[stem] = png
        self._label_scale()

    def png_scale(self) -> int:
        return int(self.scale_group.checkedAction().data())

    def _scale_chosen(self, action):
        self.window.settings.setValue("export/png_scale", int(action.data()))
        self._label_scale()

    def _label_scale(self):
        for action in self.plot_png_actions.values():
            action.setText(f"Save this plot as PNG ({self.png_scale()}×)…")
        self.graph_png_action.setText(f"Network graph as PNG ({self.png_scale()}×)…")

    # -- what a session holds ----------------------------------------------------------------
    def set_data_source(self, source: DataSource):
        """Where the window's data set came from (e.g. a CSV file's path and options), for
        the sessions saved from now on.  Ignored once the window trains on other data."""
        self._source = source

    def data_source(self) -> DataSource:
        w = self.window
        if self._source is not None and self._source.dataset is w.dataset:
            return self._source
        if w.scenario.path is not None and w.scenario.dataset is w.dataset:
            return DataSource.from_scenario(w.scenario)       # a bundled scenario
        return DataSource(w.dataset)                          # embedded: the data travel along

    def view_options(self) -> dict:
        w = self.window
        return {"colour_mode": w.network_view.state.mode, "show_labels": w.labels_box.isChecked(),
                "sample": w.sample_box.value() - 1, "log_loss": w.loss_plot.is_log_scale()}

    def apply_view(self, view: dict | None):
        """A session's view options; anything missing or not understood keeps the window's."""
        w, view = self.window, view or {}
        if view.get("colour_mode") in COLOUR_MODES:
            w.set_colour_mode(view["colour_mode"])
        if isinstance(view.get("show_labels"), bool):
            w.labels_box.setChecked(view["show_labels"])
        if isinstance(view.get("log_loss"), bool):
            w.loss_plot.set_log_scale(view["log_loss"])
        sample = view.get("sample")
        if isinstance(sample, int) and not isinstance(sample, bool) and 0 <= sample < w.dataset.n_samples:
            w.sample_box.setValue(sample + 1)

    # -- unsaved training --------------------------------------------------------------------
    def is_dirty(self) -> bool:
        if self._recovered:
            return True
        frame = self.window.last_frame()
        if frame is None or self._baseline is None:
            return False
        steps, params = self._baseline
        return frame.snapshot.steps != steps or not np.array_equal(frame.snapshot.params, params)

    def _run_started(self):
        worker = self.window.worker
        self._run_id = worker.run_id
        worker.frame_ready.connect(self._on_frame)
        self._baseline = self._autosaved = None
        if not self._opening:                   # a new scenario or network: not that file
            self.path = None
            self._recovered = False
        self._on_worker(_marker, self._marked, run_id=self._run_id)
        self._update_title()

    def _marked(self, future, run_id):
        if run_id == self._run_id and future.exception() is None:
            self._baseline = future.result()
            self._update_title()

    def _on_frame(self, frame):
        if frame.run_id == self._run_id:
            self._update_title()

    def _update_title(self):
        mine = f"{self.path.name}[*] — {APP_NAME}" if self.path is not None else f"{APP_NAME}[*]"
        w = self.window
        current = w.windowTitle()
        # Keep what others add after the name (lecture mode marks a broken σ′ there).
        rest = current[len(self._shown_title):] if current.startswith(self._shown_title) else ""
        if mine != self._shown_title:
            w.setWindowTitle(mine + rest)
            self._shown_title = mine
        w.setWindowModified(self.is_dirty())

    def _confirm_unsaved(self, what: str) -> str:
        frame = self.window.last_frame()
        epoch = frame.snapshot.epoch if frame is not None else 0
        where = f"“{self.path.name}”" if self.path is not None else "a session file"
        answer = QMessageBox.question(
            self.window, "Unsaved training",
            f"{what}: the training up to epoch {epoch} has not been saved to {where}. Save it first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def may_discard(self, what: str) -> bool:
        """Before unsaved training is replaced or thrown away: Save / Discard / Cancel."""
        if not self.is_dirty():
            return True
        answer = self.confirm_unsaved(what)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- running on the worker ---------------------------------------------------------------
    def _on_worker(self, job, callback, **extra):
        """Run job(trainer) on the worker thread; callback(future, **extra) on this one."""
        future = self.window.worker.with_trainer(job)
        future.add_done_callback(lambda f: self._job_done.emit(lambda g: callback(g, **extra), f))
        return future

    def _finish_job(self, callback, future):
        callback(future)

    def _run_and_wait(self, job, what: str):
        """Run job(trainer) on the worker and wait (the GUI keeps running); True if it
        succeeded, else a message box names the problem."""
        worker = self.window.worker
        if worker is None:
            self.show_error(what, f"{what}: there is no network to work on")
            return False
        future = worker.with_trainer(job)
        if not process_events_until(future.done, WAIT_SECONDS):
            self.show_error(what, f"{what}: the training thread did not answer in {WAIT_SECONDS} s")
            return False
        error = future.exception()
        if error is not None:
            message = str(error) if isinstance(error, BackpropLabError) else \
                f"unexpected error: {type(error).__name__}: {error}"
            self.show_error(what, f"{what}: {message}")
            return False
        return future.result() if future.result() is not None else True

    # -- saving ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Ctrl+S: to the session's file, or Save As for one that has none yet."""
        return self.save_as() if self.path is None else self.save_to(self.path)

    def save_as(self) -> bool:
        w = self.window
        folder = stored.read(w.settings, "session/last_folder", "", str)
        suggested = str(Path(folder) / _file_stem(w.scenario.name)) + ".json"
        path = self.choose_save_path("Save session", SESSION_FILTER, suggested)
        if not path:
            return False
        path = Path(path) if Path(path).suffix else Path(path).with_suffix(".json")
        w.settings.setValue("session/last_folder", str(path.parent))
        return self.save_to(path)

    def save_to(self, path) -> bool:
        """Build the session document on the worker and write it atomically."""
        path = Path(path)
        source, view = self.data_source(), self.view_options()
        name, title = self.window.scenario.name, self.window.scenario.title

        def save(trainer):
            marker = _marker(trainer)
            write_session(path, session_document(trainer, source, view, name, title))
            return marker
        marker = self._run_and_wait(save, "Session not saved")
        if marker is False:
            return False
        self.path, self._baseline, self._recovered = path, marker, False
        self._source = source
        self._remove_recovery()
        self._update_title()
        self.window.show_message(f"Saved {path}")
        return True

    def _choose_save_path(self, caption: str, name_filter: str, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self.window, caption, suggested, name_filter)
        return path

    # -- opening -----------------------------------------------------------------------------
    def open_session(self, path=None) -> bool:
        """Ctrl+Shift+O.  The current session is untouched unless the new one opens."""
        path = path or self.choose_open_path()
        if not path:
            return False
        try:
            session = load_session(path)
        except CsvChangedError as e:
            if not self.confirm_open_embedded(str(e)):
                return False
            try:
                session = load_session(path, check_csv=False)
            except SessionError as e2:
                self.show_error("Cannot open the session", str(e2))
                return False
        except SessionError as e:
            self.show_error("Cannot open the session", str(e))
            return False
        if not self.may_discard(f"Opening {Path(path).name}"):
            return False
        self.window.settings.setValue("session/last_folder", str(Path(path).resolve().parent))
        self.show_session(session, Path(path))
        for warning in session.warnings:
            self.window.show_message(warning, 15000)
        return True

    def show_session(self, session, path: Path | None):
        scenario = scenario_for(session.trainer, session.dataset, session.name, session.title,
                                session.source)
        self.show_trainer(scenario, session.trainer, session.source, session.view, path)

    def show_trainer(self, scenario, trainer, source=None, view=None, path: Path | None = None):
        """Hand the window a Trainer to go on with (its worker replaces the current one)."""
        self._opening = True
        try:
            self.window.use_scenario(scenario, trainer=trainer)
        finally:
            self._opening = False
        self.path, self._recovered = path, False
        if source is not None:
            source.dataset = scenario.dataset
            self._source = source
        self.apply_view(view)
        self._update_title()

    def _choose_open_path(self) -> str:
        folder = stored.read(self.window.settings, "session/last_folder", "", str)
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", folder, SESSION_FILTER)
        return path

    def _confirm_open_embedded(self, message: str) -> bool:
        answer = QMessageBox.question(
            self.window, "The CSV file has changed",
            f"{message}.\n\nOpen the session with the copy of the data it holds?",
            QMessageBox.Open | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Open

    def _show_error(self, title: str, message: str):
        QMessageBox.warning(self.window, title, message)

    # -- autosave and recovery ---------------------------------------------------------------
    def set_autosave_interval(self, seconds: float):
        self.autosave_timer.start(max(1, int(seconds * 1000)))

    def autosave(self):
        """Write the recovery copy if there is training it does not hold yet."""
        if not self.is_dirty():
            self._remove_recovery()
            return
        if self._autosaving or self.window.worker is None:
            return
        source, view = self.data_source(), self.view_options()
        name, title = self.window.scenario.name, self.window.scenario.title
        path, previous = self.recovery_path, self._autosaved

        def write(trainer):
            marker = _marker(trainer)
            if _same(marker, previous):
                return previous
            write_session(path, session_document(trainer, source, view, name, title))
            return marker
        if not self._hold_lock():
            return
        self._autosaving = True
        self._on_worker(write, self._autosave_written, run_id=self._run_id)

    def _autosave_written(self, future, run_id):
        self._autosaving = False
        error = future.exception()
        if error is not None:
            self.window.show_message(f"Autosave failed: {error}", 15000)
        elif run_id == self._run_id:
            self._autosaved = future.result()

    def _hold_lock(self) -> bool:
        if self._lock is None:
            try:
                self.recovery_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                self.window.show_message(f"Autosave failed: cannot create {self.recovery_path.parent}: "
                                         f"{e.strerror or e}", 15000)
                return False
            lock = QLockFile(str(self.recovery_path.with_suffix(".lock")))
            lock.setStaleLockTime(0)            # held as long as the window lives
            if not lock.tryLock(0):
                self.window.show_message("Autosave failed: cannot lock the recovery file", 15000)
                return False
            self._lock = lock
        return True

    def _remove_recovery(self):
        try:
            self.recovery_path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            return          # still there: it will be offered after a crash, harmlessly
        self._autosaved = None

    def closed(self):
        """A clean quit: the recovery copy goes (after the worker has stopped)."""
        self.autosave_timer.stop()
        self._remove_recovery()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def close_requested(self) -> bool:
        return self.may_discard("Quitting")

    def quit(self):
        if self.close_requested():
            self.window.close()         # not spontaneous: closeEvent does not ask again

    def orphaned_recovery(self):
        """(path, held lock) of the newest recovery file whose process is gone, or None."""
        folder = self.recovery_path.parent
        if not folder.is_dir():
            return None
        candidates = sorted(folder.glob("recovery-*.json"), key=_mtime, reverse=True)
        for path in candidates:
            if path == self.recovery_path:
                continue
            lock = QLockFile(str(path.with_suffix(".lock")))
            lock.setStaleLockTime(0)
            if lock.tryLock(0):                 # no live owner: left by an unclean exit
                return path, lock
        return None

    def offer_recovery(self) -> bool:
        """At startup: restore the training an unclean exit left behind, if the user wants."""
        found = self.orphaned_recovery()
        if found is None:
            return False
        path, lock = found
        restored = False
        try:
            try:
                session = load_session(path, check_csv=False)
            except SessionError as e:
                kept = path.with_name("unreadable-" + path.name)    # never offered again
                os.replace(path, kept)
                self.show_error("Cannot restore the autosaved training",
                                f"{e}\nThe file was kept as {kept}.")
                return False
            saved = time.strftime("%d %b %Y %H:%M", time.localtime(_mtime(path)))
            question = (f"{APP_NAME} did not close properly last time. It had autosaved "
                        f"“{session.title}” at epoch {session.trainer.epoch} ({saved}).\n\n"
                        "Restore that training?")
            if self.confirm_restore(question):
                self.show_session(session, None)
                self._recovered = True
                self._update_title()
                self.window.show_message(f"Restored the training autosaved on {saved}: save it to keep it")
                restored = True
            if restored and self._hold_lock():
                # The copy becomes this window's own recovery file: a second crash before
                # the next autosave must not lose the training again.
                os.replace(path, self.recovery_path)
            else:
                path.unlink(missing_ok=True)
        finally:
            lock.unlock()
        return restored

    def _confirm_restore(self, question: str) -> bool:
        answer = QMessageBox.question(self.window, "Restore autosaved training?", question,
                                      QMessageBox.Yes | QMessageBox.Discard, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    # -- exports -----------------------------------------------------------------------------
    def _export(self, what: str, stem: str, suffix: str, name_filter: str, write, path=None) -> bool:
        w = self.window
        if path is None:
            folder = stored.read(w.settings, "export/last_folder", "", str)
            path = self.choose_save_path(f"Export {what}", name_filter, str(Path(folder) / (stem + suffix)))
            if not path:
                return False
        path = Path(path) if Path(path).suffix else Path(path).with_suffix(suffix)
        w.settings.setValue("export/last_folder", str(path.parent))
        written = write(path)
        if written is False:
            return False
        # A script whose data set is too big to embed loads it from a file written beside it.
        beside = f"; its data are in {written.name} beside it" if isinstance(written, Path) else ""
        w.show_message(f"Exported {what} to {path}{beside}")
        return True

    def _write_figure(self, what: str, write):
        def run(path):
            self.window.wait_until_drawn(2.0)
            try:
                write(path)
            except BackpropLabError as e:
                self.show_error("Export failed", f"{what}: {e}")
                return False
            return True
        return run

    def export_graph_png(self, path=None) -> bool:
        view = self.window.network_view
        return self._export("the network graph", "graph", ".png", "PNG images (*.png)",
                            self._write_figure("network graph", lambda p: figures.write_graph_png(
                                view, p, self.png_scale())), path)

    def export_graph_svg(self, path=None) -> bool:
        view, title = self.window.network_view, self.window.scenario.title
        return self._export("the network graph", "graph", ".svg", "SVG images (*.svg)",
                            self._write_figure("network graph", lambda p: figures.write_graph_svg(
                                view, p, title)), path)

    def _shown_plot(self, stem: str):
        plot = figures.window_plots(self.window)[stem]
        if not plot.isVisible():
            self.show_error("Export failed", f"The {figures.PLOT_TITLES[stem].lower()} plot is hidden: "
                            "show it (View menu, or leave presentation mode) to export it")
            return None
        return plot

    def export_plot_png(self, stem: str, path=None) -> bool:
        plot = self._shown_plot(stem)
        if plot is None:
            return False
        return self._export(f"the {figures.PLOT_TITLES[stem].lower()} plot", stem, ".png",
                            "PNG images (*.png)", self._write_figure(stem, lambda p: figures.write_plot_png(
                                plot, p, self.png_scale())), path)

    def export_plot_svg(self, stem: str, path=None) -> bool:
        plot = self._shown_plot(stem)
        if plot is None:
            return False
        return self._export(f"the {figures.PLOT_TITLES[stem].lower()} plot", stem, ".svg",
                            "SVG images (*.svg)", self._write_figure(stem, lambda p: figures.write_plot_svg(
                                plot, p)), path)

    def export_window_png(self, path=None) -> bool:
        return self._export("the window", "window", ".png", "PNG images (*.png)",
                            self._write_figure("window", lambda p: figures.write_window_png(
                                self.window, p)), path)

    def export_all_figures(self, folder=None) -> bool:
        """The graph, every plot shown (PNG at the chosen scale, and SVG) and the window."""
        w = self.window
        if folder is None:
            start = stored.read(w.settings, "export/last_folder", "", str)
            folder = self.choose_folder("Export all figures into", start)
            if not folder:
                return False
        w.settings.setValue("export/last_folder", str(folder))
        try:
            written = figures.export_all(w, folder, self.png_scale())
        except BackpropLabError as e:
            self.show_error("Export failed", str(e))
            return False
        w.show_message(f"Exported {len(written)} figures to {folder}")
        return True

    def _choose_folder(self, caption: str, start: str) -> str:
        return QFileDialog.getExistingDirectory(self.window, caption, start)

    def _write_on_worker(self, what: str, job):
        return lambda path: self._run_and_wait(lambda trainer: job(trainer, path), f"{what} not exported")

    def export_history_csv(self, path=None) -> bool:
        return self._export("the history", "history", ".csv", "CSV files (*.csv)", self._write_on_worker(
            "History", lambda t, p: export_history_csv(p, t.history, t.net.n_layers)), path)

    def export_weights_csv(self, path=None) -> bool:
        return self._export("the weights", "weights", ".csv", "CSV files (*.csv)", self._write_on_worker(
            "Weights", lambda t, p: export_weights_csv(p, t.net)), path)

    def export_weights_npz(self, path=None) -> bool:
        return self._export("the weights", "weights", ".npz", "NumPy archives (*.npz)", self._write_on_worker(
            "Weights", lambda t, p: export_weights_npz(p, t.net)), path)

    def _export_script(self, kind: str, export, path, epochs) -> bool:
        w = self.window
        if epochs is None:
            epochs = self.ask_epochs(kind, w.scenario.epochs)
            if not epochs:
                return False
        dataset, title, source = w.dataset, w.scenario.title, self.data_source()
        stem = f"{_file_stem(w.scenario.name)}_{kind.lower()}"
        return self._export(f"the {kind} script", stem, ".py", "Python scripts (*.py)", self._write_on_worker(
            f"{kind} script", lambda t, p: export(p, t, epochs, dataset, title, source)), path)

    def export_pytorch(self, path=None, epochs: int | None = None) -> bool:
        return self._export_script("PyTorch", export_pytorch, path, epochs)

    def export_numpy(self, path=None, epochs: int | None = None) -> bool:
        return self._export_script("NumPy", export_numpy, path, epochs)

    def _ask_epochs(self, kind: str, default: int) -> int | None:
        epochs, ok = QInputDialog.getInt(
            self.window, f"{kind} script", "Epochs the script trains (from the current weights):",
            max(1, int(default)), 1, 100_000_000)
        return epochs if ok else None


def _file_stem(name: str) -> str:
    """A scenario name as a file name ("csv:penguins" → "penguins")."""
    stem = name.split(":", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "session"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
