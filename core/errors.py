"""The project's own exceptions: each carries a message a user can act on."""


class BackpropLabError(Exception):
    """Base class: anything the command line prints as one line and exits 2 on."""


class ConfigError(BackpropLabError, ValueError):
    """An invalid network, loss, optimiser or training setting."""


class ScenarioError(BackpropLabError):
    """A scenario file that is missing, unreadable or has a bad field."""


class SessionError(BackpropLabError):
    """A session file that cannot be read, is not a session, or does not fit together."""


class SaveError(BackpropLabError):
    """A file (session or export) that could not be written; the previous one is intact."""


class ExportError(BackpropLabError):
    """A network or run that an export cannot reproduce faithfully."""


class CSVImportError(BackpropLabError):
    """A CSV file, or a choice of columns in it, that cannot become a data set.  The message
    is kept to one line: the cells and column names it quotes may hold line breaks."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).splitlines()))


class ImportCancelled(BackpropLabError):
    """The user cancelled loading a file (not a failure: nothing is reported)."""
