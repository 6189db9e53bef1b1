"""The Trainer: advances a Network by mini-batches or epochs, keeps the history, detects
divergence, and hands out immutable Snapshots for the GUI.

One epoch = one pass over the training set in `batch_size` pieces (full batch: one step,
exactly the lecture's loop; batch size 1: single samples).  The epoch's loss is the loss
the network had while it was trained on it: for full batch the lecture's E before the
update; for mini-batches the batches' losses combined (summed for sse-type losses,
averaged by sample count for mean losses).

Divergence: a non-finite loss or a step that would make a parameter non-finite stops
training, records the epoch and a reason, and keeps the last finite parameters.  NaN
never reaches the history or the parameters.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from . import diagnostics as diag
from .errors import ConfigError
from .history import History
from .losses import check_compatible, get_loss
from .network import Network, Workspace, _layer_views, param_blocks
from .optimizers import Optimizer, OptimizerConfig

# Diagnostics (dead / saturated units) are read on at most this many training samples:
# exact for every bundled data set, bounded in cost for a million-row CSV.
DIAGNOSTIC_SAMPLES = 4096


@dataclass
class TrainConfig:
    loss: str = "half_sse"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int | None = None   # None (or ≥ the number of samples): full batch
    shuffle: bool = True
    seed: int = 0                   # seeds the mini-batch order


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of where training is, for drawing.  Nothing in it is shared with
    the trainer, so the GUI may read it while the worker goes on."""
    epoch: int                  # completed epochs
    steps: int                  # optimiser steps taken
    batch_in_epoch: int
    loss: float                 # loss of the last completed epoch (nan before the first)
    batch_loss: float           # loss of the last step's batch
    test_loss: float
    sizes: tuple
    activation_names: tuple
    params: np.ndarray          # flat, w-numbering order
    grads: np.ndarray           # ∂E/∂w of the last step (flat)
    update: np.ndarray          # Δw of the last step (flat, the amount subtracted)
    sample: int
    sample_alphas: tuple        # α_l for the shown sample
    sample_betas: tuple         # β_l for the shown sample
    dead_units: tuple           # per layer bool masks
    saturated_units: tuple
    grad_norm: tuple            # per layer
    dead_fraction: tuple
    saturated_fraction: tuple
    update_ratio: tuple
    diverged_epoch: int | None
    diverged_reason: str | None
    sample_deltas: tuple = ()   # δ_l = ∂E/∂α_l for the shown sample alone (as a batch of one)

    def weights(self, layer):
        return _layer_views(self.params, self.sizes)[0][layer]

    def biases(self, layer):
        return _layer_views(self.params, self.sizes)[1][layer]


@dataclass
class TrainerState:
    """Everything needed to put a trainer back exactly where it was."""
    params: np.ndarray
    grad: np.ndarray
    optimizer: dict
    rng: tuple
    order: np.ndarray
    epoch: int
    steps: int
    batch_in_epoch: int
    epoch_loss_sum: float
    epoch_samples: int
    last_batch_loss: float
    diverged_epoch: int | None
    diverged_reason: str | None


