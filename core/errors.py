"""The project's own exceptions: each carries a message a user can act on."""


class BackpropLabError(Exception):
    """Base class: anything the command line prints as one line and exits 2 on."""


class ConfigError(BackpropLabError, ValueError):
    """An invalid network, loss, optimiser or training setting."""


class ScenarioError(BackpropLabError):
    """A scenario file that is missing, unreadable or has a bad field."""
