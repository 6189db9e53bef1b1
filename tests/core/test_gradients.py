"""Backpropagation against central finite differences, over every parameter, for every
activation × loss pair the engine accepts, depths 1 to 4.

Central differences with h = 1e-5 in float64 are accurate to ~1e-9 relative here, while a
wrong derivative (a missing factor, a wrong sign, a swapped index) is off by tens of
percent, so the tolerance below separates the two by orders of magnitude (the broken
sigmoid test shows it catches a real mistake).  ReLU kinks: an example whose net input α
at a ReLU-type layer lies within KINK_MARGIN of 0 is rejected, since a finite difference
straddling the kink measures neither one-sided derivative.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core import Network

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
REGRESSION_LOSSES = ["half_sse", "sse", "mse"]
OUTPUTS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"]
# (loss, output activation, target kind): every pair the engine accepts.
PAIRS = ([(loss, out, "real") for loss in REGRESSION_LOSSES for out in OUTPUTS]
         + [("cross_entropy", "softmax", "onehot"), ("cross_entropy", "softmax", "index"),
            ("binary_cross_entropy", "sigmoid", "binary")])
PAIR_IDS = [f"{loss}-{out}-{kind}" for loss, out, kind in PAIRS]

H = 1e-5
KINK_MARGIN = 1e-3
RTOL = 1e-6


def targets(kind, n, k, rng):
    if kind == "real":
        return rng.standard_normal((n, k))
    if kind == "onehot":
        return np.eye(k)[rng.randint(k, size=n)]
    if kind == "index":
        return rng.randint(k, size=n)
    return rng.randint(2, size=(n, k)).astype(float)


def make_case(sizes, hidden_acts, out, kind, seed, n):
    rng = np.random.RandomState(seed)
    net = Network(sizes, [*hidden_acts, out], init="normal:0.8", seed=seed)
    X = rng.standard_normal((n, sizes[0]))
    Y = targets(kind, n, sizes[-1], rng)
    return net, X, Y


def central_differences(net, X, Y, loss):
    """∂E/∂w_k ≈ (E(w_k + h) − E(w_k − h)) / 2h for every k, on a copy of `net`."""
    probe = net.copy()
    grad = np.empty(probe.n_params)
    for k in range(probe.n_params):
        w = probe.params[k]
        probe.params[k] = w + H
        up = probe.loss(X, Y, loss)
        probe.params[k] = w - H
        down = probe.loss(X, Y, loss)
        probe.params[k] = w
        grad[k] = (up - down) / (2 * H)
    return grad


def near_kink(net, X):
    """True if some ReLU-type layer has a net input α within KINK_MARGIN of its kink."""
    p = net.forward_backward(X, np.zeros((X.shape[0], net.sizes[-1])), "sse")
    return any(name in ("relu", "leaky_relu") and np.min(np.abs(alpha)) < KINK_MARGIN
               for name, alpha in zip(net.activation_names, p.alphas))


def assert_gradients_match(net, X, Y, loss):
    E, grads = net.loss_and_gradients(X, Y, loss)
    numeric = central_differences(net, X, Y, loss)
    scale = max(np.max(np.abs(numeric)), 1e-3 * max(abs(E), 1e-3))
    error = np.max(np.abs(grads.flat - numeric))
    assert error <= RTOL * scale, (
        f"{net.describe()}, {loss}: max |backprop − finite difference| = {error:.3g} "
        f"(scale {scale:.3g}) at w{np.argmax(np.abs(grads.flat - numeric)) + 1}")


def hidden_pattern(first, depth):
    """`depth − 1` hidden activations starting at `first` and cycling through the rest,
    so deeper nets mix activations."""
    i = HIDDEN.index(first)
    return [HIDDEN[(i + j) % len(HIDDEN)] for j in range(depth - 1)]


@pytest.mark.parametrize("loss, out, kind", PAIRS, ids=PAIR_IDS)
def test_backprop_matches_finite_differences_for_every_hidden_activation_and_depth(loss, out, kind):
    """Every pair × every hidden activation × depths 1..4 (each depth with a mix)."""
    checked = 0
    for depth in range(1, 5):
        for first in (HIDDEN if depth > 1 else HIDDEN[:1]):
            for seed in range(20):   # the first seed whose α stays clear of every kink
                sizes = [3, *([4] * (depth - 1)), 3]
                net, X, Y = make_case(sizes, hidden_pattern(first, depth), out, kind, seed, n=5)
                if not near_kink(net, X):
                    break
            else:
                pytest.fail(f"no kink-free example for {sizes}")
            assert_gradients_match(net, X, Y, loss)
            checked += 1
    assert checked == 1 + 3 * len(HIDDEN)


@st.composite
def networks(draw, out, kind):
    depth = draw(st.integers(1, 4))
    n_in = draw(st.integers(1, 4))
    n_out = draw(st.integers(2 if out == "softmax" else 1, 4))
    hidden_sizes = draw(st.lists(st.integers(1, 5), min_size=depth - 1, max_size=depth - 1))
    hidden_acts = draw(st.lists(st.sampled_from(HIDDEN), min_size=depth - 1, max_size=depth - 1))
    seed = draw(st.integers(0, 2**31 - 1))
    n = draw(st.integers(1, 6))
    return make_case([n_in, *hidden_sizes, n_out], hidden_acts, out, kind, seed, n)


@pytest.mark.parametrize("loss, out, kind", PAIRS, ids=PAIR_IDS)
def test_backprop_matches_finite_differences_for_random_shapes(loss, out, kind):
    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(networks(out, kind))
    def check(case):
        net, X, Y = case
        assume(not near_kink(net, X))
        assert_gradients_match(net, X, Y, loss)

    check()


def test_the_gradient_check_catches_a_broken_sigmoid_derivative():
    """The same check fails when the sigmoid derivative forgets its (1 − β) factor: the
    tolerance is tight enough to mean something."""
    net, X, Y = make_case([2, 5, 1], ["sigmoid"], "sigmoid", "real", seed=0, n=10)
    assert_gradients_match(net, X, Y, "half_sse")
    net.set_broken_sigmoid_derivative(True)
    with pytest.raises(AssertionError, match="finite difference"):
        assert_gradients_match(net, X, Y, "half_sse")


def test_class_index_targets_give_the_same_gradients_as_one_hot():
    net, X, labels = make_case([3, 4, 3], ["tanh"], "softmax", "index", seed=3, n=6)
    E_index, g_index = net.loss_and_gradients(X, labels, "cross_entropy")
    E_onehot, g_onehot = net.loss_and_gradients(X, np.eye(3)[labels], "cross_entropy")
    assert E_index == E_onehot
    np.testing.assert_array_equal(g_index.flat, g_onehot.flat)


def test_gradient_views_follow_the_numbering():
    """grads.weights[l] / grads.biases[l] are the flat gradient's [b; W] blocks."""
    net, X, Y = make_case([3, 4, 2, 2], ["tanh", "sigmoid"], "linear", "real", seed=1, n=4)
    _, g = net.loss_and_gradients(X, Y, "sse")
    start = 0
    for l, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        block = g.flat[start:start + (fan_in + 1) * fan_out].reshape(fan_in + 1, fan_out)
        np.testing.assert_array_equal(g.biases[l], block[0])
        np.testing.assert_array_equal(g.weights[l], block[1:])
        assert g.weights[l].shape == net.weights[l].shape
        start += block.size
    assert start == g.flat.size == net.n_params


@pytest.mark.parametrize("loss, out, kind", PAIRS, ids=PAIR_IDS)
def test_float32_networks_give_gradients_close_to_float64(loss, out, kind):
    sizes = [3, 5, 4, 3]
    net64, X, Y = make_case(sizes, ["tanh", "leaky_relu"], out, kind, seed=5, n=8)
    net32 = Network(sizes, net64.activation_names, init="normal:0.8", seed=5, dtype=np.float32)
    net64.set_params(net32.params.astype(np.float64))   # the same (float32-exact) weights
    E32, g32 = net32.loss_and_gradients(X.astype(np.float32), Y, loss)
    E64, g64 = net64.loss_and_gradients(X, Y, loss)
    assert net32.params.dtype == g32.flat.dtype == np.float32
    assert net32.predict(X).dtype == np.float32
    assert E32 == pytest.approx(E64, rel=1e-5, abs=1e-6)
    assert np.max(np.abs(g32.flat - g64.flat)) <= 1e-4 * max(np.max(np.abs(g64.flat)), 1e-6)
