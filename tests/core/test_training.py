"""The Trainer: optimiser steps with torch.optim's semantics, batching, divergence, exact
save/restore, bounded history, and numerical stability at extreme net inputs."""
import math

import numpy as np
import pytest

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario
from core.history import Series


def regression_case(seed=0, n=10):
    rng = np.random.RandomState(seed)
    net = Network([3, 4, 2], ["tanh", "linear"], init="pytorch", seed=seed)
    return net, rng.standard_normal((n, 3)), rng.standard_normal((n, 2))


def torch_semantics_steps(net, X, Y, loss, opt: OptimizerConfig, batches):
    """torch.optim written out by hand, one batch (index array) per step: clip_grad_norm_,
    then weight_decay, then SGD / SGD(momentum) / Adam.  Returns the parameters after
    each step."""
    probe = net.copy()
    p = net.params.copy()
    velocity = m = v = None
    trajectory = []
    for t, rows in enumerate(batches, start=1):
        probe.set_params(p)
        g = probe.loss_and_gradients(X[rows], Y[rows], loss)[1].flat.copy()
        if opt.clip is not None:
            g = g * min(1.0, opt.clip / (np.sqrt(np.sum(g * g)) + 1e-6))
        if opt.l2:
            g = g + opt.l2 * p
        if opt.name == "sgd":
            p = p - opt.lr * g
        elif opt.name == "momentum":
            velocity = g.copy() if t == 1 else opt.momentum * velocity + g
            p = p - opt.lr * velocity
        else:
            m = (1 - opt.beta1) * g if t == 1 else opt.beta1 * m + (1 - opt.beta1) * g
            v = (1 - opt.beta2) * g * g if t == 1 else opt.beta2 * v + (1 - opt.beta2) * g * g
            m_hat, v_hat = m / (1 - opt.beta1 ** t), v / (1 - opt.beta2 ** t)
            p = p - opt.lr * m_hat / (np.sqrt(v_hat) + opt.eps)
        trajectory.append(p)
    return trajectory


OPTIMISERS = [
    OptimizerConfig("sgd", lr=0.1),
    OptimizerConfig("sgd", lr=0.1, l2=0.01, clip=0.5),
    OptimizerConfig("momentum", lr=0.05, momentum=0.9),
    OptimizerConfig("momentum", lr=0.05, momentum=0.8, l2=0.02, clip=0.3),
    OptimizerConfig("adam", lr=0.01),
    OptimizerConfig("adam", lr=0.01, beta1=0.8, beta2=0.99, l2=0.05, clip=0.2),
]
OPT_IDS = ["sgd", "sgd-l2-clip", "momentum", "momentum-l2-clip", "adam", "adam-l2-clip"]


@pytest.mark.parametrize("opt", OPTIMISERS, ids=OPT_IDS)
def test_full_batch_steps_follow_torch_optim(opt):
    net, X, Y = regression_case()
    expected = torch_semantics_steps(net, X, Y, "mse", opt, [np.arange(10)] * 3)
    trainer = Trainer(net, X, Y, TrainConfig(loss="mse", optimizer=opt))
    for p in expected:
        assert trainer.run_batches(1) == 1
        np.testing.assert_allclose(net.params, p, rtol=1e-12, atol=1e-15)
    if opt.clip is not None:   # the clip was in force, not a no-op
        assert np.linalg.norm(trainer.grad) > opt.clip


@pytest.mark.parametrize("opt", OPTIMISERS[::2], ids=OPT_IDS[::2])
def test_unshuffled_mini_batches_and_single_samples_step_in_order(opt):
    net, X, Y = regression_case()
    for batch_size in (4, 1):   # 4: batches of 4, 4, 2; 1: single samples
        rows = [np.arange(i, min(i + batch_size, 10)) for i in range(0, 10, batch_size)]
        expected = torch_semantics_steps(net, X, Y, "sse", opt, rows * 2)
        trainer = Trainer(net.copy(), X, Y, TrainConfig(loss="sse", optimizer=opt,
                                                        batch_size=batch_size, shuffle=False))
        assert trainer.run_epochs(2) == 2
        assert trainer.steps == len(expected) == 2 * len(rows)
        np.testing.assert_allclose(trainer.net.params, expected[-1], rtol=1e-12, atol=1e-15)


