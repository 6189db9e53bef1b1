"""Weight initialisers.  Each fills one layer's [b; W] block, shape (fan_in + 1, fan_out),
in the lecture's numbering order (row-major), from a legacy `RandomState`: its stream is
frozen by numpy, so the same seed gives the same numbers on every machine and version.
With `normal`, seed S reproduces the lecture's `np.random.seed(S)` followed by its
`np.random.randn` calls exactly (w1..w5, w6..w10, w11..w15, w16..w21).
"""
from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError

INIT_NAMES = ("normal", "normal:STD", "uniform", "uniform:A", "xavier", "he", "pytorch")


def parse_init(spec: str) -> tuple[str, float | None]:
    name, _, arg = str(spec).partition(":")
    if name not in ("normal", "uniform", "xavier", "he", "pytorch"):
        raise ConfigError(f"unknown init {spec!r}; choose from {', '.join(INIT_NAMES)}")
    if not arg:
        return name, None
    if name not in ("normal", "uniform"):
        raise ConfigError(f"init {name!r} takes no ':' parameter (got {spec!r})")
    try:
        value = float(arg)
    except ValueError:
        raise ConfigError(f"init {spec!r}: {arg!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"init {spec!r}: the scale must be a positive number")
    return name, value


def init_block(spec: str, fan_in: int, fan_out: int, rng: np.random.RandomState) -> np.ndarray:
    """Return the (fan_in + 1, fan_out) block [b; W] for one layer."""
    name, arg = parse_init(spec)
    shape = (fan_in + 1, fan_out)
    if name == "normal":
        return rng.standard_normal(shape) * (1.0 if arg is None else arg)
    if name == "uniform":
        a = 1.0 if arg is None else arg
        return rng.uniform(-a, a, shape)
    if name == "pytorch":
        # torch.nn.Linear.reset_parameters: W and b ~ U(−1/√fan_in, 1/√fan_in).
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)
    block = np.zeros(shape)
    if name == "xavier":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        block[1:] = rng.uniform(-bound, bound, (fan_in, fan_out))
    else:  # he: N(0, 2/fan_in), the ReLU-preserving variance
        block[1:] = rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)
    return block
