"""Loss functions E and the error signal they start the backward pass with.

`forward_backward` returns E and writes δ_out = ∂E/∂α_out for the output layer.  Softmax +
cross-entropy and sigmoid + binary cross-entropy are fused: computed from α with
log-sum-exp / softplus, so they stay finite at α = ±1000, and δ_out = (β − t)/n exactly.
"""
from __future__ import annotations

import numpy as np

from .errors import ConfigError


class Loss:
    name = ""
    reduction = "sum"           # how batch losses combine into an epoch loss
    requires_activation = None  # fused losses only work on one output activation

    def value(self, alpha, beta, Y) -> float:
        raise NotImplementedError

    def forward_backward(self, alpha, beta, Y, activation, delta_out, scratch, scratch2) -> float:
        raise NotImplementedError

    def __repr__(self):
        return f"<loss {self.name}>"


class _SquaredError(Loss):
    """scale·Σ(β − y)², with ∂E/∂β = 2·scale·(β − y)."""

    def _scale(self, n_elements: int) -> float:
        raise NotImplementedError

    def value(self, alpha, beta, Y):
        diff = (beta - Y).ravel()
        return float(self._scale(diff.size) * np.dot(diff, diff))

    def forward_backward(self, alpha, beta, Y, activation, delta_out, scratch, scratch2):
        np.subtract(beta, Y, out=scratch)
        scale = self._scale(scratch.size)
        E = float(scale * np.vdot(scratch, scratch))
        if scale != 0.5:
            np.multiply(scratch, 2.0 * scale, out=scratch)
        activation.backward(scratch, alpha, beta, delta_out, scratch2)
        return E


class HalfSSE(_SquaredError):
    """The lecture's E = ½ Σ_i (y_i − β_O1,i)², so ∂E/∂β_O1 = β_O1 − y."""
    name = "half_sse"

    def _scale(self, n):
        return 0.5


class SSE(_SquaredError):
    """Σ (β − y)²: torch MSELoss(reduction='sum'), the lecture's PyTorch listing."""
    name = "sse"

    def _scale(self, n):
        return 1.0


class MSE(_SquaredError):
    """Mean over every element: torch MSELoss()."""
    name = "mse"
    reduction = "mean"

    def _scale(self, n):
        return 1.0 / n


class CrossEntropy(Loss):
    """Mean over samples of −Σ_k t_k log softmax(α)_k: torch CrossEntropyLoss on α."""
    name = "cross_entropy"
    reduction = "mean"
    requires_activation = "softmax"

    @staticmethod
    def _log_softmax(alpha):
        shifted = alpha - alpha.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def value(self, alpha, beta, Y):
        return float(-(Y * self._log_softmax(alpha)).sum() / alpha.shape[0])

    def forward_backward(self, alpha, beta, Y, activation, delta_out, scratch, scratch2):
        n = alpha.shape[0]
        E = self.value(alpha, beta, Y)
        # Targets whose rows sum to 1 (one-hot or probabilities): δ = (β − t)/n.
        np.multiply(beta, Y.sum(axis=1, keepdims=True), out=delta_out)
        np.subtract(delta_out, Y, out=delta_out)
        np.multiply(delta_out, 1.0 / n, out=delta_out)
        return E


class BinaryCrossEntropy(Loss):
    """Mean of −[t log β + (1 − t) log(1 − β)] with β = σ(α), computed as softplus(α) − tα:
    torch BCEWithLogitsLoss on α (= BCELoss on β wherever that is finite)."""
    name = "binary_cross_entropy"
    reduction = "mean"
    requires_activation = "sigmoid"

    def value(self, alpha, beta, Y):
        return float((np.logaddexp(0.0, alpha) - Y * alpha).mean())

    def forward_backward(self, alpha, beta, Y, activation, delta_out, scratch, scratch2):
        E = self.value(alpha, beta, Y)
        np.subtract(beta, Y, out=delta_out)
        np.multiply(delta_out, 1.0 / alpha.size, out=delta_out)
        return E


LOSSES = {cls.name: cls for cls in (HalfSSE, SSE, MSE, CrossEntropy, BinaryCrossEntropy)}


def get_loss(name: str) -> Loss:
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[name]()
    except KeyError:
        raise ConfigError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}") from None


def check_compatible(loss: Loss, output_activation: str) -> None:
    needed = loss.requires_activation
    if needed is not None and output_activation != needed:
        raise ConfigError(
            f"loss {loss.name!r} needs a {needed} output layer, not {output_activation!r}")
    if output_activation == "softmax" and loss.name == "binary_cross_entropy":
        raise ConfigError("binary_cross_entropy needs a sigmoid output layer, not softmax")
