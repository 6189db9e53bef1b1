"""What the window tests share: reading the status bar, waiting for the worker, and
running a read-only job on the training thread (the only thread that touches the Trainer)."""
import re

TIMEOUT = 20000   # ms; generous, since the CI machine is shared


def epoch_of(window) -> int:
    return int(re.search(r"Epoch (\d+)", window.status_text()).group(1))


def loss_of(window) -> float:
    return float(re.search(r"loss (\S+)", window.status_text()).group(1))


def settle(window, qtbot, future=None):
    """Wait for a command to finish and for everything it sent to be drawn."""
    if future is not None:
        qtbot.waitUntil(future.done, timeout=TIMEOUT)
        future.result()
    window.wait_until_drawn()
    return window.last_frame().snapshot


def on_worker(window, qtbot, job):
    """What job(trainer) returns, run on the training thread."""
    future = window.worker.with_trainer(job)
    qtbot.waitUntil(future.done, timeout=TIMEOUT)
    return future.result()
