"""The lecture's rule "check your derivatives!" as a table.

For every parameter w_k: the analytic gradient (the engine's backward pass), a central
difference (E(w_k + h) − E(w_k − h)) / 2h, and their relative error.  The lecture asserts
`check_grad(f, g, p) < 1e-6`; we check each parameter on its own, so the worst one can be
pointed at.

A relative error needs a guard near zero: a central difference cannot resolve a gradient
much smaller than its own rounding noise, about ε·|E|/h.  Differences below that noise are
not errors, so the denominator is never smaller than the noise divided by the threshold.

The check runs on a float64 twin of the network (a float32 finite difference is noise) with
the same "broken σ′" setting, so the teaching switch makes it fail visibly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import check_compatible, get_loss

DEFAULT_STEP = 1e-5         # h: ε^(1/3) ≈ 6e-6 balances truncation against rounding
DEFAULT_THRESHOLD = 1e-6    # the lecture's bound
NOISE_SAFETY = 100.0        # rounding in E is a sum of many terms; stay well clear of it


@dataclass(frozen=True)
class GradCheckResult:
    names: tuple            # "w1", "w2", ...
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray
    loss: float
    step: float
    threshold: float
    noise_floor: float      # the smallest |gradient| the check can resolve
    broken_derivative: bool

    @property
    def worst(self) -> int:
        """Index of the parameter with the largest relative error."""
        return int(np.argmax(self.rel_error))

    @property
    def passed(self) -> bool:
        return bool(np.all(self.rel_error < self.threshold))

    @property
    def failures(self) -> int:
        return int(np.count_nonzero(self.rel_error >= self.threshold))

    @property
    def difference_norm(self) -> float:
        """‖analytic − numeric‖₂, the number scipy's check_grad returns in the lecture."""
        return float(np.linalg.norm(self.analytic - self.numeric))

    def rows(self):
        """(name, analytic, numeric, relative error) per parameter."""
        return list(zip(self.names, self.analytic.tolist(), self.numeric.tolist(),
                        self.rel_error.tolist()))

    def summary(self) -> str:
        w = self.worst
        verdict = "PASS" if self.passed else f"FAIL ({self.failures} of {len(self.names)} parameters)"
        return (f"{verdict}: worst relative error {self.rel_error[w]:.2e} at {self.names[w]} "
                f"(threshold {self.threshold:.0e}); ‖analytic − numeric‖ = "
                f"{self.difference_norm:.2e}")


def gradient_check(net, X, Y, loss="half_sse", step: float = DEFAULT_STEP,
                   threshold: float = DEFAULT_THRESHOLD) -> GradCheckResult:
    """Compare the engine's gradient with central differences for every parameter of `net`
    at its current weights (the network itself is not changed)."""
    from .network import Network
    loss = get_loss(loss)
    check_compatible(loss, net.activation_names[-1])
    twin = Network(net.sizes, net.activation_names, init=net.init, seed=net.seed,
                   dtype=np.float64)
    twin.set_params(net.params.astype(np.float64))
    twin.set_broken_sigmoid_derivative(net.broken_sigmoid_derivative)
    X = twin._as_inputs(X)
    Y = twin.targets_for(Y, X.shape[0])

    E, grads = twin.loss_and_gradients(X, Y, loss)
    analytic = grads.flat.copy()
    numeric = np.empty_like(analytic)
    params = twin.params
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(params.size):
            original = params[k]
            params[k] = original + step
            upper = twin.loss(X, Y, loss)
            params[k] = original - step
            lower = twin.loss(X, Y, loss)
            params[k] = original
            numeric[k] = (upper - lower) / (2.0 * step)

    noise = NOISE_SAFETY * np.finfo(np.float64).eps * max(abs(E), np.finfo(np.float64).tiny) / step
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), noise / threshold)
    rel_error = np.abs(analytic - numeric) / scale
    rel_error[~np.isfinite(rel_error)] = np.inf
    return GradCheckResult(
        names=tuple(f"w{k + 1}" for k in range(params.size)), analytic=analytic,
        numeric=numeric, rel_error=rel_error, loss=float(E), step=step, threshold=threshold,
        noise_floor=float(noise / threshold), broken_derivative=net.broken_sigmoid_derivative)
