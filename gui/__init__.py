"""Backprop Lab's Qt window and training thread (no maths of their own).

`from gui import MainWindow` gives the window; it is imported on first use so that
importing one widget module does not pull in the whole window.
"""

__all__ = ["MainWindow"]


def __getattr__(name):
    if name == "MainWindow":
        from .main_window import MainWindow
        return MainWindow
    raise AttributeError(f"module 'gui' has no attribute {name!r}")
