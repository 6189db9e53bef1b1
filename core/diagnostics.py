"""Per-layer health measures the failure scenarios are read from.

- gradient norm ‖∂E/∂W_l‖ (Frobenius, weights only): vanishing → tiny early layers;
- dead fraction: ReLU units whose β ≤ 0 for every sample (they pass no gradient, ever);
- saturated fraction: sigmoid β < 0.01 or > 0.99, |tanh β| > 0.99, over samples × units
  (β(1 − β) ≈ 0 there, so the gradient through them vanishes);
- update ratio ‖Δw‖ / ‖w‖ per layer (≈ 1e-3 is the usual healthy rule of thumb).
"""
from __future__ import annotations

import math

import numpy as np


def norm(a: np.ndarray) -> float:
    """‖a‖ (Frobenius).  Σa² overflows for finite entries above ~1e154 (a diverging run's
    weights): then scale by the largest |a| first, so a finite array has a finite norm."""
    squares = float(np.vdot(a, a))
    if math.isfinite(squares):
        return math.sqrt(squares)
    biggest = float(np.max(np.abs(a)))
    if not math.isfinite(biggest):
        return biggest
    scaled = a / biggest
    return biggest * math.sqrt(float(np.vdot(scaled, scaled)))


def gradient_norms(grad_weights) -> list[float]:
    return [norm(g) for g in grad_weights]


def dead_fractions(activation_names, betas) -> list[float]:
    out = []
    for name, beta in zip(activation_names, betas):
        if name == "relu" and beta.shape[0]:
            out.append(float(np.mean(np.all(beta <= 0, axis=0))))
        else:
            out.append(0.0)
    return out


def saturated_fractions(activation_names, betas) -> list[float]:
    out = []
    for name, beta in zip(activation_names, betas):
        if name == "sigmoid" and beta.size:
            out.append(float(np.mean((beta < 0.01) | (beta > 0.99))))
        elif name == "tanh" and beta.size:
            out.append(float(np.mean(np.abs(beta) > 0.99)))
        else:
            out.append(0.0)
    return out


def dead_units(activation_names, betas) -> list[np.ndarray]:
    """Boolean mask per layer of units that are dead (see dead_fractions)."""
    return [np.all(b <= 0, axis=0) if name == "relu" and b.shape[0] else np.zeros(b.shape[1], bool)
            for name, b in zip(activation_names, betas)]


def saturated_units(activation_names, betas, threshold=0.5) -> list[np.ndarray]:
    """Units saturated on more than `threshold` of the samples."""
    masks = []
    for name, beta in zip(activation_names, betas):
        if name == "sigmoid" and beta.shape[0]:
            masks.append(np.mean((beta < 0.01) | (beta > 0.99), axis=0) > threshold)
        elif name == "tanh" and beta.shape[0]:
            masks.append(np.mean(np.abs(beta) > 0.99, axis=0) > threshold)
        else:
            masks.append(np.zeros(beta.shape[1], bool))
    return masks


def update_ratios(update_weights, weights) -> list[float]:
    out = []
    for du, w in zip(update_weights, weights):
        wn, un = norm(w), norm(du)
        out.append(un / wn if wn > 0 else (0.0 if un == 0 else math.inf))
    return out
