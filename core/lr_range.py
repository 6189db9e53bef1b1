"""The learning-rate range test (Leslie Smith's; fastai's lr_find): from the current
weights, take one optimiser step per learning rate while the rate rises exponentially
from 10⁻⁶ to 10, record the loss each step leads to, stop once the loss has risen past
4× the best seen, and suggest a rate.  Afterwards the trainer is put back exactly as it
was (weights, optimiser state, batch order, epoch counters, history, η).

The loss recorded for rate η_i is E on the training set (the trainer's diagnostic rows:
all of them up to 4096) after the step taken at η_i.  For full batch that is exactly the
loss the next step would start from; for mini-batches it is the data set's loss, not one
batch's — a single sample's loss says little.  Mini-batch steps still move the weights
noisily, so their curve is smoothed with a bias-corrected exponential moving average
before the stop rule and the suggestion read it; full-batch curves are used as they are.

Suggested rate: one tenth of the rate at which the (smoothed) loss was lowest — a rate
that still descends fast but sits a safe factor below where the loss turns upwards.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .trainer import Trainer

SUGGESTION_RULE = "one tenth of the rate at which the loss was lowest"
MINIBATCH_SMOOTHING = 0.9     # EMA factor for mini-batch losses (≈ the last 10 steps)
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class LRRangeResult:
    lrs: np.ndarray            # the rates stepped with, in order
    losses: np.ndarray         # the loss after the step at each rate
    smoothed: np.ndarray       # what the stop rule and the suggestion read (= losses for full batch)
    start_loss: float          # the loss at the weights the test started from
    min_lr: float              # the rate with the lowest smoothed loss
    suggested_lr: float
    stopped: str               # why the sweep ended
    start_lr: float
    end_lr: float
    rule: str = SUGGESTION_RULE

    def to_dict(self) -> dict:
        return {"lrs": self.lrs.tolist(), "losses": self.losses.tolist(),
                "smoothed": self.smoothed.tolist(), "start_loss": self.start_loss,
                "min_lr": self.min_lr, "suggested_lr": self.suggested_lr,
                "stopped": self.stopped, "start_lr": self.start_lr, "end_lr": self.end_lr,
                "rule": self.rule}


def lr_range_test(trainer: Trainer, start_lr: float = 1e-6, end_lr: float = 10.0,
                  steps: int = 100, stop_factor: float = 4.0,
                  smoothing: float | None = None) -> LRRangeResult:
    """Sweep η from start_lr to end_lr in `steps` exponential steps on `trainer`'s batches,
    then restore the trainer.  `smoothing` overrides the EMA factor (0 = none)."""
    if not (0 < start_lr < end_lr and math.isfinite(end_lr)):
        raise ConfigError(f"the learning-rate range must rise from a positive rate, "
                          f"not {start_lr!r} → {end_lr!r}")
    if int(steps) != steps or steps < 2:
        raise ConfigError(f"the range test needs at least 2 steps, not {steps!r}")
    if stop_factor <= 1:
        raise ConfigError(f"the stop factor must be above 1, not {stop_factor!r}")
    if trainer.diverged:
        raise ConfigError("training has diverged: reset it before the learning-rate range test")
    if smoothing is None:
        smoothing = 0.0 if trainer.batch_size >= trainer.n else MINIBATCH_SMOOTHING
    rates = np.geomspace(start_lr, end_lr, int(steps))
    saved, saved_lr = trainer.state(), trainer.config.optimizer.lr
    try:
        return _sweep(trainer, rates, stop_factor, smoothing)
    finally:
        trainer.restore(saved)
        trainer.set_learning_rate(saved_lr)


def _training_loss(trainer: Trainer) -> float:
    rows = trainer._diag_rows
    with np.errstate(all="ignore"):       # an overflow here is a result: the loss is infinite
        return float(trainer.evaluate(trainer.X[rows], trainer.Y[rows])[0])


def _sweep(trainer, rates, stop_factor, smoothing) -> LRRangeResult:
    start_loss = _training_loss(trainer)
    if not math.isfinite(start_loss):
        raise ConfigError("the loss is not finite at the current weights")
    tried, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    stopped = f"reached η = {rates[-1]:g}"
    for lr in rates:
        trainer.set_learning_rate(lr)
        loss = _training_loss(trainer) if trainer.run_batches(1) == 1 else math.inf
        if not math.isfinite(loss):
            stopped = f"the loss became infinite after the step at η = {lr:.3g}"
            break
        average = smoothing * average + (1 - smoothing) * loss
        smooth = average / (1 - smoothing ** (len(tried) + 1))
        tried.append(lr)
        losses.append(loss)
        smoothed.append(smooth)
        best = min(best, smooth)
        if smooth > stop_factor * best:
            stopped = f"the loss rose above {stop_factor:g}× its best at η = {lr:.3g}"
            break
    tried, losses, smoothed = np.array(tried), np.array(losses), np.array(smoothed)
    # If the very first step already diverged, the lowest loss is the start's.
    min_lr = float(tried[int(np.argmin(smoothed))]) if tried.size else float(rates[0])
    suggested = max(min_lr / 10.0, float(rates[0]))
    return LRRangeResult(tried, losses, smoothed, start_loss, min_lr, suggested, stopped,
                         float(rates[0]), float(rates[-1]))


def sparkline(values) -> str:
    """The curve in block characters, on a log scale when it spans more than 10×."""
    v = np.asarray(values, dtype=float)
    if not v.size:
        return ""
    if v.min() > 0 and v.max() / v.min() > 10:
        v = np.log10(v)
    low, span = v.min(), np.ptp(v)
    levels = np.zeros(v.size, int) if span == 0 else \
        np.round((v - low) / span * (len(SPARK) - 1)).astype(int)
    return "".join(SPARK[k] for k in levels)


def _spread(n: int, count: int) -> list[int]:
    """Up to `count` indices spread evenly over 0 .. n − 1, ends included."""
    return sorted(set(np.linspace(0, n - 1, min(count, n)).round().astype(int).tolist())) if n else []


def report(result: LRRangeResult, rows: int = 12, width: int = 50) -> str:
    """A compact table (about `rows` lines), the sparkline and the suggestion."""
    smoothed = not np.array_equal(result.losses, result.smoothed)
    lines = [f"{'learning rate':>14s}  {'loss':>12s}" + (f"  {'smoothed':>12s}" if smoothed else "")]
    lowest = int(np.argmin(result.smoothed)) if result.lrs.size else -1
    for i in sorted(set(_spread(result.lrs.size, rows)) | {lowest} - {-1}):
        lines.append(f"{result.lrs[i]:>14.3g}  {result.losses[i]:>12.5g}"
                     + (f"  {result.smoothed[i]:>12.5g}" if smoothed else "")
                     + ("  ← lowest" if i == lowest else ""))
    lines.append(f"loss vs log η: {sparkline(result.smoothed[_spread(result.lrs.size, width)])}")
    lines.append(f"stopped: {result.stopped}; lowest loss at η = {result.min_lr:.3g}")
    lines.append(f"suggested learning rate: {result.suggested_lr:.3g}  ({result.rule})")
    return "\n".join(lines)
