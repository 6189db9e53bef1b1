"""What the window remembers between runs (geometry, last scenario, view options), and
where the app keeps files of its own (the autosaved recovery copy).

BACKPROP_LAB_SETTINGS names an ini file to use instead of the user's settings: the tests
point it at a temporary file so they never read or write the real ones, and the app's
own files then go into that file's folder too.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

SETTINGS_ENV = "BACKPROP_LAB_SETTINGS"


def open_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "Backprop Lab", "Backprop Lab")


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
