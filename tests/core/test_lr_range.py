"""The learning-rate range test: sweeps η exponentially from the current weights, stops
after the loss has risen 4×, suggests a rate inside the sweep, and leaves the trainer
exactly as it found it."""
import json

import numpy as np
import pytest

import main
from core import ConfigError, OptimizerConfig, load_scenario
from core.lr_range import lr_range_test, report, sparkline
from core.metrics import learning_rate_too_high


def trainer_for(scenario, seed=0, epochs=0, **optimizer):
    sc = load_scenario(scenario, seed=seed)
    for key, value in optimizer.items():
        setattr(sc.config.optimizer, key, value)
    trainer = sc.make_trainer()
    trainer.run_epochs(epochs)
    return sc, trainer


def test_rates_rise_exponentially_from_1e6_to_10():
    _, trainer = trainer_for("lecture-house-prices")
    result = lr_range_test(trainer)
    ratios = result.lrs[1:] / result.lrs[:-1]
    assert result.lrs[0] == pytest.approx(1e-6)
    assert np.allclose(ratios, (10 / 1e-6) ** (1 / 99))
    assert result.lrs.size == result.losses.size == result.smoothed.size <= 100


@pytest.mark.parametrize("name, optimizer", [
    ("learning-rate-too-high", {}),                       # full batch, plain SGD
    ("noisy-minibatches", {}),                            # batch 1, shuffled order
    ("noisy-minibatches", {"name": "momentum"}),          # optimiser state too
    ("exploding-gradients", {}),                          # the sweep itself blows up
])
def test_the_trainer_is_restored_exactly(name, optimizer):
    """After the test, training on gives bit for bit what it gives without the test."""
    _, probed = trainer_for(name, seed=1, **optimizer)
    _, twin = trainer_for(name, seed=1, **optimizer)
    probed.run_batches(3)          # mid-epoch for mini-batches, with a history
    twin.run_batches(3)
    before = probed.state()
    lr, history_length = probed.config.optimizer.lr, len(probed.history.loss)
    lr_range_test(probed)
    after = probed.state()
    assert np.array_equal(before.params, after.params)
    assert np.array_equal(before.grad, after.grad)
    assert (before.epoch, before.steps, before.batch_in_epoch) == \
           (after.epoch, after.steps, after.batch_in_epoch)
    assert not probed.diverged and probed.config.optimizer.lr == lr
    assert len(probed.history.loss) == history_length
    probed.run_epochs(4)
    twin.run_epochs(4)
    assert np.array_equal(probed.net.params, twin.net.params)
    assert np.array_equal(probed.history.loss.arrays()[1], twin.history.loss.arrays()[1])


@pytest.mark.parametrize("name", ["lecture-pytorch", "learning-rate-too-high", "dead-relus",
                                  "noisy-minibatches", "exploding-gradients"])
def test_the_suggestion_lies_within_the_sweep(name):
    _, trainer = trainer_for(name)
    result = lr_range_test(trainer)
    assert result.lrs[0] <= result.suggested_lr <= result.min_lr <= result.lrs[-1]
    assert result.min_lr == result.lrs[np.argmin(result.smoothed)]
    assert result.suggested_lr == pytest.approx(max(result.min_lr / 10, result.lrs[0]))


def test_the_curve_stops_right_after_the_loss_rises_4x():
    _, trainer = trainer_for("lecture-pytorch")
    result = lr_range_test(trainer)
    running_best = np.minimum.accumulate(result.smoothed)
    assert result.smoothed[-1] > 4 * running_best[-1]
    assert np.all(result.smoothed[:-1] <= 4 * running_best[:-1])
    assert result.lrs[-1] < 10 and "4×" in result.stopped


def test_a_sweep_that_blows_up_stops_at_the_first_infinite_loss():
    _, trainer = trainer_for("exploding-gradients")
    result = lr_range_test(trainer, stop_factor=float("inf"))
    assert "infinite" in result.stopped
    assert np.isfinite(result.losses).all() and result.lrs[-1] < 10
    assert not trainer.diverged


def test_lecture_pytorch_suggestion_trains_and_the_rate_ten_times_higher_does_not():
    """0.1 is too high for the lecture's PyTorch network (the loss climbs on every epoch);
    the suggestion is below it and trains it smoothly."""
    _, trainer = trainer_for("lecture-pytorch")
    suggested = lr_range_test(trainer).suggested_lr
    too_high = 0.1
    assert suggested < too_high
    for lr, verdict in [(too_high, "failure"), (suggested, "healthy")]:
        _, run = trainer_for("lecture-pytorch", lr=lr)
        run.run_epochs(2000)
        assert learning_rate_too_high(run).verdict == verdict


@pytest.mark.parametrize("seed", range(5))
def test_learning_rate_too_high_gets_a_lower_suggestion(seed):
    sc, trainer = trainer_for("learning-rate-too-high", seed=seed)
    assert lr_range_test(trainer).suggested_lr < sc.config.optimizer.lr


def test_it_starts_from_the_current_weights():
    _, fresh = trainer_for("learning-rate-too-high")
    _, trained = trainer_for("learning-rate-too-high", epochs=50, lr=0.1)
    assert lr_range_test(trained).start_loss == pytest.approx(trained.evaluate(trained.X, trained.Y)[0])
    assert lr_range_test(trained).start_loss < lr_range_test(fresh).start_loss


def test_bad_settings_and_a_diverged_run_are_refused():
    _, trainer = trainer_for("learning-rate-too-high")
    for kwargs in ({"start_lr": 0}, {"start_lr": 1, "end_lr": 0.1}, {"steps": 1},
                   {"stop_factor": 1}):
        with pytest.raises(ConfigError):
            lr_range_test(trainer, **kwargs)
    trainer.run_epochs(1000)
    assert trainer.diverged
    with pytest.raises(ConfigError, match="diverged"):
        lr_range_test(trainer)


def test_report_and_sparkline():
    _, trainer = trainer_for("lecture-pytorch")
    result = lr_range_test(trainer)
    text = report(result)
    assert f"suggested learning rate: {result.suggested_lr:.3g}" in text
    assert "← lowest" in text and len(text.splitlines()) < 20
    assert sparkline(range(8)) == "▁▂▃▄▅▆▇█" and sparkline([5, 5]) == "▁▁"
    assert sparkline([1, 10, 100, 1000]) == "▁▃▆█"          # spans > 10×: log scale


def test_command_line_prints_the_suggestion_and_writes_the_curve(tmp_path, capsys):
    out = tmp_path / "lr.json"
    assert main.main(["--headless", "--scenario", "learning-rate-too-high", "--lr-range-test",
                      "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads(out.read_text())["lr_range_test"]
    assert f"suggested learning rate: {record['suggested_lr']:.3g}" in printed
    assert len(record["lrs"]) == len(record["losses"]) > 10
    assert record["suggested_lr"] < 1.0


def test_command_line_refuses_a_diverged_run(capsys):
    assert main.main(["--headless", "--scenario", "exploding-gradients", "--lr-range-test",
                      "--epochs", "50"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "diverged" in err
