"""Lecture mode's phases: stepping through every phase of a step lands exactly where one
ordinary Trainer step lands, and stepping back puts everything back exactly."""
import copy

import numpy as np
import pytest

from core import load_scenario
from core.errors import ConfigError
from core.optimizers import OptimizerConfig
from core.phases import PhaseStepper

LECTURE_KINDS = ["alpha", "beta", "alpha", "beta", "loss", "delta", "gradient", "delta",
                 "gradient", "update"]


def lecture_trainer(batch_size=None, optimizer=None):
    sc = load_scenario("lecture-house-prices", seed=0)
    sc.config.batch_size = batch_size
    if optimizer is not None:
        sc.config.optimizer = optimizer
    return sc.make_trainer()


def same_state(a, b):
    sa, sb = a.state(), b.state()
    assert np.array_equal(sa.params, sb.params)
    assert np.array_equal(sa.grad, sb.grad)
    assert (sa.epoch, sa.steps, sa.batch_in_epoch) == (sb.epoch, sb.steps, sb.batch_in_epoch)
    assert np.array_equal(sa.order, sb.order)
    for key, value in sa.optimizer.items():
        other = sb.optimizer[key]
        assert (value is None and other is None) or np.array_equal(value, other), key
    assert sa.rng[1].tolist() == sb.rng[1].tolist()


def step_through(stepper):
    """From the first phase of a step to its update: every phase once."""
    assert stepper.index == 0
    for _ in range(stepper.count - 1):
        stepper.next()
    assert stepper.phase.kind == "update"


def test_lecture_step_has_the_lectures_phases_in_order():
    stepper = PhaseStepper(lecture_trainer())
    kinds = [stepper.phase.kind]
    titles = [stepper.phase.title]
    while stepper.phase.kind != "update":
        kinds.append(stepper.next().kind)
        titles.append(stepper.phase.title)
    assert kinds == LECTURE_KINDS
    assert titles[0] == "Forward: α of the hidden layer"
    assert titles[3] == "Forward: β of the output layer"
    assert "w16..w21" in titles[6] and "w1..w15" in titles[8]


@pytest.mark.parametrize("batch_size, optimizer", [
    (None, None), (3, None), (4, OptimizerConfig(name="momentum", lr=0.01)),
    (3, OptimizerConfig(name="adam", lr=0.01))])
def test_phases_of_a_step_leave_the_weights_where_an_ordinary_step_does(batch_size, optimizer):
    stepper_trainer = lecture_trainer(batch_size, copy.deepcopy(optimizer))
    ordinary = lecture_trainer(batch_size, copy.deepcopy(optimizer))
    stepper = PhaseStepper(stepper_trainer)
    for _ in range(6):                # crosses an epoch boundary for every batch size here
        step_through(stepper)
        assert ordinary.run_batches(1) == 1
        same_state(stepper_trainer, ordinary)
        stepper.next()                # on to the next step's first phase
        same_state(stepper_trainer, ordinary)


def test_full_batch_phases_match_an_epoch_of_the_lecture_loop():
    trainer, ordinary = lecture_trainer(), lecture_trainer()
    stepper = PhaseStepper(trainer)
    step_through(stepper)
    ordinary.run_epochs(1)
    assert np.array_equal(trainer.net.params, ordinary.net.params)


