"""The GUI's entry point: run_app(args) for main.py, and the QApplication subclass that
gives the GUI thread priority over the training thread."""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6.QtWidgets import QApplication  # noqa: E402  (PySide6 before pyqtgraph)
from pyqtgraph.util.garbage_collector import GarbageCollector  # noqa: E402

from core.errors import BackpropLabError, ScenarioError  # noqa: E402

from .settings import throwaway_settings  # noqa: E402
from .worker import GuiPriority  # noqa: E402

# After every Qt call the GUI thread must win the GIL back; against a running thread
# that takes up to one switch interval (CPython's default 5 ms).  1 ms keeps the GUI's
# first touch of the interpreter short; GuiPriority then parks the worker.
SWITCH_INTERVAL = 0.001
DEFAULT_SCENARIO = "lecture-house-prices"
SCREENSHOT_SIZE = (1440, 900)


class Application(QApplication):
    """Brackets every event the GUI thread handles with GuiPriority, so the training
    worker parks while the GUI paints, lays out or answers the mouse (gui/worker.py)."""

    def __init__(self, argv):
        super().__init__(argv)
        self.setApplicationName("Backprop Lab")
        self.setOrganizationName("Backprop Lab")
        self.priority = GuiPriority()
        self._gui_thread = threading.get_ident()
        sys.setswitchinterval(SWITCH_INTERVAL)
        # Python collects cyclic garbage in whichever thread happens to allocate: in the
        # training or CSV thread it would destroy Qt objects there, which deadlocked the
        # GUI against that thread.  Collect on a timer in the GUI thread instead.
        self.garbage_collector = GarbageCollector(interval=1.0)

    def notify(self, receiver, event):
        if threading.get_ident() != self._gui_thread:
            return super().notify(receiver, event)
        self.priority.gui_enter()
        try:
            return super().notify(receiver, event)
        finally:
            self.priority.gui_exit()


def application() -> QApplication:
    return QApplication.instance() or Application(sys.argv[:1])


def last_scenario() -> str:
    from core.scenarios import scenario_names

    from .settings import open_settings, read
    name = read(open_settings(), "scenario", DEFAULT_SCENARIO, str)
    return name if name in scenario_names() else DEFAULT_SCENARIO


def run_app(args, setup=None) -> int:
    """The window.  `setup` (main.Setup) is a CSV file's or a saved session's run, read and
    checked before the window opens; without it, the scenario named (or the last one)."""
    app = application()
    if args.screenshot:
        check_writable(args.screenshot)
        # A scripted picture: drawn with the default layout (the same picture on every
        # machine), and the user's window settings and recovery files left alone.
        with throwaway_settings():
            window = open_window(args, setup)
            try:
                epochs = args.epochs or 0
                if args.remedy:
                    window.resize(*SCREENSHOT_SIZE)
                    window.show()
                    apply_remedy(window, epochs)
                    epochs = 0
                return take_screenshot(app, window, args.screenshot, epochs)
            finally:
                window.close()
    window = open_window(args, setup)
    window.show()
    window.raise_()
    window.activateWindow()         # keys reach the network view at once, even without a WM
    window.sessions.offer_recovery()  # training autosaved before an unclean exit, if any
    if args.remedy:
        apply_remedy(window, args.epochs or 0)
    elif args.epochs:
        window.run_epochs(args.epochs)
    return app.exec()


def open_window(args, setup):
    """The main window on what the command line asked for (not yet shown)."""
    from .main_window import MainWindow
    window = MainWindow(scenario=args.scenario or last_scenario(), seed=args.seed)
    if setup is not None and getattr(setup, "session", None) is not None:
        window.sessions.show_session(setup.session, Path(args.load_session))
        for warning in setup.session.warnings:
            window.show_message(warning, 15000)
    elif setup is not None:
        window.csv.show_imported(setup.csv_scenario, args.data, setup.csv_options, setup.notes,
                                 setup.csv_sha256)
    if args.lr is not None and not args.load_session:   # a session's --lr is in its trainer
        window.set_learning_rate(args.lr)
    return window


def apply_remedy(window, epochs: int):
    """--remedy: the scenario reruns with its remedy.  With --epochs N the failing run
    trains N epochs first and stays on the loss plot as the ghost, then the remedy's run
    trains N epochs, so one picture has both."""
    scenario = window.scenario
    if not scenario.has_remedy:
        raise ScenarioError(f"scenario {scenario.name!r} has no remedy")
    if epochs:
        window.run_epochs(epochs, wait=True)
    rerun = window.scenario_lab.set_remedy(True, epochs=epochs or None)
    if rerun is not None:
        process_events_until(rerun.done, timeout=24 * 3600)
        rerun.result()


def check_writable(path: str):
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise BackpropLabError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise BackpropLabError(f"cannot write {path}: folder {folder} is not writable")


def take_screenshot(app, window, path: str, epochs: int) -> int:
    """Train `epochs` epochs, draw everything, and save a picture of the whole window."""
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    if epochs:
        window.run_epochs(epochs, wait=True)
    window.wait_until_drawn()
    window.scenario_lab.measure_now()       # the scenario's verdict is in the picture
    image = window.grab().toImage()
    if not image.save(path, "PNG"):
        raise BackpropLabError(f"cannot write {path}: saving the PNG failed")
    return 0


def process_events_until(condition, timeout: float) -> bool:
    """Let the GUI run until condition() holds (or timeout seconds passed)."""
    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.002)
    return True
