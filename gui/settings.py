"""What the window remembers between runs (geometry, last scenario, view options), and
where the app keeps files of its own (the autosaved recovery copy).

BACKPROP_LAB_SETTINGS names an ini file to use instead of the user's settings: the tests
point it at a temporary file so they never read or write the real ones, and the app's
own files then go into that file's folder too.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

SETTINGS_ENV = "BACKPROP_LAB_SETTINGS"


def open_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "Backprop Lab", "Backprop Lab")


@contextmanager
def throwaway_settings():
    """Windows opened inside neither read nor write the user's settings (nor their recovery
    files): the headless figures and --screenshot draw with the defaults."""
    before = os.environ.get(SETTINGS_ENV)
    with tempfile.TemporaryDirectory(prefix="backprop-lab-") as folder:
        os.environ[SETTINGS_ENV] = str(Path(folder) / "settings.ini")
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(SETTINGS_ENV, None)
            else:
                os.environ[SETTINGS_ENV] = before


def data_folder() -> Path:
    """The app's data folder: QStandardPaths.AppDataLocation, or beside the redirected
    settings file."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return Path(path).resolve().parent
    return Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation))


def read(settings: QSettings, key: str, default, kind=None):
    """settings.value with a type, falling back to `default` on anything unreadable."""
    kind = kind or type(default)
    value = settings.value(key, None)
    if value is None:
        return default
    try:
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        return kind(value)
    except (TypeError, ValueError):
        return default
