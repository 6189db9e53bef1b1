"""The failure scenarios in the window, as a lecturer meets them: the narrative and the
metric's verdict beside the network, the diagnosis put in front, one toggle that reruns
with the remedy from the same initial weights while the run before stays as a ghost, and
exploding gradients stopping on the last finite state.  Exactness against headless
Trainers built from the same scenario and seed."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

import main
from core import load_scenario
from core.numbering import layer_offsets
from gui.app import apply_remedy
from window_helpers import TIMEOUT, epoch_of, on_worker, settle


def headless(name, seed, epochs, remedy=False):
    trainer = load_scenario(name, seed=seed, remedy=remedy).make_trainer()
    trainer.run_epochs(epochs)
    return trainer


def headless_losses(name, seed, epochs, remedy=False):
    return headless(name, seed, epochs, remedy).history.loss.arrays()


def first_layer(params, sizes):
    return params[:layer_offsets(sizes)[1]]


def test_the_remedy_toggle_reruns_from_the_same_initial_weights_with_the_run_before_as_ghost(
        make_window, qtbot):
    window = make_window("dead-relus", seed=3)
    panel = window.narrative
    before = settle(window, qtbot)
    assert panel.remedy_button.isEnabled() and not panel.remedy_button.isChecked()
    settle(window, qtbot, window.run_epochs(30))

    qtbot.mouseClick(panel.remedy_button, Qt.LeftButton)          # one click
    qtbot.waitUntil(lambda: window.scenario.remedy_applied and epoch_of(window) == 30, timeout=TIMEOUT)
    settle(window, qtbot)
    # The failing run is the ghost, exactly; the remedy's run trained as far.
    ghost_epochs, ghost_losses = window.loss_plot.ghost_curve()
    epochs, losses = headless_losses("dead-relus", 3, 30)
    assert np.array_equal(ghost_epochs, epochs) and np.array_equal(ghost_losses, losses)
    legend = [label.text for _, label in window.loss_plot.plot.legend.items]
    assert "without remedy" in legend
    assert np.array_equal(window.last_frame().snapshot.params,
                          headless("dead-relus", 3, 30, remedy=True).net.params)
    assert window.controls.training.lr.value() == 1.0
    assert on_worker(window, qtbot, lambda t: t.config.optimizer.lr) == 1.0
    assert panel.remedy_button.isChecked() and window.scenario_lab.remedy_action.isChecked()
    assert "applied" in panel.text.toPlainText()
    # Back at its start, the remedy's run has the failing run's initial weights.
    start = settle(window, qtbot, window.reset())
    assert start.epoch == 0
    assert np.array_equal(first_layer(start.params, start.sizes), first_layer(before.params, before.sizes))
    assert np.array_equal(start.params, before.params)      # the remedy changes η only

    # And off again from the menu: the remedy's run becomes the ghost.
    settle(window, qtbot, window.run_epochs(10))
    window.scenario_lab.remedy_action.trigger()
    qtbot.waitUntil(lambda: not window.scenario.remedy_applied and epoch_of(window) == 10,
                    timeout=TIMEOUT)
    settle(window, qtbot)
    assert np.array_equal(window.loss_plot.ghost_curve()[1], headless_losses("dead-relus", 3, 10, True)[1])
    assert "with remedy" in [label.text for _, label in window.loss_plot.plot.legend.items]
    assert window.controls.training.lr.value() == 25.0


def test_narrative_remedy_and_the_metrics_verdict_are_shown_beside_the_network(make_window, qtbot):
    window = make_window("dead-relus")
    panel = window.narrative
    scenario = load_scenario("dead-relus")
    text = panel.text.toPlainText()
    assert scenario.title in text and "crossed-out neurons" in text
    assert "Remedy" in text and "Lower the learning rate" in text
    assert panel.metric_box.isVisibleTo(window)
    settle(window, qtbot, window.run_epochs(scenario.epochs))
    assert window.scenario_lab.measure_now()
    assert panel.verdict_text().startswith("failure shows")
    assert f"Epoch {scenario.epochs}" in panel.verdict_text() and "hidden ReLUs are dead" in panel.verdict_text()
    settle(window, qtbot, window.scenario_lab.set_remedy(True))
    assert window.scenario_lab.measure_now()
    assert panel.verdict_text().startswith("healthy")


def test_the_metric_follows_the_run_while_it_plays(make_window, qtbot):
    window = make_window("noisy-minibatches")
    panel = window.narrative
    assert panel.verdict_text().startswith("metric")           # nothing trained yet
    window.play()
    qtbot.waitUntil(lambda: "Epoch" in panel.verdict_text() and "batches of 1" in panel.verdict_text(),
                    timeout=TIMEOUT)
    first = panel.verdict_text()
    qtbot.waitUntil(lambda: panel.verdict_text() != first, timeout=TIMEOUT)
    window.pause()


def test_a_scenario_without_remedy_or_metric_disables_the_toggle(make_window):
    window = make_window("lecture-house-prices")
    panel = window.narrative
    assert not panel.remedy_button.isEnabled() and not window.scenario_lab.remedy_action.isEnabled()
    assert not panel.metric_box.isVisibleTo(window)
    assert window.scenario_lab.set_remedy(True) is None
    assert not window.scenario.remedy_applied


@pytest.mark.parametrize("name, plot, colour_mode, log", [
    ("exploding-gradients", "grad", "gradient", True),
    ("dead-relus", "health", "gradient", True),
    ("learning-rate-too-high", "loss", "update", True),
])
def test_the_scenarios_diagnosis_is_put_in_front(make_window, name, plot, colour_mode, log):
    window = make_window(name)
    assert window.colour_buttons[colour_mode].isChecked()
    assert window.network_view.state.mode == colour_mode
    assert window.loss_plot.is_log_scale() is log
    p = window.plots
    emphasised = {"grad": p.grad.emphasised, "health": p.health.emphasised, "ratio": p.ratio.emphasised,
                  "loss": window.loss_plot.plot.emphasised}
    assert [k for k, on in emphasised.items() if on] == [plot]
    if plot == "health":
        assert p.health.focus == "dead_fraction"


def test_exploding_gradients_played_stop_on_the_last_finite_state_with_every_epoch_logged(
        make_window, qtbot):
    window = make_window("exploding-gradients")
    window.play()
    qtbot.waitUntil(lambda: bool(window.last_frame().banner), timeout=TIMEOUT)
    snap = settle(window, qtbot)
    assert not window.is_playing() and "diverged at epoch" in window.status_text()
    assert np.isfinite(snap.params).all() and np.isfinite(snap.grads).all()
    # The plots have every epoch up to the explosion, not one point.
    logged = window._mirror.log_epochs.view()
    assert logged.tolist() == list(range(snap.epoch))
    assert window.scenario_lab.measure_now()
    verdict = window.narrative.verdict_text()
    assert verdict.startswith("failure shows") and "∞" not in verdict


def test_remedy_on_the_command_line_trains_the_failure_first_as_the_ghost(make_window):
    window = make_window("learning-rate-too-high", seed=1)
    apply_remedy(window, 20)
    window.wait_until_drawn()
    assert window.scenario.remedy_applied and epoch_of(window) == 20
    assert np.array_equal(window.loss_plot.ghost_curve()[1],
                          headless_losses("learning-rate-too-high", 1, 20)[1])
    assert np.array_equal(window.last_frame().snapshot.params,
                          headless("learning-rate-too-high", 1, 20, remedy=True).net.params)


def test_remedy_on_the_command_line_needs_a_scenario_with_one(qapp, tmp_path, capsys):
    code = main.main(["--scenario", "lecture-house-prices", "--remedy", "--screenshot",
                      str(tmp_path / "x.png")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no remedy" in err[0]
