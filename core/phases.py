"""One training step, split into the phases the lecture walks through.

For each layer in turn the net inputs α, then the outputs β; the loss E; then from the
output back, for each layer the error signals δ = ∂E/∂α and the gradients ∂E/∂w of its
edges; last the update w ← w − η ∂E/∂w.  A `PhaseStepper` moves through these one at a
time (next / back), the way a presentation clicker moves through slides.

The numbers shown before the update come from one `Network.forward_backward` on exactly the
batch the trainer's next step will use; the update itself is the Trainer's own step
(`run_batches(1)`), so stepping through every phase leaves the weights exactly where an
ordinary step leaves them.  Stepping back across an update restores the `TrainerState`
saved before it.

Values are per sample (a position in the batch) or aggregated over the batch: Σ for what
the lecture sums (E, δ, ∂E/∂w — "the sum over the 10 houses"), the mean for α and β.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import formula as fm
from .activation_profile import activation_profile
from .errors import ConfigError
from .explain import activation_formula, derivative_formula, explain, loss_formula
from .formula import Sym
from .numbering import layer_offsets, neuron_name, param_index

KINDS = ("alpha", "beta", "loss", "delta", "gradient", "update")
MAX_INPUTS_SPELLED = 6      # α_H1 = w1 + x1·w6 + x2·w11 (+ … beyond this many inputs)


@dataclass(frozen=True)
class Highlight:
    """What the network view should light up (everything else dimmed)."""
    levels: tuple           # neuron levels being computed (0 = inputs, L = outputs)
    units: tuple            # (level, unit) of every neuron being computed
    layers: tuple           # weight layers whose edges take part (layer l: level l → l+1)


@dataclass(frozen=True)
class Phase:
    kind: str               # one of KINDS
    level: int | None       # neurons' level (α, β, δ, loss); the edges' head level (∂E/∂w)
    title: str              # "Forward: α of the hidden layer"
    description: str        # one or two sentences in the lecture's notation
    highlight: Highlight
    keys: tuple             # ("neuron", level, unit) | ("param", index) | ("loss",)
    labels: tuple           # "α_H1", "∂E/∂w17", "E" (Unicode, for tables and tooltips)
    per_sample: np.ndarray | None   # (batch size, len(keys)); None for the update
    batch: np.ndarray       # aggregate over the batch (the new weights for the update)
    batch_label: str        # "Σ over the batch", "mean over the batch", "after the update"
    rows: np.ndarray        # training-set rows in the batch, in batch order
    step: int               # the trainer's step count before this step
    epoch: int
    old: np.ndarray | None = None        # update: w before
    gradient: np.ndarray | None = None   # update: ∂E/∂w the step used
    change: np.ndarray | None = None     # update: the amount subtracted, Δw

    @property
    def batch_size(self) -> int:
        return int(self.rows.size)

    def values(self, sample: int | None = None) -> np.ndarray:
        """Values aligned with `keys`: for the sample at position `sample` of the batch, or
        aggregated over the batch (sample=None)."""
        if sample is None or self.per_sample is None:
            return self.batch
        if not 0 <= sample < self.batch_size:     # said as the lecture counts: i = 1..n
            raise ConfigError(f"sample {sample + 1} is not in this batch (samples 1..{self.batch_size})")
        return self.per_sample[sample]

    def neuron_values(self, sample: int | None = None) -> dict:
        """{(level, unit): value} for neuron phases (empty for edge phases)."""
        return {(k[1], k[2]): float(v) for k, v in zip(self.keys, self.values(sample))
                if k[0] == "neuron"}

    def param_values(self, sample: int | None = None) -> dict:
        """{flat parameter index: value} for edge phases (w_k is index k − 1)."""
        return {k[1]: float(v) for k, v in zip(self.keys, self.values(sample)) if k[0] == "param"}


@dataclass
class _Step:
    before: object          # TrainerState
    rows: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    net: object             # the network at the pre-step weights (for explanations)
    p: object               # its forward/backward Pass on the batch
    phases: list
    update: Phase | None = None


class PhaseStepper:
    """Steps a Trainer through one training step at a time, phase by phase.

    The phase index runs 0 .. count − 1; the last phase is the update, and entering it
    performs the trainer's real step.  `next()` past the update begins the next step;
    `back()` before the first phase returns to the previous step's update (up to
    `history` steps back)."""

    def __init__(self, trainer, history: int = 100):
        self.trainer = trainer
        self.history = max(1, int(history))
        self._steps: list[_Step] = []
        self._index = 0
        self.resync()

    # -- position ----------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Phases in one step, the update included."""
        return len(self._current.phases) + 1

    @property
    def index(self) -> int:
        return self._index

    @property
    def phase(self) -> Phase:
        step = self._current
        return step.update if self._index == len(step.phases) else step.phases[self._index]

    @property
    def phases(self) -> list:
        """The current step's phases so far (the update only once it has been applied)."""
        step = self._current
        return step.phases + ([step.update] if step.update is not None else [])

    @property
    def can_back(self) -> bool:
        return self._index > 0 or len(self._steps) > 1

    @property
    def rows(self) -> np.ndarray:
        """Training-set rows of the current step's batch (sample position p is rows[p])."""
        return self._current.rows

    @property
    def _current(self) -> _Step:
        return self._steps[-1]

    def resync(self):
        """Forget the phase history and plan the next step from the trainer as it is now
        (after the trainer was changed outside lecture mode)."""
        self._steps = [self._plan()]
        self._index = 0
        return self.phase

    def next(self) -> Phase:
        step = self._current
        if self._index < len(step.phases) - 1:
            self._index += 1
        elif self._index == len(step.phases) - 1:
            step.update = self._apply(step)
            self._index += 1
        else:
            self._steps.append(self._plan())
            del self._steps[:-self.history]
            self._index = 0
        return self.phase

    def back(self) -> Phase:
        step = self._current
        if self._index == len(step.phases):
            self.trainer.restore(step.before)
            step.update = None
            self._index -= 1
        elif self._index > 0:
            self._index -= 1
        elif len(self._steps) > 1:
            # The trainer already stands after the previous step's update.
            self._steps.pop()
            self._index = len(self._current.phases)
        return self.phase

    def explain(self, name: str, sample: int | None = None):
        """The chain rule for `name` (w17, H1...) at this step's pre-update weights and on
        its batch: the numbers the backward phases show."""
        step = self._current
        return explain(step.net, step.X, step.Y, self.trainer.loss_fn, name, sample)

    def activation_profile(self, level: int, sample: int | None = None):
        """The activation curve of neuron level `level` with this step's α marked: of the
        sample at position `sample` of the batch, or of every sample (sample=None)."""
        step = self._current
        alphas = step.p.alphas[level - 1]
        alphas = alphas if sample is None else alphas[sample:sample + 1]
        names = [neuron_name(step.net.sizes, level, u) for u in range(step.net.sizes[level])]
        return activation_profile(step.net.activations[level - 1], alphas, names)

    # -- planning and applying a step ------------------------------------------------------
    def _plan(self) -> _Step:
        t = self.trainer
        if t.diverged:
            raise ConfigError(f"training diverged at epoch {t.diverged_epoch}: reset before "
                              "stepping through phases")
        before = t.state()
        # Which rows the next step trains on depends on the shuffle the trainer draws at an
        # epoch's start: take the step once, read its batch, and put everything back.
        t.run_batches(1)
        size = t.batch_size
        start = before.batch_in_epoch * size
        rows = np.asarray(t.state().order[start:start + size]).copy()
        t.restore(before)
        X, Y = t.X[rows], t.Y[rows]
        net = t.net.copy()
        net.set_broken_sigmoid_derivative(t.net.broken_sigmoid_derivative)
        p = net.forward_backward(X, Y, t.loss_fn)
        builder = _PhaseBuilder(net, p, Y, t.loss_fn, rows, t.steps, t.epoch)
        return _Step(before, rows, X, Y, net, p, builder.before_update())

    def _apply(self, step: _Step) -> Phase:
        t = self.trainer
        old = t.net.params.copy()
        taken = t.run_batches(1)
        builder = _PhaseBuilder(step.net, None, None, t.loss_fn, step.rows, step.before.steps,
                                step.before.epoch)
        return builder.update(old, t.net.params.copy(), t.grad.copy(),
                              t.optimizer.update.copy() if taken else np.zeros_like(old),
                              t.config.optimizer, None if taken else t.diverged_reason)