def test_a_shuffled_epoch_visits_every_sample_once_and_sums_the_batch_losses():
    net, X, Y = regression_case(n=11)
    opt = OptimizerConfig("sgd", lr=0.05)
    trainer = Trainer(net.copy(), X, Y, TrainConfig(loss="half_sse", optimizer=opt,
                                                    batch_size=3, seed=7))
    trainer.run_batches(1)
    order = trainer.state().order
    assert sorted(order) == list(range(11)) and list(order) != list(range(11))
    trainer.run_batches(3)
    assert trainer.epoch == 1 and trainer.steps == 4

    batches = [order[i:i + 3] for i in range(0, 11, 3)]
    expected = torch_semantics_steps(net, X, Y, "half_sse", opt, batches)
    np.testing.assert_allclose(trainer.net.params, expected[-1], rtol=1e-12, atol=1e-15)
    # The epoch's loss: each batch's E at the weights it was trained on, summed.
    before = [net.params] + expected[:-1]
    probe = net.copy()
    batch_losses = []
    for p, rows in zip(before, batches):
        probe.set_params(p)
        batch_losses.append(probe.loss(X[rows], Y[rows], "half_sse"))
    assert trainer.history.loss.last() == pytest.approx(sum(batch_losses), rel=1e-12)


def test_mean_losses_average_the_batches_by_sample_count():
    rng = np.random.RandomState(1)
    X, labels = rng.standard_normal((7, 2)), rng.randint(3, size=7)
    net = Network([2, 4, 3], ["relu", "softmax"], init="he", seed=1)
    trainer = Trainer(net.copy(), X, labels, TrainConfig(loss="cross_entropy", batch_size=4,
                                                         shuffle=False,
                                                         optimizer=OptimizerConfig(lr=0.1)))
    first = net.loss(X[:4], labels[:4], "cross_entropy")
    trainer.run_batches(1)
    second = trainer.net.loss(X[4:], labels[4:], "cross_entropy")
    trainer.run_batches(1)
    assert trainer.history.loss.last() == pytest.approx((4 * first + 3 * second) / 7, rel=1e-12)


def run_shuffled(seed, epochs=3):
    sc = load_scenario("lecture-pytorch", seed=0)
    sc.config.batch_size, sc.config.seed = 3, seed
    sc.config.optimizer = OptimizerConfig("adam", lr=0.01)
    trainer = sc.make_trainer()
    orders = []
    for _ in range(epochs):
        trainer.run_batches(1)
        orders.append(trainer.state().order.copy())
        trainer.run_batches(trainer.batches_per_epoch - 1)
    return trainer, orders


def test_shuffled_mini_batches_repeat_exactly_for_the_same_seed():
    a, orders_a = run_shuffled(seed=3)
    b, orders_b = run_shuffled(seed=3)
    c, orders_c = run_shuffled(seed=4)
    np.testing.assert_array_equal(orders_a, orders_b)
    np.testing.assert_array_equal(a.net.params, b.net.params)
    np.testing.assert_array_equal(a.history.loss.arrays()[1], b.history.loss.arrays()[1])
    assert not np.array_equal(orders_a[0], orders_a[1])   # reshuffled every epoch
    assert not np.array_equal(orders_a, orders_c)
    assert not np.array_equal(a.net.params, c.net.params)


# -- divergence --------------------------------------------------------------------------
def assert_history_finite(trainer):
    _, losses = trainer.history.loss.arrays()
    assert np.all(np.isfinite(losses))
    logs = trainer.history.logs
    for key in ("loss", "grad_norm", "dead_fraction", "saturated_fraction", "update_ratio"):
        assert np.all(np.isfinite(np.asarray(logs[key], float))), key


