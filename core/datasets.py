"""Data sets: the lecture's ten houses and seeded toy problems.

A Dataset holds X and Y as the network sees them (standardised where that applies) and
the transform back, so predictions can be shown in the original units (dollars).
Standardisation is the lecture's: (v − mean) / std with numpy's population std.
"""
from __future__ import annotations

import csv
import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError

DATASET_DIR = Path(__file__).resolve().parent.parent / "resources" / "datasets"


@dataclass
class Dataset:
    name: str
    X: np.ndarray                      # (n, D) as the network sees it
    Y: np.ndarray                      # (n, K) targets, or (n, 1) class indices
    feature_names: list
    target_names: list
    task: str = "regression"           # or "classification"
    classes: list | None = None
    x_mean: np.ndarray | None = None   # transform: x = (x* − x_mean) / x_std
    x_std: np.ndarray | None = None
    y_mean: np.ndarray | None = None
    y_std: np.ndarray | None = None
    X_test: np.ndarray | None = None
    Y_test: np.ndarray | None = None
    units: dict = field(default_factory=dict)   # e.g. {"sold_price": "$"}

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" and len(self.classes) > 2 \
            else self.Y.shape[1]

    def y_to_original(self, y):
        y = np.asarray(y, dtype=float)
        return y if self.y_mean is None else y * self.y_std + self.y_mean

    def x_to_original(self, x):
        x = np.asarray(x, dtype=float)
        return x if self.x_mean is None else x * self.x_std + self.x_mean

    def x_from_original(self, x):
        x = np.asarray(x, dtype=float)
        return x if self.x_mean is None else (x - self.x_mean) / self.x_std


def standardise(values: np.ndarray):
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(std > 0, std, 1.0)   # a constant column stays constant, not NaN
    return (values - mean) / std, mean, std


def house_prices() -> Dataset:
    """The lecture's ten houses, inputs and target standardised."""
    path = DATASET_DIR / "house_prices.csv"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    X_raw, Y_raw = body[:, :2], body[:, 2:3]
    x, x_mean, x_std = standardise(X_raw)
    y, y_mean, y_std = standardise(Y_raw)
    return Dataset("house_prices", x, y, header[:2], header[2:], "regression",
                   x_mean=x_mean, x_std=x_std, y_mean=y_mean, y_std=y_std,
                   units={"sold_price": "$"})


def _classification(name, points, labels, standardise_inputs=True) -> Dataset:
    x, mean, std = standardise(points) if standardise_inputs else (points, None, None)
    return Dataset(name, x, labels.reshape(-1, 1).astype(float), ["x1", "x2"], ["class"],
                   "classification", classes=[str(c) for c in range(int(labels.max()) + 1)],
                   x_mean=mean, x_std=std)


def xor(n=200, noise=0.1, seed=0) -> Dataset:
    rng = np.random.RandomState(seed)
    points = rng.uniform(-1, 1, (n, 2))
    labels = ((points[:, 0] > 0) ^ (points[:, 1] > 0)).astype(int)
    points = points + rng.normal(0, noise, points.shape)
    return _classification("xor", points, labels)


def circles(n=200, noise=0.1, factor=0.5, seed=0) -> Dataset:
    rng = np.random.RandomState(seed)
    labels = np.arange(n) % 2
    angle = rng.uniform(0, 2 * math.pi, n)
    radius = np.where(labels == 1, factor, 1.0)
    points = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    points = points + rng.normal(0, noise, points.shape)
    return _classification("circles", points, labels)


def moons(n=200, noise=0.1, seed=0) -> Dataset:
    rng = np.random.RandomState(seed)
    labels = np.arange(n) % 2
    t = rng.uniform(0, math.pi, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    points = np.where(labels[:, None] == 0, upper, lower) + rng.normal(0, noise, (n, 2))
    return _classification("moons", points, labels)


def spirals(n=300, noise=0.1, classes=3, seed=0) -> Dataset:
    rng = np.random.RandomState(seed)
    labels = np.arange(n) % classes
    r = rng.uniform(0.05, 1, n)
    theta = labels * 2 * math.pi / classes + r * 4 + rng.normal(0, noise, n)
    points = np.c_[r * np.cos(theta), r * np.sin(theta)]
    return _classification("spirals", points, labels)


def sine(n=100, noise=0.1, seed=0) -> Dataset:
    rng = np.random.RandomState(seed)
    xs = np.sort(rng.uniform(-math.pi, math.pi, n)).reshape(-1, 1)
    ys = np.sin(xs) + rng.normal(0, noise, xs.shape)
    x, x_mean, x_std = standardise(xs)
    y, y_mean, y_std = standardise(ys)
    return Dataset("sine", x, y, ["x"], ["y"], "regression",
                   x_mean=x_mean, x_std=x_std, y_mean=y_mean, y_std=y_std)


GENERATORS = {"house_prices": house_prices, "xor": xor, "circles": circles,
              "moons": moons, "spirals": spirals, "sine": sine}


# What each generator's parameters may be: (check, what it must be).
_PARAMETER_RULES = {
    "n": (lambda v: _whole(v) and 2 <= v <= 10_000_000, "a whole number from 2 to 10 000 000"),
    "classes": (lambda v: _whole(v) and 2 <= v <= 100, "a whole number from 2 to 100"),
    "seed": (lambda v: _whole(v) and 0 <= v < 2 ** 32, "a whole number from 0 to 2³² − 1"),
    "noise": (lambda v: _real(v) and 0 <= v <= 100, "a number from 0 to 100"),
    "factor": (lambda v: _real(v) and 0 < v < 1, "a number between 0 and 1"),
}


def _whole(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _real(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v)


def generator_parameters(name: str) -> tuple[str, ...]:
    """The parameters dataset `name` takes (beside its name)."""
    return tuple(inspect.signature(GENERATORS[name]).parameters)


def load_dataset(name: str, **params) -> Dataset:
    """A generated data set; every parameter is checked first, so a bad one is named
    (not turned into warnings, NaN data or an empty set)."""
    try:
        make = GENERATORS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r}; choose from {', '.join(GENERATORS)}") from None
    known = generator_parameters(name)
    for key, value in params.items():
        if key not in known:
            takes = f"takes {', '.join(known)}" if known else "takes no parameters"
            raise ConfigError(f"dataset {name!r} has no parameter {key!r} (it {takes})")
        check, rule = _PARAMETER_RULES[key]
        if not check(value):
            raise ConfigError(f"dataset {name!r}: {key} must be {rule}, not {value!r}")
    return make(**params)


def split(dataset: Dataset, test_fraction: float, seed: int = 0) -> Dataset:
    """Move a seeded `test_fraction` of the samples to X_test / Y_test."""
    if not 0 < test_fraction < 1:
        return dataset
    n = dataset.n_samples
    order = np.random.RandomState(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    if n_test >= n:
        raise ConfigError(f"a test fraction of {test_fraction:g} leaves none of the {n} samples "
                          "to train on")
    test, train = order[:n_test], order[n_test:]
    from dataclasses import replace
    return replace(dataset, X=dataset.X[train], Y=dataset.Y[train],
                   X_test=dataset.X[test], Y_test=dataset.Y[test])
