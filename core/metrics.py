"""The failure scenarios' metrics: from a finished run, did the failure show, and did the
remedy fix it?  One function per scenario, each taking the Trainer after training and
returning a PathologyMetric with the numbers, both verdicts and one sentence a lecturer
can read out.  `measure(name, trainer)` picks the function by scenario name.

Every verdict is read from what the run recorded (its History) and its current weights;
only noisy-minibatches trains once more, a full-batch twin from the same initial weights,
because its criterion is a comparison with full-batch training at the same η.

"Guessing without the inputs" below is the loss of the best constant prediction (the
mean target): a network that has learnt nothing from its inputs can still reach it by
moving its output bias, so a loss that only falls to it has learnt nothing.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from .trainer import TrainConfig, Trainer

# The criteria, named so that tests, CLI and GUI quote the same numbers.
VANISHING_RATIO = 1e-3          # ‖∂E/∂W₁‖ / ‖∂E/∂W_L‖ below this: vanished
VANISHING_FIXED_RATIO = 0.05    # above this: the first layer learns
STUCK_WITHIN = 0.05             # the loss stays within 5 % of its start (or of guessing)
DEAD_LAYER = 0.5                # some hidden layer at least half dead
DEAD_FIXED = 0.1                # training kills fewer than 10 % of the hidden neurons (the
                                # issue's bar; units dead from initialisation not counted)
EXPLODING_GROWTH = 1e6          # total gradient norm growth within EXPLODING_STEPS
EXPLODING_STEPS = 10
RISING_STEPS = 0.2              # the loss rises on at least 20 % of epochs
FALLING_STEPS = 0.95            # the loss falls on at least 95 % of epochs
NOISE_RATIO = 10.0              # jitter ≥ 10 × full batch's at the same η
NOISE_JITTER = 0.05             # ... and the loss jumps by ≥ 5 % around its trend
NOISE_FIXED_JITTER = 0.025      # smooth: jumps below 2.5 %
HALVED = 0.5                    # "the loss falls": below half its start


@dataclass(frozen=True)
class PathologyMetric:
    scenario: str
    quantity: str               # what is measured, in the lecture's notation
    values: dict = field(default_factory=dict)
    failure: bool = False       # the scenario's failure is there
    healthy: bool = False       # the remedy's criterion holds
    sentence: str = ""

    @property
    def verdict(self) -> str:
        return "failure" if self.failure else "healthy" if self.healthy else "unclear"

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "quantity": self.quantity, "values": dict(self.values),
                "failure": self.failure, "healthy": self.healthy, "verdict": self.verdict,
                "sentence": self.sentence}


# -- what every metric reads ------------------------------------------------------------
def _loss_curve(trainer: Trainer) -> np.ndarray:
    return trainer.history.loss.arrays()[1]


def input_blind_loss(trainer: Trainer) -> float:
    """The loss of predicting the mean target for every sample."""
    Y = np.asarray(trainer.Y, dtype=float)
    mean = Y.mean(axis=0)
    name, n = trainer.loss_fn.name, Y.shape[0]
    if name in ("binary_cross_entropy", "cross_entropy"):
        p = np.clip(mean, 1e-12, 1 - 1e-12)
        if name == "cross_entropy":
            return float(-np.sum(mean * np.log(p)))
        return float(-np.sum(mean * np.log(p) + (1 - mean) * np.log(1 - p)) / Y.shape[1])
    squared = float(np.sum((Y - mean) ** 2))
    return {"half_sse": 0.5 * squared, "sse": squared, "mse": squared / Y.size}[name]


def _first_and_last(curve) -> tuple[float, float]:
    return (float(curve[0]), float(curve[-1])) if len(curve) else (math.nan, math.nan)


def _too_short(name: str, quantity: str, needed: int) -> PathologyMetric:
    return PathologyMetric(name, quantity, {}, False, False,
                           f"train at least {needed} epochs before judging this run")


def _times(x: float) -> str:
    """1234.5 → '1 200×', for sentences."""
    if not math.isfinite(x):
        return "∞×"
    if x >= 1e6:
        return f"{x:.1e}×"
    digits = f"{x:.2g}" if x < 100 else f"{float(f'{x:.2g}'):,.0f}".replace(",", " ")
    return f"{digits}×"


# -- the five scenarios ------------------------------------------------------------------
def vanishing_gradients(trainer: Trainer) -> PathologyMetric:
    name, quantity = "vanishing-gradients", "‖∂E/∂W₁‖ / ‖∂E/∂W_L‖"
    h = trainer.history
    curve = _loss_curve(trainer)
    if not h.log_epochs or len(curve) < 2:
        return _too_short(name, quantity, 2)
    first_norms = h.logs["grad_norm"][0]             # at the first logged epoch: the start
    ratio = first_norms[0] / first_norms[-1] if first_norms[-1] > 0 else math.inf
    start, end = _first_and_last(curve)
    blind = input_blind_loss(trainer)
    stuck = end >= (1 - STUCK_WITHIN) * min(start, blind)
    failure = ratio < VANISHING_RATIO and stuck
    healthy = ratio > VANISHING_FIXED_RATIO and end < HALVED * start
    speed = (f"the first layer learns {_times(1 / ratio)} slower than the last" if ratio < 1
             else f"the first layer's gradient is {_times(ratio)} the last one's")
    sentence = (f"{quantity} = {ratio:.1e} at epoch {h.log_epochs[0]}: {speed}; the loss went "
                f"{start:.3g} → {end:.3g} (guessing without the inputs: {blind:.3g}).")
    return PathologyMetric(name, quantity,
                           {"grad_ratio": ratio, "start_loss": start, "final_loss": end,
                            "input_blind_loss": blind}, failure, healthy, sentence)


def dead_relus(trainer: Trainer) -> PathologyMetric:
    name, quantity = "dead-relus", "dead fraction per hidden layer (β ≤ 0 on every sample)"
    curve = _loss_curve(trainer)
    if len(curve) < 2:
        return _too_short(name, quantity, 2)
    d = trainer.diagnostics()
    hidden = trainer.net.sizes[1:-1]
    per_layer = list(d["dead_fraction"][:-1])
    dead = int(sum(int(m.sum()) for m in d["dead_units"][:-1]))
    overall = dead / max(1, sum(hidden))
    worst = max(per_layer, default=0.0)
    # Units dead before the first step are not the learning rate's doing, and no learning
    # rate revives them (a seed may start with a few): the remedy is judged on the units
    # training killed.
    born_dead = trainer.dead_at_start
    killed = max(0, dead - born_dead)
    start, end = _first_and_last(curve)
    stuck = not end < HALVED * start
    failure = worst >= DEAD_LAYER and stuck
    healthy = killed / max(1, sum(hidden)) < DEAD_FIXED and end < HALVED * start
    layers = ", ".join(f"{f:.0%}" for f in per_layer)
    born = f", {min(born_dead, dead)} of them dead before the first step" if born_dead else ""
    sentence = (f"{dead} of {sum(hidden)} hidden ReLUs are dead (per layer: {layers}{born}); "
                f"the loss went {start:.3g} → {end:.3g}"
                f"{' and is stuck' if stuck else ''}.")
    return PathologyMetric(name, quantity,
                           {"dead_fraction_per_layer": per_layer, "dead_fraction": overall,
                            "dead_neurons": dead, "dead_at_start": born_dead,
                            "start_loss": start, "final_loss": end},
                           failure, healthy, sentence)


def exploding_gradients(trainer: Trainer) -> PathologyMetric:
    name, quantity = "exploding-gradients", f"growth of ‖∂E/∂W‖ within {EXPLODING_STEPS} steps"
    h = trainer.history
    curve = _loss_curve(trainer)
    if not h.log_epochs and not trainer.diverged:
        return _too_short(name, quantity, 1)
    first = h.log_epochs[0] if h.log_epochs else 0
    norms = [math.sqrt(sum(g * g for g in layer_norms))
             for e, layer_norms in zip(h.log_epochs, h.logs["grad_norm"])
             if e - first <= EXPLODING_STEPS] or [math.nan]
    growth = max(norms) / norms[0] if norms[0] > 0 else math.nan
    start, end = _first_and_last(curve)
    diverged = trainer.diverged
    failure = diverged or growth >= EXPLODING_GROWTH
    healthy = (not diverged and growth < EXPLODING_GROWTH and bool(np.isfinite(curve).all())
               and end < HALVED * start)
    if math.isfinite(growth):
        sentence = f"‖∂E/∂W‖ grew {_times(growth)} in the first {EXPLODING_STEPS} steps"
    elif growth == math.inf:            # a norm past 1.8e308 is stored as inf: no ratio to quote
        sentence = f"‖∂E/∂W‖ overflowed (past 10³⁰⁸) within the first {EXPLODING_STEPS} steps"
    else:
        sentence = "no finite ‖∂E/∂W‖ was logged to compare with"
    sentence += (f" and training diverged at epoch {trainer.diverged_epoch} "
                 f"({trainer.diverged_reason})." if diverged else
                 f"; the loss went {start:.3g} → {end:.3g}.")
    return PathologyMetric(name, quantity,
                           {"grad_norm_growth": growth, "grad_norm_start": norms[0],
                            "diverged": diverged, "diverged_epoch": trainer.diverged_epoch,
                            "start_loss": start, "final_loss": end},
                           failure, healthy, sentence)


def learning_rate_too_high(trainer: Trainer) -> PathologyMetric:
    name, quantity = "learning-rate-too-high", "fraction of epochs on which the loss rose"
    curve = _loss_curve(trainer)
    if len(curve) < 3:
        return _too_short(name, quantity, 3)
    steps = np.diff(curve)
    rose, fell = float(np.mean(steps > 0)), float(np.mean(steps < 0))
    start, end = _first_and_last(curve)
    diverged = trainer.diverged
    ended_higher = diverged or end > start        # a diverged loss ended at infinity
    failure = rose >= RISING_STEPS or ended_higher
    healthy = fell >= FALLING_STEPS and not diverged
    sentence = (f"the loss rose on {rose:.0%} of {steps.size} epochs and fell on {fell:.0%}; "
                f"it went {start:.3g} → {end:.3g}"
                f"{f', then diverged at epoch {trainer.diverged_epoch}' if diverged else ''}.")
    return PathologyMetric(name, quantity,
                           {"rising_fraction": rose, "falling_fraction": fell,
                            "diverged": diverged, "start_loss": start, "final_loss": end},
                           failure, healthy, sentence)


def loss_jitter(curve) -> float:
    """How much the loss jumps around its trend, as a fraction: the mean of
    |ln L_{e−1} − 2 ln L_e + ln L_{e+1}| / 2 over the second half of the curve.  A smooth
    descent gives almost 0 (its trend cancels); noise of ±10 % gives about 0.1."""
    logs = np.log(np.asarray(curve, dtype=float))
    bends = np.abs(logs[2:] - 2 * logs[1:-1] + logs[:-2]) / 2
    return float(bends[bends.size // 2:].mean())


def full_batch_twin(trainer: Trainer) -> Trainer:
    """The same network from its initial weights (same init, same seed), the same data,
    loss and η, trained with the full batch for as many epochs as `trainer` ran."""
    net = trainer.net.copy()
    net.reinitialise(net.seed)
    config = TrainConfig(loss=trainer.config.loss,
                         optimizer=dataclasses.replace(trainer.config.optimizer),
                         batch_size=None, seed=trainer.config.seed)
    twin = Trainer(net, trainer.X, trainer.Y, config, log_every=1 << 62)
    twin.run_epochs(len(trainer.history.loss))
    return twin


def noisy_minibatches(trainer: Trainer) -> PathologyMetric:
    name, quantity = "noisy-minibatches", "the loss's jumps around its trend (epoch to epoch)"
    curve = _loss_curve(trainer)
    if len(curve) < 8:
        return _too_short(name, quantity, 8)
    jitter = loss_jitter(curve)
    twin_curve = _loss_curve(full_batch_twin(trainer))
    twin_jitter = loss_jitter(twin_curve) if len(twin_curve) >= 8 else math.nan
    ratio = jitter / twin_jitter if twin_jitter > 0 else math.inf
    start, end = _first_and_last(curve)
    failure = jitter >= NOISE_JITTER and ratio >= NOISE_RATIO
    healthy = jitter < NOISE_FIXED_JITTER and end < HALVED * start and not trainer.diverged
    if healthy:     # small jumps: full batch is smoother still, but that no longer matters
        sentence = (f"with batches of {trainer.batch_size} the loss jumps by only {jitter:.1%} "
                    f"from epoch to epoch around its trend (below {NOISE_FIXED_JITTER:.1%}: a "
                    f"steady descent) at η = {trainer.config.optimizer.lr:g}; "
                    f"it went {start:.3g} → {end:.3g}.")
    else:
        sentence = (f"with batches of {trainer.batch_size} the loss jumps by {jitter:.1%} from "
                    f"epoch to epoch around its trend ({_times(ratio)} full-batch training's "
                    f"{twin_jitter:.1g} at the same η = {trainer.config.optimizer.lr:g}); "
                    f"it went {start:.3g} → {end:.3g}.")
    return PathologyMetric(name, quantity,
                           {"jitter": jitter, "full_batch_jitter": twin_jitter,
                            "jitter_ratio": ratio, "batch_size": trainer.batch_size,
                            "start_loss": start, "final_loss": end,
                            "full_batch_final_loss": float(twin_curve[-1]) if len(twin_curve)
                            else math.nan},
                           failure, healthy, sentence)


METRICS = {
    "vanishing-gradients": vanishing_gradients,
    "dead-relus": dead_relus,
    "exploding-gradients": exploding_gradients,
    "learning-rate-too-high": learning_rate_too_high,
    "noisy-minibatches": noisy_minibatches,
}


def measure(scenario_name: str, trainer: Trainer) -> PathologyMetric | None:
    """The scenario's metric for this run, or None for a scenario without one."""
    metric = METRICS.get(scenario_name)
    return None if metric is None else metric(trainer)