def test_shown_values_are_the_batch_the_step_trains_on():
    trainer = lecture_trainer(batch_size=3)
    stepper = PhaseStepper(trainer)
    for _ in range(5):
        step_through(stepper)
        rows = stepper.rows
        gradient_phases = [p for p in stepper.phases if p.kind == "gradient"]
        shown = np.concatenate([p.batch for p in reversed(gradient_phases)])
        # The update used the gradient the phases showed, on the rows they showed.
        assert np.allclose(shown, trainer.grad, rtol=1e-12, atol=1e-15)
        net = trainer.net.copy()
        net.set_params(stepper.phase.old)
        recomputed = net.forward_backward(trainer.X[rows], trainer.Y[rows], trainer.loss_fn)
        assert np.allclose(recomputed.gradients.flat, trainer.grad, rtol=1e-12, atol=1e-15)
        for p in gradient_phases:
            assert np.allclose(p.per_sample.sum(axis=0), p.batch, rtol=1e-12, atol=1e-15)
        loss = next(p for p in stepper.phases if p.kind == "loss")
        assert np.isclose(loss.per_sample.sum(), loss.batch[0], rtol=1e-12)
        assert np.isclose(loss.batch[0], trainer.last_batch_loss, rtol=1e-12)
        update = stepper.phase
        assert np.array_equal(update.batch, trainer.net.params)
        assert np.allclose(update.old - update.change, update.batch, rtol=0, atol=1e-15)
        stepper.next()


def test_back_across_the_update_restores_the_trainer_exactly():
    trainer, reference = lecture_trainer(batch_size=4), lecture_trainer(batch_size=4)
    stepper = PhaseStepper(trainer)
    step_through(stepper)
    stepper.back()                                    # undo the update
    assert stepper.phase.kind == "gradient"
    same_state(trainer, reference)
    stepper.next()                                    # redo it: the same step again
    reference.run_batches(1)
    same_state(trainer, reference)


def test_back_through_several_steps_returns_to_the_start_and_replays_identically():
    trainer, fresh = lecture_trainer(batch_size=3), lecture_trainer(batch_size=3)
    stepper = PhaseStepper(trainer)
    forward = []
    for _ in range(3 * stepper.count):
        forward.append((stepper.phase.kind, stepper.phase.values().copy()))
        stepper.next()
    while stepper.can_back:
        stepper.back()
    assert stepper.index == 0
    same_state(trainer, fresh)
    for kind, values in forward:
        assert stepper.phase.kind == kind
        assert np.array_equal(stepper.phase.values(), values)
        stepper.next()


def test_values_per_sample_and_over_the_batch():
    stepper = PhaseStepper(lecture_trainer())
    alpha = stepper.phase
    assert alpha.per_sample.shape == (10, 5)
    assert np.array_equal(alpha.values(4), alpha.per_sample[4])
    assert np.allclose(alpha.values(), alpha.per_sample.mean(axis=0))
    assert set(alpha.neuron_values()) == {(1, u) for u in range(5)}
    assert alpha.highlight.levels == (1,) and alpha.highlight.layers == (0,)
    with pytest.raises(ConfigError):
        alpha.values(10)
    for _ in range(6):
        stepper.next()
    gradient = stepper.phase
    assert gradient.kind == "gradient"
    assert sorted(gradient.param_values()) == list(range(15, 21))      # w16..w21
    assert gradient.highlight.levels == (1, 2)


def test_explanations_in_lecture_mode_use_the_steps_weights_and_batch():
    trainer = lecture_trainer(batch_size=4)
    stepper = PhaseStepper(trainer)
    step_through(stepper)                     # the trainer's weights have moved...
    gradient = [p for p in stepper.phases if p.kind == "gradient"][0]
    e = stepper.explain("w17")                # ...the explanation is of the step shown
    assert np.isclose(e.total, gradient.param_values()[16], rtol=1e-12)
    assert e.batch_size == 4


def test_activation_profile_marks_the_steps_alphas():
    stepper = PhaseStepper(lecture_trainer())
    profile = stepper.activation_profile(1, sample=2)
    assert np.array_equal(profile.alphas, stepper.phase.per_sample[2])
    assert profile.labels == ("H1", "H2", "H3", "H4", "H5")
    assert stepper.activation_profile(1).alphas.size == 50


def test_diverged_trainer_refuses_phases():
    trainer = lecture_trainer()
    trainer._diverge("for the test")
    with pytest.raises(ConfigError, match="diverged"):
        PhaseStepper(trainer)
