"""The multilayer perceptron, in the lecture's terms.

For layer l (0-based, l = 0 .. L−1) with input β_{l−1} (β_{−1} = x):
    α_l = β_{l−1} W_l + b_l          net input
    β_l = f_l(α_l)                   output
and backwards, with δ_l = ∂E/∂α_l:
    ∂E/∂W_l = β_{l−1}ᵀ δ_l,  ∂E/∂b_l = Σ_samples δ_l
    δ_{l−1} = (δ_l W_lᵀ) ⊙ f'_{l−1}(α_{l−1})

All parameters live in one flat vector in the lecture's w-numbering order; `weights[l]`
and `biases[l]` are views into it.  That keeps optimiser steps to a couple of numpy calls
and makes w_k simply `params[k − 1]`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .errors import ConfigError
from .init import init_block, parse_init
from .losses import Loss, check_compatible, get_loss
from .numbering import layer_offsets


# 50 million parameters: 400 MB a copy in float64, and the trainer keeps several copies.
MAX_PARAMS = 50_000_000
MAX_SEED = 2 ** 32 - 1      # what numpy's RandomState (the lecture's np.random.seed) takes


def check_seed(seed) -> int:
    """A random seed as numpy takes it, or ConfigError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}")
    return int(seed)


class ParameterList(list):
    """A list of views into the flat parameter vector.  Assigning `weights[l] = A` copies A
    into the view (so the flat vector, the optimiser and the GUI all see it)."""

    def __setitem__(self, index, value):
        view = list.__getitem__(self, index)
        value = np.asarray(value, dtype=view.dtype)
        if value.shape != view.shape:
            raise ConfigError(f"shape {value.shape} does not fit a parameter of shape {view.shape}")
        view[...] = value


def param_blocks(flat: np.ndarray, sizes) -> list:
    """Each layer's [b; W] block, (fan_in + 1, fan_out), as a view into `flat`."""
    offsets = layer_offsets(sizes)
    return [flat[offsets[l]:offsets[l + 1]].reshape(fan_in + 1, fan_out)
            for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))]


def _layer_views(flat: np.ndarray, sizes):
    offsets = layer_offsets(sizes)
    weights, biases = ParameterList(), ParameterList()
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        block = flat[offsets[l]:offsets[l + 1]].reshape(fan_in + 1, fan_out)
        biases.append(block[0])
        weights.append(block[1:])
    return weights, biases


@dataclass
class Gradients:
    """∂E/∂W_l and ∂E/∂b_l per layer (views into `flat`, in w-numbering order)."""
    flat: np.ndarray
    weights: list
    biases: list

    @classmethod
    def from_flat(cls, flat, sizes):
        weights, biases = _layer_views(flat, sizes)
        return cls(flat, list(weights), list(biases))


@dataclass
class Pass:
    """Everything one forward + backward pass computed, for display and explanation."""
    inputs: np.ndarray    # x, (n, D)
    alphas: list          # α_l, (n, size_l)
    betas: list           # β_l
    deltas: list          # δ_l = ∂E/∂α_l
    loss: float
    gradients: Gradients


class Workspace:
    """Preallocated buffers for one batch size, so a training step allocates nothing.

    Stored one column per sample, each layer's input with a row of ones on top — the
    lecture's "1 for the bias" column, as a row: inputs[l] = [1; β_{l−1}ᵀ].  Then
        α_lᵀ = [b; W]_lᵀ · [1; β_{l−1}ᵀ]      and      ∂E/∂[b; W]_l = [1; β_{l−1}ᵀ] · δ_l
    are one BLAS call each on the layer's contiguous parameter block: no broadcast bias add
    and no separate Σδ for ∂E/∂b (a fifth of the lecture net's step).  `alphas`, `betas`,
    `deltas` and `dE_dbeta` are (n, size) views of those buffers, in the lecture's
    orientation, so everything outside the hot path reads them as before."""

    def __init__(self, net: "Network", n: int):
        dt, sizes = net.dtype, net.sizes
        L = len(sizes) - 1
        self.n = n
        self.inputs = [np.empty((k + 1, n), dt) for k in sizes[:-1]]
        for rows in self.inputs:
            rows[0] = 1.0
        self.betas_T = [self.inputs[l + 1][1:] for l in range(L - 1)] + \
            [np.empty((sizes[-1], n), dt)]
        self.alphas_T = [np.empty((k, n), dt) for k in sizes[1:]]
        self.dE_dbeta_T = [np.empty((k, n), dt) for k in sizes[1:]]
        self.deltas_T = [np.empty((k, n), dt) for k in sizes[1:]]
        scratch_T = [np.empty((k, n), dt) for k in sizes[1:]]
        self.alphas = [a.T for a in self.alphas_T]
        self.betas = [b.T for b in self.betas_T]
        self.deltas = [d.T for d in self.deltas_T]
        self.dE_dbeta = [g.T for g in self.dE_dbeta_T]
        self.scratch = [s.T for s in scratch_T]
        # A linear layer's β is its α and its δ its ∂E/∂β: sharing the buffers (the same
        # view objects, which Linear recognises) saves two copies a step.
        for l, name in enumerate(net.activation_names):
            if name == "linear":
                self.alphas_T[l], self.alphas[l] = self.betas_T[l], self.betas[l]
                self.deltas_T[l], self.deltas[l] = self.dE_dbeta_T[l], self.dE_dbeta[l]

    def load(self, X: np.ndarray):
        """Put the batch's inputs x under the row of ones."""
        np.copyto(self.inputs[0][1:], X.T)
        self.source = X

    def ensure_loaded(self, X: np.ndarray):
        """load(X) unless X (the same array, not changed since: a trainer's data set) is
        what the buffer holds — a transposed copy of a big data set costs a tenth of a
        second a time."""
        if getattr(self, "source", None) is not X:
            self.load(X)


