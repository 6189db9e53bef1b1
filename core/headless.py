"""The command line without Qt: train a scenario (or a CSV), print the loss as the
lecture's loop does, and write the run as JSON."""
from __future__ import annotations

import json
import math
import os
import sys
import time

from .atomic import atomic_write_text
from .errors import BackpropLabError


def default_log_every(epochs: int) -> int:
    return max(1, epochs // 100)


def finite_or_none(value):
    """JSON has no NaN or infinity: those become null."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def train_and_report(trainer, epochs: int, name: str, out=None, quiet=False) -> dict:
    """Run `epochs` epochs, printing one line per logged epoch; return the JSON record."""
    out = sys.stdout if out is None else out   # the stdout of now, not of import time
    start_logs = len(trainer.history.log_epochs)
    first_epoch = trainer.epoch
    printed = start_logs
    t0 = time.perf_counter()
    remaining = epochs
    while remaining > 0 and not trainer.diverged:
        # Train in chunks so progress lines appear while it runs.
        chunk = min(remaining, max(trainer.log_every, 1000))
        done = trainer.run_epochs(chunk)
        remaining -= done
        if not quiet:
            h = trainer.history
            for e, loss in zip(h.log_epochs[printed:], h.logs["loss"][printed:]):
                print(f"epoch {e:>8d}  loss {loss:.6g}", file=out)
            printed = len(h.log_epochs)
        if done < chunk:
            break
    elapsed = time.perf_counter() - t0
    epochs_run = trainer.epoch - first_epoch
    last = trainer.epoch - 1
    h = trainer.history
    # After a divergence the gradient and Δw belong to the refused step: logging them
    # would put non-finite numbers into the history.
    if epochs_run and not trainer.diverged and (not h.log_epochs or h.log_epochs[-1] != last):
        trainer.log_now(last, h.loss.last())
    if trainer.diverged and not quiet:
        print(f"diverged at epoch {trainer.diverged_epoch}: {trainer.diverged_reason}", file=out)
    logs = h.logs
    return finite_or_none({
        "scenario": name,
        "epochs_run": epochs_run,
        "log_epochs": h.log_epochs[start_logs:],
        "loss": logs["loss"][start_logs:],
        "test_loss": logs["test_loss"][start_logs:],
        "final_loss": h.loss.last() if len(h.loss) else None,
        "diverged": trainer.diverged,
        "diverged_epoch": trainer.diverged_epoch,
        "diverged_reason": trainer.diverged_reason,
        "grad_norm_per_layer": logs["grad_norm"][start_logs:],
        "dead_fraction_per_layer": logs["dead_fraction"][start_logs:],
        "saturated_fraction_per_layer": logs["saturated_fraction"][start_logs:],
        "update_ratio_per_layer": logs["update_ratio"][start_logs:],
        "epochs_per_second": epochs_run / elapsed if elapsed > 0 else None,
    })


def check_output_path(path: str, flag: str):
    """Refuse an output file that cannot be written before training, not after it."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise BackpropLabError(f"{flag} {path}: is a folder, not a file name")
    if os.path.exists(path) and not os.path.isfile(path):    # /dev/stdout, a named pipe
        if not os.access(path, os.W_OK):
            raise BackpropLabError(f"{flag} {path}: is not writable")
        return
    if not os.path.isdir(folder):
        raise BackpropLabError(f"{flag} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise BackpropLabError(f"{flag} {path}: the folder {folder} is not writable")


def write_json(path: str, record: dict):
    """The run as JSON, written atomically (core.atomic; SaveError names the file)."""
    atomic_write_text(path, json.dumps(record, indent=1, allow_nan=False) + "\n")