@pytest.mark.parametrize("lr, batch_size", [(10.0, None), (1e4, None), (1e300, None), (10.0, 3)])
def test_divergence_stops_at_the_last_finite_state(lr, batch_size):
    """The lecture's PyTorch net (linear output) at a huge η: the loss or the weights run
    off to infinity.  (The all-sigmoid numpy net cannot: its sigmoids saturate, see below.)"""
    sc = load_scenario("lecture-pytorch", seed=0)
    sc.config.optimizer.lr, sc.config.batch_size = lr, batch_size
    trainer = sc.make_trainer(log_every=1)
    trainer.run_epochs(1000)
    assert trainer.diverged and 0 <= trainer.diverged_epoch < 1000
    assert trainer.diverged_reason
    assert np.all(np.isfinite(trainer.net.params))
    assert len(trainer.history.loss) == trainer.diverged_epoch == trainer.epoch
    assert_history_finite(trainer)

    # The kept weights are those after the last step that was taken.
    replay = load_scenario("lecture-pytorch", seed=0)
    replay.config.optimizer.lr, replay.config.batch_size = lr, batch_size
    twin = replay.make_trainer()
    assert twin.run_batches(trainer.steps) == trainer.steps and not twin.diverged
    np.testing.assert_array_equal(trainer.net.params, twin.net.params)

    # What the view is handed shows that last step: its gradient and Δw, never NaN.
    np.testing.assert_array_equal(trainer.grad, twin.grad)
    np.testing.assert_array_equal(trainer.optimizer.update, twin.optimizer.update)
    snap = trainer.snapshot(0)
    for array in (snap.params, snap.grads, snap.update, *snap.sample_alphas, *snap.sample_betas):
        assert np.all(np.isfinite(array))

    frozen = trainer.net.params.copy()
    assert trainer.run_epochs(10) == 0 and trainer.run_batches(5) == 0
    np.testing.assert_array_equal(trainer.net.params, frozen)
    assert trainer.epoch == trainer.diverged_epoch


def test_huge_but_finite_weights_are_not_called_divergence():
    """η = 1e200 saturates every sigmoid of the lecture net (weights ~1e200, all finite,
    loss finite): that is not a non-finite parameter."""
    sc = load_scenario("lecture-house-prices", seed=0)
    sc.config.optimizer.lr = 1e200
    trainer = sc.make_trainer(log_every=1)
    assert trainer.run_epochs(20) == 20 and not trainer.diverged
    assert np.max(np.abs(trainer.net.params)) > 1e150
    assert np.all(np.isfinite(trainer.net.params))
    assert_history_finite(trainer)


# -- exact save and restore ------------------------------------------------------------
@pytest.mark.parametrize("opt", [OptimizerConfig("momentum", lr=0.01),
                                 OptimizerConfig("adam", lr=0.01, l2=1e-3, clip=1.0)],
                         ids=["momentum", "adam"])
def test_restore_continues_exactly_as_if_never_interrupted(opt):
    def fresh():
        sc = load_scenario("lecture-pytorch", seed=2)
        sc.config.batch_size, sc.config.optimizer = 4, opt
        return sc.make_trainer(log_every=2)

    trainer = fresh()
    trainer.run_batches(5)                    # stop mid-epoch (3 batches per epoch)
    saved = trainer.state()
    trainer.run_batches(13)
    params, history = trainer.net.params.copy(), trainer.history.loss.arrays()[1]
    logs = trainer.history.logs["update_ratio"]

    trainer.restore(saved)                    # step back, then go again
    assert trainer.epoch == 1 and trainer.batch_in_epoch == 2
    trainer.run_batches(13)
    np.testing.assert_array_equal(trainer.net.params, params)
    np.testing.assert_array_equal(trainer.history.loss.arrays()[1], history)
    assert trainer.history.logs["update_ratio"] == logs

    other = fresh()                           # a new trainer (a loaded session)
    other.restore(saved)
    other.run_batches(13)
    np.testing.assert_array_equal(other.net.params, params)
    np.testing.assert_array_equal(other.history.loss.arrays()[1], history[-len(other.history.loss):])


def test_restoring_a_state_from_before_divergence_trains_again():
    sc = load_scenario("lecture-pytorch", seed=0)
    sc.config.optimizer.lr = 10.0
    trainer = sc.make_trainer()
    trainer.run_epochs(5)
    saved = trainer.state()
    trainer.run_epochs(1000)
    assert trainer.diverged
    trainer.restore(saved)
    assert not trainer.diverged and trainer.epoch == 5 and len(trainer.history.loss) == 5
    assert trainer.run_epochs(3) == 3


# -- bounded history ---------------------------------------------------------------------
def test_series_thins_itself_and_keeps_epochs_monotone():
    series = Series(capacity=1000)
    for epoch in range(100_000):
        series.append(epoch, float(epoch) * 0.5)
        assert len(series) <= 1000
    epochs, values = series.arrays()
    assert series.epochs.size <= 1000 and series.values.size <= 1000   # memory, not just n
    assert series.stride & (series.stride - 1) == 0 and series.stride >= 128
    assert np.all(np.diff(epochs) == series.stride) and epochs[0] == 0
    assert epochs[-1] > 100_000 - 1 - series.stride
    np.testing.assert_array_equal(values, epochs * 0.5)   # values stay with their epochs


