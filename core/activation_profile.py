"""A layer's activation function as the lecture draws it (β = f(α) on α ∈ [−6, 6]), its
derivative, and where the layer's neurons currently sit on both curves.

Points on the flat tails of a sigmoid or tanh (saturated: f′ ≈ 0, the vanishing gradient of
the lecture) and ReLU points at α ≤ 0 (no gradient: a ReLU dead on every sample stays dead)
are flagged, so the activation view can colour them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import formula as fm
from .activations import Activation, get_activation
from .explain import activation_formula

LECTURE_SPAN = 6.0          # the lecture's figure: np.linspace(-6, 6, 1000)
CURVE_POINTS = 1000
# The thresholds core/diagnostics.py counts saturation with.
SIGMOID_SATURATED = 0.01    # β < 0.01 or β > 0.99
TANH_SATURATED = 0.99       # |β| > 0.99


@dataclass(frozen=True)
class ActivationProfile:
    name: str               # "sigmoid", "relu", ...
    title: str              # "β = σ(α),  σ(α) = 1/(1 + e^(−α))" (Unicode)
    elementwise: bool       # False for softmax: no single curve to draw
    grid: np.ndarray        # α along the curve
    curve: np.ndarray       # f(α)
    slope: np.ndarray       # f′(α) (as the engine computes it: a broken σ′ shows here)
    alphas: np.ndarray      # the neurons' current α (flattened: one per point)
    betas: np.ndarray
    slopes: np.ndarray      # f′ at each point
    labels: tuple           # a neuron name per point
    saturated: np.ndarray   # bool per point: on a flat tail
    dead: np.ndarray        # bool per point: a ReLU with α ≤ 0

    @property
    def saturated_fraction(self) -> float:
        return float(self.saturated.mean()) if self.saturated.size else 0.0

    @property
    def dead_fraction(self) -> float:
        return float(self.dead.mean()) if self.dead.size else 0.0


def activation_profile(activation, alphas, labels=()) -> ActivationProfile:
    """`activation`: a name or an Activation (a network's own, so its broken σ′ shows);
    `alphas`: the α of a layer's neurons, shape (units,) or (samples, units); `labels`: a
    name per unit (H1, H2...)."""
    act = activation if isinstance(activation, Activation) else get_activation(activation)
    alphas = np.atleast_2d(np.asarray(alphas, dtype=float))
    units = alphas.shape[1]
    labels = tuple(labels) or tuple(str(u + 1) for u in range(units))
    point_labels = tuple(labels[u % units] for u in range(alphas.size))
    flat = alphas.reshape(-1)
    finite = flat[np.isfinite(flat)]
    span = max(LECTURE_SPAN, 1.1 * float(np.abs(finite).max())) if finite.size else LECTURE_SPAN
    grid = np.linspace(-span, span, CURVE_POINTS)
    title = fm.text(activation_formula(act.name, ""))
    with np.errstate(over="ignore", invalid="ignore"):
        if not act.elementwise:
            empty = np.empty(0)
            return ActivationProfile(act.name, title, False, empty, empty, empty, flat,
                                     np.full(flat.size, np.nan), np.full(flat.size, np.nan),
                                     point_labels, np.zeros(flat.size, bool),
                                     np.zeros(flat.size, bool))
        curve = act(grid)
        slope = np.asarray(act.derivative(grid, curve), dtype=float)
        betas = act(flat)
        slopes = np.asarray(act.derivative(flat, betas), dtype=float)
    if act.name.startswith("sigmoid"):
        saturated = (betas < SIGMOID_SATURATED) | (betas > 1 - SIGMOID_SATURATED)
    elif act.name == "tanh":
        saturated = np.abs(betas) > TANH_SATURATED
    else:
        saturated = np.zeros(flat.size, bool)
    dead = (flat <= 0) if act.name == "relu" else np.zeros(flat.size, bool)
    return ActivationProfile(act.name, title, True, grid, curve, slope, flat, betas, slopes,
                             point_labels, saturated, dead)
