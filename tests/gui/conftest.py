"""GUI tests: Qt offscreen, settings redirected to a temporary ini file (never the
user's), the app's own QApplication (GUI priority over the training thread), and any
test that leaves a QThread running fails (napari's dangling-thread check)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")      # before Qt is imported
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import sys  # noqa: E402
from weakref import WeakKeyDictionary  # noqa: E402

import pytest  # noqa: E402

from gui.settings import SETTINGS_ENV  # noqa: E402


@pytest.fixture(scope="session")
def qapp_cls():
    from gui.app import Application
    return Application


@pytest.fixture(autouse=True)
def _temporary_settings(tmp_path, monkeypatch):
    monkeypatch.setenv(SETTINGS_ENV, str(tmp_path / "settings.ini"))


@pytest.fixture(autouse=True)
def _dangling_qthreads(monkeypatch, qtbot):
    from PySide6.QtCore import QThread
    started = WeakKeyDictionary()
    base_start = QThread.start

    def start(self, *args):
        caller = sys._getframe(1)
        started[self] = f"{caller.f_code.co_filename}:{caller.f_lineno}"
        base_start(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    dangling = []
    for thread, where in list(started.items()):
        try:
            running = thread.isRunning()
        except RuntimeError:                # the C++ object is gone: not running
            continue
        if running:
            dangling.append(where)
            thread.requestInterruption()    # do not let it poison the next test
            thread.quit()
            thread.wait(5000)
    if dangling:
        pytest.fail(f"test left QThreads running, started at: {', '.join(dangling)}")


@pytest.fixture
def make_window(qtbot, _dangling_qthreads):
    """MainWindow factory; every window is closed (stopping its thread) before the
    dangling-thread check runs."""
    from gui import MainWindow
    windows = []

    def make(scenario="lecture-house-prices", seed=None, show=True):
        window = MainWindow(scenario=scenario, seed=seed)
        window.confirm_discard = lambda what: True
        windows.append(window)
        if show:
            window.show()
        qtbot.waitUntil(lambda: window.last_frame() is not None, timeout=10000)
        return window

    yield make
    for window in windows:
        window.close()
        window.deleteLater()