def test_a_long_run_keeps_a_bounded_monotone_loss_history():
    sc = load_scenario("lecture-house-prices", seed=0)
    trainer = sc.make_trainer(log_every=10_000)
    trainer.history.loss = Series(capacity=2048)
    trainer.run_epochs(20_000)
    epochs, values = trainer.history.loss.arrays()
    assert len(epochs) <= 2048 and np.all(np.diff(epochs) > 0) and epochs[0] == 0
    assert np.all(np.diff(values) < 0)   # the lecture's loss falls every epoch
    trainer.restore(trainer.state())     # truncation on a thinned series keeps it sorted
    assert np.all(np.diff(trainer.history.loss.arrays()[0]) > 0)


# -- diagnostics -------------------------------------------------------------------------
def test_logged_diagnostics_read_dead_saturated_and_update_ratio():
    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((20, 2)), rng.standard_normal((20, 1))
    net = Network([2, 4, 3, 1], ["relu", "sigmoid", "linear"], init="he", seed=0)
    net.biases[0] = [-100.0, -100.0, 5.0, 5.0]    # units 1 and 2 never fire
    net.biases[1] = [50.0, 0.0, 0.0]              # unit 1 is always ≈ 1
    lr = 1e-3
    trainer = Trainer(net, X, Y, TrainConfig(loss="sse", optimizer=OptimizerConfig(lr=lr)))
    w_before = [w.copy() for w in net.weights]
    trainer.run_epochs(1)
    logs = trainer.history.logs
    assert logs["dead_fraction"][0] == [0.5, 0.0, 0.0]
    assert logs["saturated_fraction"][0][1] >= 1 / 3 and logs["saturated_fraction"][0][0] == 0
    for l, w in enumerate(net.weights):
        step = w_before[l] - w
        assert logs["update_ratio"][0][l] == pytest.approx(np.linalg.norm(step) / np.linalg.norm(w),
                                                           rel=1e-9)
        assert logs["grad_norm"][0][l] == pytest.approx(np.linalg.norm(step) / lr, rel=1e-9)


# -- numerical stability -----------------------------------------------------------------
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("loss, out", [("half_sse", "sigmoid"), ("mse", "tanh"),
                                       ("sse", "softmax"), ("cross_entropy", "softmax"),
                                       ("binary_cross_entropy", "sigmoid")])