# -- the phases' contents -----------------------------------------------------------------
class _PhaseBuilder:
    def __init__(self, net, p, Y, loss, rows, step, epoch):
        self.net, self.p, self.Y, self.loss, self.rows = net, p, Y, loss, rows
        self.sizes, self.L = net.sizes, net.n_layers
        self.step, self.epoch = step, epoch

    def name(self, level, unit):
        return neuron_name(self.sizes, level, unit)

    def layer_name(self, level) -> str:
        if level == self.L:
            return "the output layer"
        return "the hidden layer" if self.L == 2 else f"hidden layer {level}"

    def units(self, *levels):
        return tuple((lv, u) for lv in levels for u in range(self.sizes[lv]))

    def phase(self, kind, level, title, description, levels, layers, keys, labels,
              per_sample, batch, batch_label, **update) -> Phase:
        return Phase(kind, level, title, description, Highlight(tuple(levels), self.units(*levels),
                                                         tuple(layers)),
                     tuple(keys), tuple(labels), per_sample, batch, batch_label,
                     self.rows, self.step, self.epoch, **update)

    def neuron_keys(self, level, symbol):
        keys = [("neuron", level, u) for u in range(self.sizes[level])]
        labels = [fm.text(Sym(symbol, self.name(level, u))) for u in range(self.sizes[level])]
        return keys, labels

    def before_update(self) -> list:
        phases = []
        for level in range(1, self.L + 1):
            phases += [self.alpha(level), self.beta(level)]
        phases.append(self.loss_phase())
        for level in range(self.L, 0, -1):
            phases += [self.delta(level), self.gradient(level - 1)]
        return phases

    # forward
    def alpha(self, level) -> Phase:
        p = self.p
        keys, labels = self.neuron_keys(level, "α")
        first = self.name(level, 0)
        terms = [f"w{param_index(self.sizes, level - 1, 0, 0) + 1}"]
        below = self.sizes[level - 1]
        for r in range(min(below, MAX_INPUTS_SPELLED)):
            src = fm.text(Sym("x", str(r + 1)) if level == 1 else Sym("β", self.name(level - 1, r)))
            terms.append(f"{src}·w{param_index(self.sizes, level - 1, r + 1, 0) + 1}")
        example = " + ".join(terms) + (" + …" if below > MAX_INPUTS_SPELLED else "")
        inputs = "inputs x" if level == 1 else f"outputs β of {self.layer_name(level - 1)}"
        description = (f"Each neuron of {self.layer_name(level)} adds its bias to the weighted "
                       f"{inputs}: α_{first} = {example}.")
        values = p.alphas[level - 1]
        return self.phase("alpha", level, f"Forward: α of {self.layer_name(level)}", description,
                          [level], [level - 1], keys, labels, values.copy(),
                          values.mean(axis=0), "mean over the batch")

    def beta(self, level) -> Phase:
        keys, labels = self.neuron_keys(level, "β")
        act = self.net.activations[level - 1].name
        description = (f"Each neuron of {self.layer_name(level)} passes its net input through "
                       f"its activation function: {fm.text(activation_formula(act, self.name(level, 0)))}.")
        values = self.p.betas[level - 1]
        return self.phase("beta", level, f"Forward: β of {self.layer_name(level)}", description,
                          [level], [], keys, labels, values.copy(), values.mean(axis=0),
                          "mean over the batch")

    def loss_phase(self) -> Phase:
        p, loss, n = self.p, self.loss, self.rows.size
        # Each sample's share of E: its own loss, divided by n where E is a batch mean.
        alpha, beta = p.alphas[-1], p.betas[-1]
        shares = np.array([[loss.value(alpha[i:i + 1], beta[i:i + 1], self.Y[i:i + 1])]
                           for i in range(n)])
        if loss.reduction == "mean":
            shares /= n
        description = (f"The loss compares the outputs with the targets over the {n} "
                       f"sample{'s' if n != 1 else ''} of the batch: "
                       f"{fm.text(loss_formula(self.sizes, loss.name))} = {fm.number_text(p.loss)}.")
        return self.phase("loss", self.L, "The loss E", description, [self.L], [], [("loss",)], ["E"],
                          shares, np.array([p.loss]), "Σ over the batch")

    # backward
    def delta(self, level) -> Phase:
        keys, labels = self.neuron_keys(level, "δ")
        first = self.name(level, 0)
        act = self.net.activations[level - 1].name
        if level == self.L:
            e = explain(self.net, self.p.inputs, self.Y, self.loss, first, 0)
            chain = " · ".join(fm.text(f.formula) for f in e.factors)
            description = (f"The error signal of the output, δ = ∂E/∂α: δ_{first} = {chain}. "
                           "It says how much E changes as α_" f"{first} changes.")
        else:
            above = self.sizes[level + 1]
            terms = " + ".join(
                f"w{param_index(self.sizes, level, 1, k) + 1}·δ_{self.name(level + 1, k)}"
                for k in range(min(above, MAX_INPUTS_SPELLED)))
            terms += " + …" if above > MAX_INPUTS_SPELLED else ""
            deriv = fm.text(derivative_formula(act, first)[0])
            description = (f"δ flows back into {self.layer_name(level)}: each neuron weights the "
                           f"δ of the layer above by its outgoing weights, sums, and multiplies "
                           f"by f′(α): δ_{first} = ({terms}) · {deriv}.")
        values = self.p.deltas[level - 1]
        return self.phase("delta", level, f"Backward: δ of {self.layer_name(level)}", description,
                          [level], [level] if level < self.L else [], keys, labels,
                          values.copy(), values.sum(axis=0), "Σ over the batch (= ∂E/∂bias)")

    def gradient(self, layer) -> Phase:
        p, sizes = self.p, self.sizes
        level = layer + 1
        offsets = layer_offsets(sizes)
        n = self.rows.size
        below = p.inputs if layer == 0 else p.betas[layer - 1]
        tails = np.hstack([np.ones((n, 1)), below])                # 1 for the bias, then β
        per_sample = (tails[:, :, None] * p.deltas[layer][:, None, :]).reshape(n, -1)
        indices = range(offsets[layer], offsets[layer + 1])
        keys = [("param", k) for k in indices]
        labels = [f"∂E/∂w{k + 1}" for k in indices]
        head = self.name(level, 0)
        tail = fm.text(Sym("x", "1") if layer == 0 else Sym("β", self.name(layer, 0)))
        w_bias = param_index(sizes, layer, 0, 0) + 1
        w_edge = param_index(sizes, layer, 1, 0) + 1
        description = (f"Each edge's gradient is the δ at its head times the β at its tail, "
                       f"summed over the batch: ∂E/∂w{w_edge} = Σ_i δ_{head}·{tail}; a bias has "
                       f"1 at its tail: ∂E/∂w{w_bias} = Σ_i δ_{head}.")
        return self.phase("gradient", level,
                          f"Backward: ∂E/∂w of the edges into {self.layer_name(level)} "
                          f"(w{offsets[layer] + 1}..w{offsets[layer + 1]})",
                          description, [layer, level], [layer], keys, labels, per_sample,
                          p.gradients.flat[offsets[layer]:offsets[layer + 1]].copy(),
                          "Σ over the batch")

    # the update
    def update(self, old, new, gradient, change, optimizer, diverged) -> Phase:
        keys = [("param", k) for k in range(old.size)]
        labels = [f"w{k + 1}" for k in range(old.size)]
        biggest = int(np.argmax(np.abs(change))) if change.size else 0
        largest = (f"The largest move: w{biggest + 1} {fm.number_text(old[biggest], 7)} → "
                   f"{fm.number_text(new[biggest], 7)} (Δw = {fm.number_text(-change[biggest], 3)}).")
        plain_sgd = optimizer.name == "sgd" and not optimizer.l2 and optimizer.clip is None
        if diverged:
            description = f"No update: this step would diverge ({diverged}). The weights stay."
        elif plain_sgd:
            description = (f"Every weight moves at once against its gradient: w ← w − η ∂E/∂w "
                           f"with η = {optimizer.lr:g}. {largest}")
        else:
            description = (f"Every weight moves at once: w ← w − Δw, where Δw is the "
                           f"{optimizer.name} step built from ∂E/∂w (η = {optimizer.lr:g}). {largest}")
        levels = list(range(self.L + 1))
        return self.phase("update", None, "Update: w ← w − η ∂E/∂w", description, levels,
                          list(range(self.L)), keys, labels, None, new, "after the update",
                          old=old, gradient=gradient, change=change)
