"""The lecture's "check your derivatives!": correct gradients pass, the deliberately broken
σ′ fails visibly, and switching it off passes again."""
import numpy as np
import pytest

from core import Network, load_scenario
from core.gradcheck import gradient_check


@pytest.fixture()
def lecture():
    sc = load_scenario("lecture-house-prices", seed=0)
    return sc.network, sc.X, sc.Y, sc.loss


def test_lecture_network_passes_fails_when_broken_and_passes_again(lecture):
    net, X, Y, loss = lecture
    good = gradient_check(net, X, Y, loss)
    assert good.passed and good.rel_error.max() < 1e-6
    assert good.difference_norm < 1e-6               # the lecture's own assertion
    net.set_broken_sigmoid_derivative(True)
    broken = gradient_check(net, X, Y, loss)
    assert not broken.passed and broken.broken_derivative
    assert broken.failures == 21                     # both layers are sigmoid: every w is wrong
    assert broken.rel_error[broken.worst] == broken.rel_error.max() > 1e-2
    assert "FAIL" in broken.summary() and broken.names[broken.worst] in broken.summary()
    net.set_broken_sigmoid_derivative(False)
    again = gradient_check(net, X, Y, loss)
    assert again.passed
    assert np.array_equal(again.analytic, good.analytic)


def test_the_check_leaves_the_network_untouched(lecture):
    net, X, Y, loss = lecture
    before = net.params.copy()
    gradient_check(net, X, Y, loss)
    assert np.array_equal(net.params, before)


def test_numeric_estimates_are_central_differences(lecture):
    net, X, Y, loss = lecture
    result = gradient_check(net, X, Y, loss)
    k, h = 16, result.step
    plus, minus = net.copy(), net.copy()
    plus.params[k] += h
    minus.params[k] -= h
    expected = (plus.loss(X, Y, loss) - minus.loss(X, Y, loss)) / (2 * h)
    assert result.numeric[k] == pytest.approx(expected, rel=1e-9)
    assert result.analytic[k] == net.forward_backward(X, Y, loss).gradients.flat[k]


@pytest.mark.parametrize("activations, loss, K", [
    (["tanh", "relu", "sigmoid", "linear"], "mse", 2),
    (["sigmoid", "tanh", "leaky_relu", "softmax"], "cross_entropy", 3),
    (["sigmoid", "sigmoid", "sigmoid", "sigmoid"], "sse", 1)])
def test_deep_networks_pass_and_broken_sigmoids_fail(activations, loss, K):
    rng = np.random.RandomState(0)
    net = Network([3, 6, 5, 4, K], activations, seed=1)
    X = rng.randn(12, 3)
    Y = rng.randint(0, K, 12) if loss == "cross_entropy" else rng.rand(12, K)
    assert gradient_check(net, X, Y, loss).passed
    net.set_broken_sigmoid_derivative(True)
    assert not gradient_check(net, X, Y, loss).passed


def test_float32_networks_are_checked_in_float64(lecture):
    net, X, Y, loss = lecture
    single = Network(net.sizes, net.activation_names, seed=0, dtype=np.float32)
    result = gradient_check(single, X, Y, loss)
    assert result.analytic.dtype == np.float64 and result.passed