class Trainer:
    def __init__(self, network: Network, X, Y, config: TrainConfig | None = None,
                 X_test=None, Y_test=None, log_every: int = 1):
        self.net = network
        self.config = config or TrainConfig()
        self.loss_fn = get_loss(self.config.loss)
        check_compatible(self.loss_fn, network.activation_names[-1])
        self.X = np.ascontiguousarray(network._as_inputs(X))
        self.Y = np.ascontiguousarray(network.targets_for(Y, self.X.shape[0]))
        if self.X.shape[0] == 0:
            raise ConfigError("there are no training samples")
        self.n = self.X.shape[0]
        if X_test is not None and len(X_test):
            self.X_test = np.ascontiguousarray(network._as_inputs(X_test))
            self.Y_test = network.targets_for(Y_test, self.X_test.shape[0])
        else:
            self.X_test = self.Y_test = None
        self.log_every = max(1, int(log_every))
        # Two gradient buffers: a step computes into the spare one and swaps only when it
        # is accepted, so after a divergence `grad` still shows the last finite step.
        self.grad = np.zeros_like(network.params)
        self._grad_views = _layer_views(self.grad, network.sizes)
        self._spare_grad = np.zeros_like(network.params)
        self._spare_views = _layer_views(self._spare_grad, network.sizes)
        self._grad_blocks = param_blocks(self.grad, network.sizes)
        self._spare_blocks = param_blocks(self._spare_grad, network.sizes)
        self.optimizer = Optimizer(self.config.optimizer, network.n_params, network.dtype)
        seed_words = np.random.SeedSequence(int(self.config.seed)).generate_state(4)
        self.rng = np.random.RandomState(seed_words)
        self._workspaces: dict[int, Workspace] = {}
        self._order = np.arange(self.n)
        self._Xo, self._Yo = self.X, self.Y
        self._diag_rows = (np.arange(self.n) if self.n <= DIAGNOSTIC_SAMPLES else
                           np.sort(np.random.RandomState(0).choice(self.n, DIAGNOSTIC_SAMPLES, replace=False)))
        self.history = History()
        self.epoch = 0
        self.steps = 0
        self.batch_in_epoch = 0
        self._epoch_loss_sum = 0.0
        self._epoch_samples = 0
        self.last_batch_loss = math.nan
        self.diverged_epoch: int | None = None
        self.diverged_reason: str | None = None
        self._gradient_before_training()
        # Hidden units dead before any step (no learning rate revives them): the dead-relus
        # metric judges its remedy on the units training kills.
        self.dead_at_start = int(sum(int(m.sum()) for m in self.diagnostics()["dead_units"][:-1]))

    def _gradient_before_training(self):
        """Before the first step `grad` is ∂E/∂w at the initial weights over the training
        set (what a full-batch first step uses), not zeros: the gradient colours and the
        hover tell the truth at epoch 0 (vanishing-gradients opens in that mode).  On a big
        data set (more than DIAGNOSTIC_SAMPLES rows) it is estimated on the diagnostic rows,
        so building a trainer never costs a pass over a million rows; a summed loss is
        scaled up to the whole set."""
        rows = self._diag_rows
        X, Y = (self.X, self.Y) if len(rows) == self.n else (self.X[rows], self.Y[rows])
        with np.errstate(all="ignore"):
            self.net.forward_backward_into(X, Y, self.loss_fn, Workspace(self.net, len(X)),
                                           self._grad_blocks)
            if len(X) < self.n and self.loss_fn.reduction == "sum":
                self.grad *= self.n / len(X)
        if not np.isfinite(self.grad).all():       # no NaN into the view, even at the start
            self.grad[...] = 0.0

    # -- settings that change mid-run ------------------------------------------------
    @property
    def batch_size(self) -> int:
        b = self.config.batch_size
        return self.n if not b or b >= self.n else int(b)

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.n // self.batch_size)

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    def set_learning_rate(self, lr: float):
        self._set_opt(lr=lr)

    def set_l2(self, l2: float):
        self._set_opt(l2=l2)

    def set_clip(self, clip: float | None):
        self._set_opt(clip=clip)

    def _set_opt(self, **changes):
        dataclasses.replace(self.config.optimizer, **changes).validate()
        for k, v in changes.items():
            setattr(self.config.optimizer, k, v)

    def set_batch_size(self, batch_size: int | None):
        """Takes effect at the next epoch boundary (the current epoch finishes as begun)."""
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ConfigError(f"batch size must be a whole number ≥ 1, not {batch_size!r}")
        self._pending_batch_size = batch_size
        if self.batch_in_epoch == 0:
            self._apply_pending_batch_size()

    @property
    def next_batch_size(self):
        """The batch-size setting the next epoch starts with (None = full batch): one chosen
        mid-epoch waits for the epoch boundary."""
        return getattr(self, "_pending_batch_size", self.config.batch_size)

    def _apply_pending_batch_size(self):
        if hasattr(self, "_pending_batch_size"):
            self.config.batch_size = self._pending_batch_size
            del self._pending_batch_size

    # -- training --------------------------------------------------------------------
    def _workspace(self, n: int) -> Workspace:
        ws = self._workspaces.get(n)
        if ws is None:
            ws = self._workspaces[n] = Workspace(self.net, n)
        return ws

    def _diverge(self, reason: str):
        self.diverged_epoch = self.epoch
        self.diverged_reason = reason

    def _step(self, Xb, Yb) -> float | None:
        """One optimiser step on one batch.  Returns its loss, or None on divergence."""
        ws = self._workspace(Xb.shape[0])
        ws.load(Xb)
        return self._step_loaded(ws, Yb)

    def _step_loaded(self, ws, Yb) -> float | None:
        """_step on the inputs already loaded into ws."""
        net, grad = self.net, self._spare_grad
        E = net.forward_backward_loaded(Yb, self.loss_fn, ws, self._spare_blocks)
        if not math.isfinite(E):
            self._diverge(f"loss became {E}")
            return None
        update = self.optimizer.compute_update(net.params, grad)
        # One dot product shows the step is finite (and small enough that w − Δw cannot
        # overflow); only when ‖Δw‖² overflows look at the new weights one by one.
        if not math.isfinite(float(np.dot(update, update))) and \
                not np.isfinite(net.params - update).all():
            self.optimizer.discard()
            self._diverge("a weight became infinite")
            return None
        np.subtract(net.params, update, out=net.params)
        self.optimizer.commit()
        self.grad, self._spare_grad = grad, self.grad
        self._grad_views, self._spare_views = self._spare_views, self._grad_views
        self._grad_blocks, self._spare_blocks = self._spare_blocks, self._grad_blocks
        self.steps += 1
        self.last_batch_loss = E
        return E

    def _start_epoch(self):
        self._apply_pending_batch_size()
        self._epoch_loss_sum, self._epoch_samples = 0.0, 0
        if self.batch_size < self.n and self.config.shuffle:
            self._order = self.rng.permutation(self.n)
            self._Xo = self.X[self._order]
            self._Yo = self.Y[self._order]
        else:
            self._order = np.arange(self.n)
            self._Xo, self._Yo = self.X, self.Y

    def _end_epoch(self, epoch_loss: float):
        e = self.epoch
        self.history.loss.append(e, epoch_loss)
        self.epoch += 1
        self.batch_in_epoch = 0
        if e % self.log_every == 0:
            self.log_now(e, epoch_loss)

    def run_batches(self, count: int = 1) -> int:
        """Take up to `count` optimiser steps; returns how many were taken."""
        done = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while done < count and not self.diverged:
                if self.batch_in_epoch == 0:
                    self._start_epoch()
                b = self.batch_size
                lo = self.batch_in_epoch * b
                hi = min(lo + b, self.n)
                E = self._step(self._Xo[lo:hi], self._Yo[lo:hi])
                if E is None:
                    break
                done += 1
                if self.loss_fn.reduction == "sum":
                    self._epoch_loss_sum += E
                else:
                    self._epoch_loss_sum += E * (hi - lo)
                self._epoch_samples += hi - lo
                self.batch_in_epoch += 1
                if hi >= self.n:
                    total = self._epoch_loss_sum
                    if self.loss_fn.reduction != "sum":
                        total /= self._epoch_samples
                    self._end_epoch(total)
        return done

    def run_epochs(self, count: int = 1, should_stop=None) -> int:
        """Train `count` whole epochs (finishing a half-done one counts as one).  Returns
        how many epochs were completed; stops early on divergence or if should_stop()."""
        if self.batch_in_epoch == 0:
            self._apply_pending_batch_size()
            if self.batch_size >= self.n:
                return self._run_full_batch(count, should_stop)
        start = self.epoch
        while self.epoch - start < count and not self.diverged:
            if should_stop is not None and should_stop():
                break
            if self.batch_in_epoch == 0:
                # A batch size chosen mid-epoch starts now: count this epoch's batches in it
                # (counted in the old size, 200 samples became 200 full-batch epochs).
                self._apply_pending_batch_size()
            remaining = self.batches_per_epoch - self.batch_in_epoch
            if self.run_batches(remaining) < remaining:
                break
        return self.epoch - start

    def _run_full_batch(self, count, should_stop):
        # The lecture's loop, with nothing per epoch but the step and the bookkeeping.
        self._order = np.arange(self.n)
        self._Xo, self._Yo = self.X, self.Y
        # x goes into the workspace once: a trainer's data set never changes.
        Y, step = self.Y, self._step_loaded
        ws = self._workspace(self.n)
        ws.ensure_loaded(self.X)
        append, log_every = self.history.loss.append, self.log_every
        done = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while done < count:
                if should_stop is not None and (done & 63) == 0 and done and should_stop():
                    break
                E = step(ws, Y)
                if E is None:
                    break
                e = self.epoch
                append(e, E)
                self.epoch = e + 1
                done += 1
                if e % log_every == 0:
                    self.log_now(e, E)
        return done

    # -- measuring -------------------------------------------------------------------
    def evaluate(self, X, Y) -> tuple[float, list]:
        """Loss and per-layer β over (X, Y) at the current weights."""
        ws = Workspace(self.net, X.shape[0])
        self.net.forward_into(X, ws)
        return self.loss_fn.value(ws.alphas[-1], ws.betas[-1], Y), ws.betas

    def estimated_loss(self) -> float:
        """E over the training set, estimated on the diagnostic rows (exact when the data
        set has no more than DIAGNOSTIC_SAMPLES rows; a summed loss scaled up)."""
        rows = self._diag_rows
        loss = self.evaluate(self.X[rows], self.Y[rows])[0]
        return loss * self.n / len(rows) if self.loss_fn.reduction == "sum" else loss

    def test_loss(self) -> float:
        if self.X_test is None:
            return math.nan
        with np.errstate(over="ignore", invalid="ignore"):
            return self.evaluate(self.X_test, self.Y_test)[0]

    def diagnostics(self) -> dict:
        net = self.net
        rows = self._diag_rows
        with np.errstate(over="ignore", invalid="ignore"):
            _, betas = self.evaluate(self.X[rows], self.Y[rows])
        gw, _ = self._grad_views
        uw, _ = _layer_views(self.optimizer.update, net.sizes)
        names = net.activation_names
        # Saturation matters where f′(α) ≈ 0 stops the gradient.  A sigmoid output under
        # binary cross-entropy (softmax under cross-entropy) never does: the fused loss
        # gives δ = β − t, so that output is never marked saturated.
        saturating = list(names)
        if self.loss_fn.requires_activation == names[-1]:
            saturating[-1] = "fused with the loss"
        return {
            "grad_norm": diag.gradient_norms(gw),
            "dead_fraction": diag.dead_fractions(names, betas),
            "saturated_fraction": diag.saturated_fractions(saturating, betas),
            "update_ratio": diag.update_ratios(uw, net.weights),
            "dead_units": diag.dead_units(names, betas),
            "saturated_units": diag.saturated_units(saturating, betas),
        }

    def log_now(self, epoch: int, epoch_loss: float):
        d = self.diagnostics()
        self.history.log(epoch, loss=epoch_loss, test_loss=self.test_loss(),
                         grad_norm=d["grad_norm"], dead_fraction=d["dead_fraction"],
                         saturated_fraction=d["saturated_fraction"], update_ratio=d["update_ratio"])

    def snapshot(self, sample: int = 0) -> Snapshot:
        net = self.net
        sample = int(min(max(sample, 0), self.n - 1))
        ws = Workspace(net, 1)
        scratch = np.empty_like(net.params)
        with np.errstate(all="ignore"):
            net.forward_backward_into(self.X[sample:sample + 1], self.Y[sample:sample + 1],
                                      self.loss_fn, ws, param_blocks(scratch, net.sizes))
        d = self.diagnostics()
        return Snapshot(
            epoch=self.epoch, steps=self.steps, batch_in_epoch=self.batch_in_epoch,
            loss=self.history.loss.last(), batch_loss=self.last_batch_loss,
            test_loss=self.test_loss(), sizes=tuple(net.sizes),
            activation_names=tuple(net.activation_names), params=net.params.copy(),
            grads=self.grad.copy(), update=self.optimizer.update.copy(), sample=sample,
            sample_alphas=tuple(a[0].copy() for a in ws.alphas),
            sample_betas=tuple(b[0].copy() for b in ws.betas),
            dead_units=tuple(d["dead_units"]), saturated_units=tuple(d["saturated_units"]),
            grad_norm=tuple(d["grad_norm"]), dead_fraction=tuple(d["dead_fraction"]),
            saturated_fraction=tuple(d["saturated_fraction"]),
            update_ratio=tuple(d["update_ratio"]),
            diverged_epoch=self.diverged_epoch, diverged_reason=self.diverged_reason,
            sample_deltas=tuple(d[0].copy() for d in ws.deltas))

    # -- exact save and restore (step back, sessions) --------------------------------
    def state(self) -> TrainerState:
        return TrainerState(
            params=self.net.params.copy(), grad=self.grad.copy(),
            optimizer=self.optimizer.state(), rng=self.rng.get_state(),
            order=self._order.copy(), epoch=self.epoch, steps=self.steps,
            batch_in_epoch=self.batch_in_epoch, epoch_loss_sum=self._epoch_loss_sum,
            epoch_samples=self._epoch_samples, last_batch_loss=self.last_batch_loss,
            diverged_epoch=self.diverged_epoch, diverged_reason=self.diverged_reason)

    def restore(self, s: TrainerState):
        self.net.set_params(s.params)
        np.copyto(self.grad, s.grad)
        self.optimizer.restore(s.optimizer)
        self.rng.set_state(s.rng)
        self._order = np.asarray(s.order).copy()
        if self._order.size == self.n and not np.array_equal(self._order, np.arange(self.n)):
            self._Xo, self._Yo = self.X[self._order], self.Y[self._order]
        else:
            self._Xo, self._Yo = self.X, self.Y
        self.epoch, self.steps, self.batch_in_epoch = s.epoch, s.steps, s.batch_in_epoch
        self._epoch_loss_sum, self._epoch_samples = s.epoch_loss_sum, s.epoch_samples
        self.last_batch_loss = s.last_batch_loss
        self.diverged_epoch, self.diverged_reason = s.diverged_epoch, s.diverged_reason
        self.history.truncate(self.epoch)

    def set_optimizer(self, config: OptimizerConfig):
        """Switch optimiser (its state starts afresh, as a new torch optimiser would)."""
        config.validate()
        self.config.optimizer = config
        self.optimizer = Optimizer(config, self.net.n_params, self.net.dtype)