def test_net_inputs_of_plus_minus_1000_stay_finite_and_silent(loss, out):
    """α = ±1000 at the output: no overflow warning, finite loss and gradients, and the
    exact limits (e.g. cross-entropy of a confidently wrong answer is 2000)."""
    net = Network([1, 2], ["softmax" if out == "softmax" else out], init="normal", seed=0)
    net.weights[0] = [[1000.0, -1000.0]]
    net.biases[0] = [0.0, 0.0]
    X = np.array([[1.0], [-1.0]])
    Y = np.array([[0.0, 1.0], [0.0, 1.0]])   # wrong for sample 0, right for sample 1
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        E, grads = net.loss_and_gradients(X, Y, loss)
        beta = net.predict(X)
    assert math.isfinite(E) and np.all(np.isfinite(grads.flat)) and np.all(np.isfinite(beta))
    if loss == "cross_entropy":
        assert E == pytest.approx(2000 / 2)          # mean over samples of (1000 − (−1000))
    if loss == "binary_cross_entropy":
        assert E == pytest.approx((1000 + 1000) / 4)  # two confidently wrong of four
        # and σ(α) − t at the saturated outputs: exactly ±1/4 or 0 per element, times x.
        np.testing.assert_allclose(grads.weights[0], [[0.25, -0.25]])
    if out == "sigmoid":
        np.testing.assert_array_equal(beta, [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("name", ["lecture-house-prices", "vanishing-gradients", "noisy-minibatches"])
def test_before_the_first_step_the_gradient_is_the_one_at_the_initial_weights(name):
    sc = load_scenario(name)
    trainer = sc.make_trainer()
    _, grads = sc.network.loss_and_gradients(sc.X, sc.Y, sc.loss)
    assert trainer.steps == 0 and trainer.grad.any()
    assert np.array_equal(trainer.grad, grads.flat)
    assert np.array_equal(trainer.snapshot().grads, grads.flat)
    start = trainer.state()
    trainer.run_epochs(2)
    trainer.restore(start)                  # Reset shows it again
    assert np.array_equal(trainer.grad, grads.flat)


def test_an_output_fused_with_its_loss_is_never_called_saturated():
    # Sigmoid + binary cross-entropy: δ = β − t however close β is to 0 or 1.
    rng = np.random.RandomState(1)
    X, Y = rng.standard_normal((30, 2)), (rng.rand(30, 1) > 0.5).astype(float)
    def trainer(loss):
        net = Network([2, 3, 1], ["sigmoid", "sigmoid"], seed=0)
        net.biases[0] = [40.0, 0.0, 0.0]        # hidden unit 1 is always ≈ 1
        net.biases[1] = [40.0]                  # and so is the output
        return Trainer(net, X, Y, TrainConfig(loss=loss, optimizer=OptimizerConfig(lr=0.1)))
    fused, squared = trainer("binary_cross_entropy").diagnostics(), trainer("mse").diagnostics()
    assert fused["saturated_fraction"] == [pytest.approx(1 / 3), 0.0]
    assert not fused["saturated_units"][1].any() and fused["saturated_units"][0][0]
    assert squared["saturated_fraction"][1] == 1.0 and squared["saturated_units"][1].all()


def test_run_epochs_after_a_batch_size_chosen_mid_epoch_runs_exactly_that_many_epochs():
    trainer = load_scenario("noisy-minibatches").make_trainer()      # batches of one sample
    trainer.run_epochs(2)
    trainer.run_batches(60)                                            # in the middle of epoch 2
    trainer.set_batch_size(None)                                       # full batch from epoch 3
    assert trainer.run_epochs(3) == 3 and trainer.epoch == 5
    assert trainer.batch_in_epoch == 0 and trainer.batch_size == trainer.n


@pytest.mark.parametrize("loss", ["mse", "half_sse"])
def test_on_a_big_data_set_the_first_gradient_is_estimated_on_the_diagnostic_rows(loss):
    from core.datasets import load_dataset
    from core.trainer import DIAGNOSTIC_SAMPLES
    data = load_dataset("sine", n=3 * DIAGNOSTIC_SAMPLES, seed=2)
    net = Network([1, 8, 1], ["tanh", "linear"], init="xavier", seed=0)
    trainer = Trainer(net, data.X, data.Y, TrainConfig(loss=loss, optimizer=OptimizerConfig(lr=0.01)))
    _, full = net.loss_and_gradients(data.X, data.Y, loss)
    estimate = trainer.grad
    cosine = estimate @ full.flat / (np.linalg.norm(estimate) * np.linalg.norm(full.flat))
    assert cosine > 0.99 and 0.8 < np.linalg.norm(estimate) / np.linalg.norm(full.flat) < 1.25


def test_the_estimated_loss_is_exact_on_small_data_and_close_on_big():
    from core.datasets import load_dataset
    from core.trainer import DIAGNOSTIC_SAMPLES
    small = load_scenario("lecture-house-prices").make_trainer()
    assert small.estimated_loss() == small.evaluate(small.X, small.Y)[0]
    data = load_dataset("sine", n=3 * DIAGNOSTIC_SAMPLES, seed=4)
    for loss in ("mse", "half_sse"):
        net = Network([1, 8, 1], ["tanh", "linear"], init="xavier", seed=0)
        big = Trainer(net, data.X, data.Y, TrainConfig(loss=loss, optimizer=OptimizerConfig(lr=0.01)))
        assert big.estimated_loss() == pytest.approx(big.evaluate(big.X, big.Y)[0], rel=0.1)


def test_units_dead_before_the_first_step_are_counted_at_the_start():
    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((20, 2)), rng.standard_normal((20, 1))
    net = Network([2, 4, 3, 1], ["relu", "relu", "linear"], init="he", seed=0)
    net.biases[0] = [-100.0, -100.0, 5.0, 5.0]      # two units never fire
    trainer = Trainer(net, X, Y, TrainConfig(loss="mse", optimizer=OptimizerConfig(lr=1e-3)))
    assert trainer.dead_at_start == 2
    trainer.run_epochs(3)
    assert trainer.dead_at_start == 2               # a property of the start, not of now