class Network:
    def __init__(self, sizes, activations, init="normal", seed=0, dtype=np.float64):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ConfigError(f"sizes {sizes}: need at least an input and an output layer, "
                              "each with one or more neurons")
        if isinstance(activations, str):
            activations = [activations] * (len(sizes) - 1)
        activations = list(activations)
        if len(activations) != len(sizes) - 1:
            raise ConfigError(f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, "
                              f"got {len(activations)}")
        for i, name in enumerate(activations):
            if name not in ACTIVATIONS:
                raise ConfigError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
            if name == "softmax" and i != len(activations) - 1:
                raise ConfigError("softmax is only allowed on the last layer")
        if activations[-1] == "softmax" and sizes[-1] < 2:
            # A softmax over one output is the constant 1: it would "learn" nothing.
            raise ConfigError("a softmax output layer needs at least 2 neurons "
                              "(for two classes use one sigmoid output)")
        parse_init(init)
        self.sizes = sizes
        self.activation_names = activations
        self.activations = [get_activation(a) for a in activations]
        self.init = str(init)
        self.seed = check_seed(seed)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, not {self.dtype}")
        n_params = layer_offsets(sizes)[-1]
        if n_params > MAX_PARAMS:
            raise ConfigError(f"sizes {'-'.join(map(str, sizes))} need {n_params:,} parameters; "
                              f"this app draws and trains at most {MAX_PARAMS:,}")
        self.params = np.empty(n_params, self.dtype)
        self.weights, self.biases = _layer_views(self.params, sizes)
        self.blocks = param_blocks(self.params, sizes)
        self.reinitialise(seed)

    # -- structure -------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        return self.params.size

    def reinitialise(self, seed=None):
        """Draw fresh initial weights (the same ones for the same seed)."""
        if seed is not None:
            self.seed = check_seed(seed)
        rng = np.random.RandomState(self.seed)
        offsets = layer_offsets(self.sizes)
        for l, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            self.params[offsets[l]:offsets[l + 1]] = init_block(self.init, fan_in, fan_out, rng).ravel()

    def set_params(self, flat):
        flat = np.asarray(flat, dtype=self.dtype)
        if flat.shape != self.params.shape:
            raise ConfigError(f"expected {self.params.size} parameters, got {flat.size}")
        np.copyto(self.params, flat)

    def copy(self) -> "Network":
        twin = Network.__new__(Network)
        twin.__dict__.update(self.__dict__)
        twin.activations = [get_activation(a) for a in self.activation_names]
        twin.params = self.params.copy()
        twin.weights, twin.biases = _layer_views(twin.params, self.sizes)
        twin.blocks = param_blocks(twin.params, self.sizes)
        return twin

    def set_broken_sigmoid_derivative(self, broken: bool):
        """For teaching the gradient check: every sigmoid layer's derivative drops its
        (1 − β) factor (forward pass unchanged)."""
        from .activations import BrokenSigmoid, Sigmoid
        self.activations = [
            (BrokenSigmoid() if broken else Sigmoid()) if name == "sigmoid" else act
            for name, act in zip(self.activation_names, self.activations)]

    @property
    def broken_sigmoid_derivative(self) -> bool:
        from .activations import BrokenSigmoid
        return any(isinstance(a, BrokenSigmoid) for a in self.activations)

    def describe(self) -> str:
        arch = "-".join(map(str, self.sizes))
        return f"{arch} ({', '.join(self.activation_names)}), init {self.init}, seed {self.seed}"

    # -- the passes ------------------------------------------------------------------
    def _as_inputs(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim == 1:
            X = X.reshape(1, -1) if self.sizes[0] != 1 or X.size == 1 else X.reshape(-1, 1)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ConfigError(f"inputs of shape {X.shape} do not fit {self.sizes[0]} input neurons")
        return X

    def targets_for(self, Y, n: int) -> np.ndarray:
        """Targets as an (n, outputs) array; class indices become one-hot rows."""
        Y = np.asarray(Y)
        k = self.sizes[-1]
        if k > 1 and (Y.ndim == 1 or (Y.ndim == 2 and Y.shape[1] == 1)) and Y.size == n:
            labels = Y.reshape(-1)
            if not np.all(np.equal(np.mod(labels, 1), 0)) or labels.min() < 0 or labels.max() >= k:
                raise ConfigError(f"class-index targets must be whole numbers 0..{k - 1}")
            onehot = np.zeros((n, k), self.dtype)
            onehot[np.arange(n), labels.astype(int)] = 1.0
            return onehot
        Y = np.asarray(Y, dtype=self.dtype).reshape(n, -1) if Y.size == n * k else Y
        if Y.shape != (n, k):
            raise ConfigError(f"targets of shape {Y.shape} do not fit {n} samples × {k} outputs")
        return Y

    def forward_into(self, X, ws: Workspace) -> np.ndarray:
        ws.load(X)
        return self.forward_loaded(ws)

    def forward_loaded(self, ws: Workspace) -> np.ndarray:
        """The forward pass on the inputs already in ws (see Workspace.load)."""
        # np.dot, not np.matmul: the same BLAS call at a third of the overhead on the
        # lecture's tiny matrices.
        blocks, acts = self.blocks, self.activations
        for l in range(len(blocks)):
            np.dot(blocks[l].T, ws.inputs[l], out=ws.alphas_T[l])
            acts[l].forward(ws.alphas[l], ws.betas[l])
        return ws.betas[-1]

    def forward_backward_into(self, X, Y, loss: Loss, ws: Workspace, grad_blocks) -> float:
        """The training step's hot path: forward, E, backward into preallocated buffers.
        `grad_blocks` are the [b; W] blocks of the flat gradient vector (param_blocks)."""
        ws.load(X)
        return self.forward_backward_loaded(Y, loss, ws, grad_blocks)

    def forward_backward_loaded(self, Y, loss: Loss, ws: Workspace, grad_blocks) -> float:
        """forward_backward_into on the inputs already in ws."""
        acts, weights = self.activations, self.weights
        self.forward_loaded(ws)
        E = loss.forward_backward(ws.alphas[-1], ws.betas[-1], Y, acts[-1],
                                  ws.deltas[-1], ws.dE_dbeta[-1], ws.scratch[-1])
        for l in range(len(grad_blocks) - 1, -1, -1):
            # ∂E/∂[b; W] = [1; β_{l−1}ᵀ]·δ_l, then ∂E/∂β_{l−1} = (W δ_lᵀ)ᵀ and δ_{l−1}.
            np.dot(ws.inputs[l], ws.deltas[l], out=grad_blocks[l])
            if l:
                np.dot(weights[l], ws.deltas_T[l], out=ws.dE_dbeta_T[l - 1])
                acts[l - 1].backward(ws.dE_dbeta[l - 1], ws.alphas[l - 1], ws.betas[l - 1],
                                     ws.deltas[l - 1], ws.scratch[l - 1])
        return E

    def predict(self, X) -> np.ndarray:
        X = self._as_inputs(X)
        return self.forward_into(X, Workspace(self, X.shape[0])).copy()

    def forward_backward(self, X, Y, loss="half_sse") -> Pass:
        """One full pass with every intermediate quantity returned (fresh arrays)."""
        loss = get_loss(loss)
        check_compatible(loss, self.activation_names[-1])
        X = self._as_inputs(X)
        Y = self.targets_for(Y, X.shape[0])
        ws = Workspace(self, X.shape[0])
        grads = Gradients.from_flat(np.empty_like(self.params), self.sizes)
        E = self.forward_backward_into(X, Y, loss, ws, param_blocks(grads.flat, self.sizes))
        return Pass(X, ws.alphas, ws.betas, ws.deltas, E, grads)

    def loss_and_gradients(self, X, Y, loss="half_sse"):
        p = self.forward_backward(X, Y, loss)
        return p.loss, p.gradients

    def loss(self, X, Y, loss="half_sse") -> float:
        loss = get_loss(loss)
        X = self._as_inputs(X)
        Y = self.targets_for(Y, X.shape[0])
        ws = Workspace(self, X.shape[0])
        self.forward_into(X, ws)
        return loss.value(ws.alphas[-1], ws.betas[-1], Y)
