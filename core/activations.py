"""Activation functions f: β = f(α), and their backward passes.

Each activation writes into caller-owned buffers (`out=`) so the training loop allocates
nothing.  `backward` turns ∂E/∂β into δ = ∂E/∂α without touching its input (never change
an upstream gradient in place).
"""
from __future__ import annotations

import numpy as np

# 0 and 1 as 0-d arrays of each float dtype: a ufunc takes these ~0.3 µs faster than a
# Python float, which counts when one lecture epoch is ~30 numpy calls.
_ZERO = {np.dtype(t): np.zeros((), t) for t in (np.float32, np.float64)}
_ONE = {np.dtype(t): np.ones((), t) for t in (np.float32, np.float64)}


class Activation:
    name = ""
    elementwise = True

    def forward(self, alpha: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, alpha: np.ndarray, beta: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """∂β/∂α elementwise (the lecture's β(1 − β) for a sigmoid)."""
        raise NotImplementedError

    def backward(self, dE_dbeta, alpha, beta, out, scratch):
        """δ = ∂E/∂α = ∂E/∂β · ∂β/∂α, written to `out`."""
        self.derivative(alpha, beta, out=scratch)
        return np.multiply(dE_dbeta, scratch, out=out)

    def __call__(self, alpha):
        alpha = np.asarray(alpha, dtype=float)
        return self.forward(alpha, np.empty_like(alpha))

    def __repr__(self):
        return f"<activation {self.name}>"


class Sigmoid(Activation):
    """S(α) = 1 / (1 + e^−α), computed as exp(−softplus(−α)): no overflow at α = ±1000 and
    full relative precision on both tails."""
    name = "sigmoid"

    def forward(self, alpha, out):
        np.negative(alpha, out=out)
        np.logaddexp(_ZERO.get(out.dtype, 0.0), out, out=out)
        np.negative(out, out=out)
        return np.exp(out, out=out)

    def derivative(self, alpha, beta, out=None):
        out = np.subtract(_ONE.get(beta.dtype, 1.0), beta, out=out)
        return np.multiply(out, beta, out=out)


class BrokenSigmoid(Sigmoid):
    """A sigmoid whose derivative forgets the (1 − β) factor: for teaching the gradient
    check.  Forward pass identical; backward deliberately wrong."""
    name = "sigmoid (broken derivative)"

    def derivative(self, alpha, beta, out=None):
        if out is None:
            return beta.copy()
        np.copyto(out, beta)
        return out


class Tanh(Activation):
    name = "tanh"

    def forward(self, alpha, out):
        return np.tanh(alpha, out=out)

    def derivative(self, alpha, beta, out=None):
        out = np.multiply(beta, beta, out=out)
        return np.subtract(_ONE.get(out.dtype, 1.0), out, out=out)


class ReLU(Activation):
    name = "relu"

    def forward(self, alpha, out):
        return np.maximum(alpha, 0.0, out=out)

    def derivative(self, alpha, beta, out=None):
        # f'(0) = 0, as torch defines it.
        if out is None:
            return (alpha > 0).astype(alpha.dtype)
        return np.greater(alpha, 0.0, out=out, casting="unsafe")


class LeakyReLU(Activation):
    name = "leaky_relu"
    slope = 0.01

    def forward(self, alpha, out):
        np.multiply(alpha, self.slope, out=out)
        return np.maximum(alpha, out, out=out)

    def derivative(self, alpha, beta, out=None):
        positive = alpha > 0
        if out is None:
            return np.where(positive, 1.0, self.slope).astype(alpha.dtype)
        out[...] = self.slope
        out[positive] = 1.0
        return out


class Linear(Activation):
    name = "linear"

    def forward(self, alpha, out):
        # A Workspace gives a linear layer β = α (one buffer), so this is usually free.
        if out is not alpha:
            out[...] = alpha   # (cheaper to call than np.copyto)
        return out

    def derivative(self, alpha, beta, out=None):
        if out is None:
            return np.ones_like(alpha)
        out[...] = 1.0
        return out

    def backward(self, dE_dbeta, alpha, beta, out, scratch):
        # δ = ∂E/∂β; a Workspace gives a linear layer one buffer for both.
        if out is not dE_dbeta:
            out[...] = dE_dbeta
        return out


class Softmax(Activation):
    """Row-wise softmax, shifted by the row maximum so e^α never overflows."""
    name = "softmax"
    elementwise = False

    def forward(self, alpha, out):
        np.subtract(alpha, alpha.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def derivative(self, alpha, beta, out=None):
        """The Jacobian's diagonal ∂β_k/∂α_k = β_k(1 − β_k) (the full Jacobian is used in
        `backward`)."""
        out = np.subtract(1.0, beta, out=out)
        return np.multiply(out, beta, out=out)

    def backward(self, dE_dbeta, alpha, beta, out, scratch):
        # δ_k = β_k (g_k − Σ_j g_j β_j): the Jacobian-vector product of softmax.
        np.multiply(dE_dbeta, beta, out=scratch)
        weighted = scratch.sum(axis=1, keepdims=True)
        np.subtract(dE_dbeta, weighted, out=out)
        return np.multiply(out, beta, out=out)


ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "linear": Linear,
    "softmax": Softmax,
}


def get_activation(name: str) -> Activation:
    from .errors import ConfigError
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}") from None
