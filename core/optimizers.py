"""Optimisers on the flat parameter vector, each step matching torch.optim exactly in
order of operations: gradient-norm clipping (clip_grad_norm_), then L2 weight decay
(weight_decay, applied to every parameter as torch does), then SGD / momentum / Adam.

`compute_update` returns Δ (the step to subtract) and leaves the raw gradient untouched,
so the trainer can show it and can refuse a non-finite step before applying it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass
class OptimizerConfig:
    name: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    l2: float = 0.0
    clip: float | None = None   # max total gradient norm; None = no clipping

    def validate(self):
        if self.name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimiser {self.name!r}; choose from {', '.join(OPTIMIZERS)}")
        for field in ("lr", "momentum", "beta1", "beta2", "eps", "l2"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{field} must be a finite number ≥ 0, not {value!r}")
        if self.lr <= 0:
            raise ConfigError(f"the learning rate must be positive, not {self.lr!r}")
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ConfigError(f"clip must be a positive number, not {self.clip!r}")
        return self


class Optimizer:
    def __init__(self, config: OptimizerConfig, n_params: int, dtype):
        self.config = config.validate()
        self.update = np.zeros(n_params, dtype)   # Δ of the last accepted step
        self._next = np.zeros(n_params, dtype)    # Δ being proposed (see commit)
        self._work = np.empty(n_params, dtype)
        self._decay = np.empty(n_params, dtype)
        self.step_count = 0
        self._lr_value, self._lr = None, None
        self.velocity = np.zeros(n_params, dtype) if config.name == "momentum" else None
        if config.name == "adam":
            self.exp_avg = np.zeros(n_params, dtype)
            self.exp_avg_sq = np.zeros(n_params, dtype)
            self._denom = np.empty(n_params, dtype)
        else:
            self.exp_avg = self.exp_avg_sq = None

    def compute_update(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        c = self.config
        g = grad
        if c.clip is not None:
            norm = math.sqrt(float(np.dot(g, g)))
            coef = c.clip / (norm + 1e-6)
            if coef < 1.0:
                g = np.multiply(g, coef, out=self._work)
        if c.l2:
            np.multiply(params, c.l2, out=self._decay)
            g = np.add(g, self._decay, out=self._work)
        self.step_count += 1
        if c.lr != self._lr_value:   # η as a 0-d array: a ufunc takes it faster than a float
            self._lr_value, self._lr = c.lr, np.full((), c.lr, self.update.dtype)
        if c.name == "sgd":
            return np.multiply(g, self._lr, out=self._next)
        if c.name == "momentum":
            if self.step_count == 1:
                np.copyto(self.velocity, g)
            else:
                np.multiply(self.velocity, c.momentum, out=self.velocity)
                np.add(self.velocity, g, out=self.velocity)
            return np.multiply(self.velocity, self._lr, out=self._next)
        # Adam, as torch's single-tensor implementation writes it.
        t = self.step_count
        self.exp_avg += (g - self.exp_avg) * (1.0 - c.beta1)
        np.multiply(self.exp_avg_sq, c.beta2, out=self.exp_avg_sq)
        self.exp_avg_sq += (1.0 - c.beta2) * (g * g)
        step_size = c.lr / (1.0 - c.beta1 ** t)
        np.sqrt(self.exp_avg_sq, out=self._denom)
        self._denom /= math.sqrt(1.0 - c.beta2 ** t)
        self._denom += c.eps
        np.divide(self.exp_avg, self._denom, out=self._next)
        return np.multiply(self._next, step_size, out=self._next)

    def commit(self):
        """The proposed Δ was applied: it becomes `update`, the last step's Δ.  (Two
        buffers swapped, so a refused step never overwrites what the view shows.)"""
        self.update, self._next = self._next, self.update

    def discard(self):
        """The proposed step was refused (divergence): `update` keeps the last accepted Δ.
        Momentum / Adam moments already include the refused gradient; training stops
        there, and step back or reset restores an exact earlier state."""
        self.step_count -= 1

    # -- state, for step back and sessions ---------------------------------------------
    def state(self) -> dict:
        return {"step_count": self.step_count, "update": self.update.copy(),
                "velocity": None if self.velocity is None else self.velocity.copy(),
                "exp_avg": None if self.exp_avg is None else self.exp_avg.copy(),
                "exp_avg_sq": None if self.exp_avg_sq is None else self.exp_avg_sq.copy()}

    def restore(self, state: dict):
        self.step_count = int(state["step_count"])
        np.copyto(self.update, state["update"])
        for name in ("velocity", "exp_avg", "exp_avg_sq"):
            mine, saved = getattr(self, name), state.get(name)
            if mine is not None and saved is not None:
                np.copyto(mine, saved)
            elif mine is not None:
                mine[...] = 0.0
