"""The engine does exactly what the lecture writes: its data, its initialisation, its
gradient check, its hand-derived ∂E/∂w formulas and its 100 000-epoch numpy loop."""
import numpy as np
import pytest
from scipy.optimize import check_grad

from core import Network, load_scenario
from core.numbering import param_index, param_ref
from lecture_loop import lecture_loss, lecture_randn_weights, sigmoid, train_lecture_loop, x, y


@pytest.fixture
def lecture():
    return load_scenario("lecture-house-prices", seed=0)


def test_the_scenario_holds_the_lectures_standardised_houses(lecture):
    np.testing.assert_allclose(lecture.X, x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(lecture.Y, y, rtol=0, atol=1e-15)
    assert lecture.network.sizes == [2, 5, 1]
    assert lecture.network.activation_names == ["sigmoid", "sigmoid"]
    assert lecture.loss == "half_sse"
    assert lecture.config.optimizer.name == "sgd" and lecture.config.optimizer.lr == 1e-3
    assert lecture.config.batch_size is None and lecture.epochs == 100_000


@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
def test_normal_init_is_the_lectures_randn_calls_after_np_random_seed(seed):
    net = Network([2, 5, 1], ["sigmoid", "sigmoid"], init="normal", seed=seed)
    np.testing.assert_array_equal(net.params, lecture_randn_weights(seed))
    np.testing.assert_array_equal(load_scenario("lecture-house-prices", seed=seed).network.params,
                                  lecture_randn_weights(seed))


def test_engine_loss_is_the_lectures_E(lecture):
    for seed in range(5):
        p = np.random.RandomState(seed).normal(size=21)
        lecture.network.set_params(p)
        assert lecture.network.loss(x, y, "half_sse") == pytest.approx(lecture_loss(p, x, y),
                                                                       rel=1e-14)


def test_scipy_check_grad_passes_as_the_lecture_asserts(lecture):
    """The lecture: `assert 1e-6 > check_grad(f, g, np.random.normal(size=21))`, with f and
    g here evaluating the engine's loss and gradients at parameters p."""
    net = lecture.network

    def f(p):
        net.set_params(p)
        return net.loss(x, y, "half_sse")

    def g(p):
        net.set_params(p)
        return net.loss_and_gradients(x, y, "half_sse")[1].flat.copy()

    for seed in range(10):
        p = np.random.RandomState(seed).normal(size=21)
        assert check_grad(f, g, p) < 1e-6


def test_weight_and_bias_views_follow_the_lecture_numbering(lecture):
    """w1..w5 hidden biases, w6..w10 from x1, w11..w15 from x2, w16 output bias,
    w17..w21 from H1..H5; w_k = params[k − 1]."""
    net = lecture.network
    w = {k: net.params[k - 1] for k in range(1, 22)}
    np.testing.assert_array_equal(net.biases[0], [w[1], w[2], w[3], w[4], w[5]])
    np.testing.assert_array_equal(net.weights[0][0], [w[6], w[7], w[8], w[9], w[10]])
    np.testing.assert_array_equal(net.weights[0][1], [w[11], w[12], w[13], w[14], w[15]])
    np.testing.assert_array_equal(net.biases[1], [w[16]])
    np.testing.assert_array_equal(net.weights[1][:, 0], [w[17], w[18], w[19], w[20], w[21]])
    # The views write through to w_k.
    net.weights[1][2, 0] = 7.5
    assert net.params[19 - 1] == 7.5
    assert param_ref(net.sizes, 17 - 1).name == "w17" and param_index(net.sizes, 1, 1, 0) == 16


def test_the_lectures_hand_derived_gradients_equal_backprop(lecture):
    """∂E/∂w1, ∂E/∂w6, ∂E/∂w16, ∂E/∂w17 written as the lecture derives them."""
    net = lecture.network
    p = net.params
    w1, w6, w11, w16, w17 = p[0], p[5], p[10], p[15], p[16]
    beta_h = sigmoid(np.hstack([np.ones((10, 1)), x]) @ p[:15].reshape(3, 5))
    beta_o = sigmoid(np.hstack([np.ones((10, 1)), beta_h]) @ p[15:].reshape(6, 1))
    beta_O1, beta_H1, x1 = beta_o, beta_h[:, [0]], x[:, [0]]

    s = (beta_O1 - y) * beta_O1 * (1 - beta_O1)
    dE_dw17 = np.sum(s * beta_H1)
    dE_dw16 = np.sum(s)
    dE_dw6 = np.sum(s * w17 * beta_H1 * (1 - beta_H1) * x1)
    dE_dw1 = np.sum(s * w17 * beta_H1 * (1 - beta_H1))
    assert w1 == net.biases[0][0] and w6 == net.weights[0][0, 0] and w11 == net.weights[0][1, 0]

    _, grads = net.loss_and_gradients(x, y, "half_sse")
    for k, by_hand in ((1, dE_dw1), (6, dE_dw6), (16, dE_dw16), (17, dE_dw17)):
        assert grads.flat[k - 1] == pytest.approx(by_hand, rel=1e-12, abs=1e-15), f"w{k}"
    assert grads.biases[0][0] == grads.flat[0] and grads.weights[1][0, 0] == grads.flat[16]


def test_100000_epochs_reproduce_the_lectures_numpy_loop(lecture):
    """The lecture's loop (transcribed, tests/core/lecture_loop.py) and the Trainer, from
    the same initial weights: the same loss every epoch and the same final weights."""
    p0 = lecture_randn_weights(0)
    np.testing.assert_array_equal(lecture.network.params, p0)
    losses, w_final = train_lecture_loop(p0, x, y, num_epochs=100_000, eta=1e-3)

    trainer = lecture.make_trainer(log_every=10_000)
    assert trainer.run_epochs(100_000) == 100_000
    epochs, history = trainer.history.loss.arrays()
    np.testing.assert_array_equal(epochs, np.arange(100_000))
    assert trainer.history.loss.last() == pytest.approx(losses[-1], rel=0, abs=1e-9)
    assert np.max(np.abs(history - losses)) < 1e-9
    assert np.max(np.abs(trainer.net.params - w_final)) < 1e-9
    assert losses[-1] < 0.5 * losses[0]   # it did learn: not two equal idle runs
