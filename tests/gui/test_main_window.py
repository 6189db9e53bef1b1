"""The main window driven as a lecturer would: play, pause, step, step back, reset,
settings mid-run, divergence, keyboard.  Exactness is checked against a headless Trainer
built from the same scenario."""
import dataclasses
import math
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core import Network, load_scenario
from gui.graph_layout import MAX_FULL_LAYER, SHOWN_HEAD
from gui.worker import BATCH, EPOCH, SAMPLE
from window_helpers import TIMEOUT, epoch_of, loss_of, settle


def headless(name="lecture-house-prices", batch_size=None):
    sc = load_scenario(name)
    if batch_size is not None:
        sc.config.batch_size = batch_size
    return sc.make_trainer()


def test_opens_on_the_lecture_network_at_epoch_0_with_the_view_focused(make_window):
    window = make_window()
    window.wait_until_drawn()
    trainer = headless()
    initial_loss = trainer.evaluate(trainer.X, trainer.Y)[0]
    assert epoch_of(window) == 0
    assert loss_of(window) == pytest.approx(initial_loss, rel=1e-5)
    assert window.focusWidget() is window.network_view
    assert np.array_equal(window.last_frame().snapshot.params, trainer.net.params)


def test_the_status_bar_loss_is_the_loss_at_the_weights_drawn(make_window, qtbot):
    # A Step must visibly change it: the last epoch's loss is E at the weights before its
    # update, which after the first Step repeated E(w₀).
    window = make_window()
    trainer = headless()
    before = trainer.evaluate(trainer.X, trainer.Y)[0]
    snap = settle(window, qtbot, window.step())
    trainer.run_epochs(1)
    after = trainer.evaluate(trainer.X, trainer.Y)[0]
    assert snap.epoch == 1 and np.array_equal(snap.params, trainer.net.params)
    assert loss_of(window) == pytest.approx(after, rel=1e-5) and after < before


def test_play_trains_and_pause_stops_the_epoch_count(make_window, qtbot):
    window = make_window()
    first_loss = window.last_frame().loss_now
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) > 300, timeout=TIMEOUT)
    window.pause()
    settle(window, qtbot)
    stopped_at = epoch_of(window)
    assert loss_of(window) < first_loss
    qtbot.wait(300)
    window.wait_until_drawn()
    assert epoch_of(window) == stopped_at
    assert "paused" in window.status_text()


@pytest.mark.parametrize("unit", [EPOCH, BATCH, SAMPLE])
def test_step_takes_exactly_one_unit(make_window, qtbot, unit):
    window = make_window()
    settle(window, qtbot, window._send(lambda w: w.set_batch_size(4)))   # 10 houses: batches 4, 4, 2
    window.set_granularity(unit)
    settle(window, qtbot, window.step())
    snap = settle(window, qtbot, window.step())
    reference = headless(batch_size={EPOCH: 4, BATCH: 4, SAMPLE: 1}[unit])
    if unit == EPOCH:
        reference.run_epochs(2)
        assert (snap.epoch, snap.steps) == (2, 6)
    else:
        reference.run_batches(2)
        assert (snap.epoch, snap.steps, snap.batch_in_epoch) == (0, 2, 2)
    assert np.array_equal(snap.params, reference.net.params)


def test_at_two_steps_a_second_play_takes_one_epoch_at_a_time(make_window, qtbot):
    window = make_window()
    window.set_speed(2)
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) >= 1, timeout=TIMEOUT)    # the first step at once
    qtbot.wait(1000)
    window.pause()
    snap = settle(window, qtbot)
    assert 1 <= snap.epoch <= 4
    reference = headless()
    reference.run_epochs(snap.epoch)
    assert np.array_equal(snap.params, reference.net.params)


def test_step_back_returns_to_the_previous_weights_exactly(make_window, qtbot):
    window = make_window()
    settle(window, qtbot, window.step())
    after_one = window.last_frame().snapshot
    settle(window, qtbot, window.step())
    settle(window, qtbot, window.step())
    settle(window, qtbot, window.step_back())
    snap = settle(window, qtbot, window.step_back())
    assert snap.epoch == 1 and epoch_of(window) == 1
    assert np.array_equal(snap.params, after_one.params)
    assert np.array_equal(snap.grads, after_one.grads)
    # Stepping forward again retraces the same path.
    snap = settle(window, qtbot, window.step())
    reference = headless()
    reference.run_epochs(2)
    assert np.array_equal(snap.params, reference.net.params)


def test_step_back_reaches_at_least_200_steps_back(make_window, qtbot):
    window = make_window()
    for _ in range(210):
        last = window.step()
    settle(window, qtbot, last)
    for _ in range(200):
        last = window.step_back()
    snap = settle(window, qtbot, last)
    assert last.result() is True and snap.epoch == 10
    reference = headless()
    reference.run_epochs(10)
    assert np.array_equal(snap.params, reference.net.params)


def test_step_back_after_playing_goes_back_one_epoch(make_window, qtbot):
    window = make_window()
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) > 200, timeout=TIMEOUT)
    window.pause()
    end = settle(window, qtbot).epoch
    depth = window.last_frame().rewind_depth
    assert depth >= 2
    snap = settle(window, qtbot, window.step_back())
    assert snap.epoch == end - 1                        # one epoch, not one drawn frame
    reference = headless()
    reference.run_epochs(snap.epoch)
    assert np.array_equal(snap.params, reference.net.params)


def test_reset_restores_the_initial_weights_exactly(make_window, qtbot):
    window = make_window(seed=3)
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) > 100, timeout=TIMEOUT)
    snap = settle(window, qtbot, window.reset())
    assert snap.epoch == 0 and snap.steps == 0
    assert np.array_equal(snap.params, load_scenario("lecture-house-prices", seed=3).network.params)
    assert len(window._mirror.loss.view()) == 0     # the loss curve starts again too


def test_learning_rate_changes_mid_run_without_a_reset(make_window, qtbot):
    window = make_window()
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) > 100, timeout=TIMEOUT)
    field = window.controls.training.lr.field
    field.setText("0.05")
    field.editingFinished.emit()
    qtbot.waitUntil(lambda: window.last_frame().learning_rate == 0.05, timeout=TIMEOUT)
    before = epoch_of(window)
    qtbot.waitUntil(lambda: epoch_of(window) > before + 100, timeout=TIMEOUT)
    window.pause()
    snap = settle(window, qtbot)
    assert snap.epoch > before                       # no reset
    # Plain SGD: the last step subtracted exactly η·∂E/∂w with the new η.
    assert np.allclose(snap.update, 0.05 * snap.grads, rtol=1e-12, atol=0)


def test_a_bad_learning_rate_is_refused_with_a_message(make_window, qtbot):
    window = make_window()
    field = window.controls.training.lr.field
    field.setText("abc")
    field.editingFinished.emit()
    assert field.text() == "0.001"
    assert "'abc' is not a number" in window.message_text()
    snap = settle(window, qtbot, window.step())
    assert window.last_frame().learning_rate == 1e-3
    assert np.allclose(snap.update, 1e-3 * snap.grads, rtol=1e-12, atol=0)


def finite_outputs(outputs) -> bool:
    arrays = [getattr(outputs, f.name) for f in dataclasses.fields(outputs)]
    return all(np.isfinite(a).all() for a in arrays if a is not None)


@pytest.mark.parametrize("name, lr", [("lecture-pytorch", 1.0), ("exploding-gradients", None),
                                      ("learning-rate-too-high", None)])
def test_divergence_shows_the_banner_pauses_and_no_nan_reaches_the_view(
        make_window, qtbot, name, lr):
    window = make_window(name)
    frames = []
    window.worker.frame_ready.connect(frames.append)     # every frame the window is sent
    if lr is not None:
        window.set_learning_rate(lr)
    window.play()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=TIMEOUT)
    snap = settle(window, qtbot)
    assert re.search(r"diverged at epoch \d+: (loss became (inf|nan)|a weight became infinite) — "
                     r"try a lower learning rate or clipping", window.status_text())
    assert not window.is_playing()
    # Nothing non-finite reaches the view: weights, gradients, updates, every layer's α and
    # β for the shown sample, the loss, the output panel.
    assert frames
    for f in frames:
        s = f.snapshot
        assert all(np.isfinite(a).all() for a in (s.params, s.grads, s.update, *s.sample_alphas,
                                                  *s.sample_betas)), f.snapshot.epoch
        assert math.isfinite(f.loss_now) or s.steps == 0
        assert f.outputs is None or finite_outputs(f.outputs)
    # The drawing shows the last state whose forward pass is finite: a step or two on, the
    # headless run diverges.
    reference = headless(name)
    if lr is not None:
        reference.config.optimizer.lr = lr
    reference.run_epochs(snap.epoch)
    assert np.array_equal(snap.params, reference.net.params)
    reference.run_epochs(2)
    assert reference.diverged


def test_weights_whose_loss_overflows_are_never_shown(make_window, qtbot):
    # The step that ends a stretch of training can make finite weights whose loss is
    # already infinite (no step has failed yet: the next one would).  The view must show
    # the state before them, with the banner, whether the stretch ends there or runs on.
    reference = headless("lecture-pytorch")
    reference.config.optimizer.lr = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        while math.isfinite(reference.evaluate(reference.X, reference.Y)[0]):
            reference.run_epochs(1)
    k = reference.epoch                                 # E(w_k) = inf, E(w_{k−1}) finite
    before = headless("lecture-pytorch")
    before.config.optimizer.lr = 1.0
    before.run_epochs(k - 1)
    for stretches in ([k], [k - 1, 1], [k + 5]):
        window = make_window("lecture-pytorch")
        window.set_learning_rate(1.0)
        for epochs in stretches:
            snap = settle(window, qtbot, window.run_epochs(epochs))
        frame = window.last_frame()
        assert frame.banner and snap.epoch == k - 1 and math.isfinite(frame.loss_now), stretches
        assert all(np.isfinite(a).all() for a in (*snap.sample_alphas, *snap.sample_betas))
        assert np.array_equal(snap.params, before.net.params)


def summarised(size):
    return size if size <= MAX_FULL_LAYER else SHOWN_HEAD + 1


@pytest.mark.parametrize("hidden", [(5,), (40, 8)])
def test_drawn_edges_match_the_architecture(make_window, qtbot, hidden):
    window = make_window()
    choice = window.controls.architecture.choice()
    window.rebuild(type(choice)(hidden=hidden, activations=("relu",) * len(hidden) + ("linear",),
                                init="he", loss="half_sse", seed=0))
    settle(window, qtbot)
    sizes = [2, *hidden, 1]
    view = window.network_view
    expected = sum((1 + summarised(a)) * summarised(b) for a, b in zip(sizes[:-1], sizes[1:]))
    assert view.drawn_edge_count() == expected
    assert view.drawn_edge_count() + view.hidden_edge_count() == Network(sizes, "relu").n_params


def test_a_new_architecture_asks_before_throwing_training_away(make_window, qtbot):
    window = make_window()
    settle(window, qtbot, window.step())
    editor = window.controls.architecture
    editor.layer_rows[0][0].setValue(7)
    window.confirm_discard = lambda what: False
    editor.build_button.click()
    snap = settle(window, qtbot)
    assert snap.sizes == (2, 5, 1) and snap.epoch == 1
    assert editor.layer_rows[0][0].value() == 5          # the abandoned edit is undone
    editor.layer_rows[0][0].setValue(7)
    window.confirm_discard = lambda what: True
    editor.build_button.click()
    snap = settle(window, qtbot)
    assert snap.sizes == (2, 7, 1) and snap.epoch == 0


def test_closing_while_training_stops_the_thread(make_window, qtbot):
    window = make_window()
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) > 50, timeout=TIMEOUT)
    window.close()
    assert not window.training_thread_running()


def test_shortcuts_work_while_a_text_field_has_focus(make_window, qtbot):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=TIMEOUT)
    field = window.controls.training.lr.field
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(field, Qt.Key_Right)
    qtbot.waitUntil(lambda: window.last_frame().snapshot.epoch == 1, timeout=TIMEOUT)
    qtbot.keyClick(field, Qt.Key_PageDown)
    qtbot.waitUntil(lambda: window.last_frame().snapshot.epoch == 2, timeout=TIMEOUT)
    qtbot.keyClick(field, Qt.Key_PageUp)
    qtbot.waitUntil(lambda: window.last_frame().snapshot.epoch == 1, timeout=TIMEOUT)
    qtbot.keyClick(field, Qt.Key_Space)
    assert window.is_playing()
    qtbot.keyClick(field, Qt.Key_Space)
    assert not window.is_playing()
    qtbot.keyClick(field, Qt.Key_R)
    qtbot.waitUntil(lambda: window.last_frame().snapshot.epoch == 0, timeout=TIMEOUT)
    assert field.text() == "0.001"                      # the keys did not go into the field


def test_presentation_mode_and_zoom(make_window, qtbot):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=TIMEOUT)
    normal_size = window.font().pointSizeF()
    qtbot.keyClick(window.network_view, Qt.Key_F11)
    assert window.is_presenting()
    assert not window.controls_dock.isVisible() and not window.plots.isVisible()
    assert window.network_view.isVisible() and window.loss_plot.isVisible()
    assert window.font().pointSizeF() > 1.5 * normal_size
    qtbot.keyClick(window.network_view, Qt.Key_F11)
    assert not window.is_presenting() and window.controls_dock.isVisible() and window.plots.isVisible()
    assert window.font().pointSizeF() == pytest.approx(normal_size)
    qtbot.keyClick(window.network_view, Qt.Key_Equal, Qt.ControlModifier)
    assert window.font().pointSizeF() > normal_size
    qtbot.keyClick(window.network_view, Qt.Key_Minus, Qt.ControlModifier)
    qtbot.keyClick(window.network_view, Qt.Key_Minus, Qt.ControlModifier)
    assert window.font().pointSizeF() < normal_size


def test_presentation_mode_keeps_the_plot_a_scenario_is_diagnosed_by(make_window):
    window = make_window("vanishing-gradients")
    window.set_presentation(True)
    assert window.plots.isVisible() and window.plots.grad.isVisible()
    assert not window.plots.health.isVisible() and not window.plots.ratio.isVisible()
    window.set_presentation(False)
    assert window.plots.health.isVisible() and window.plots.ratio.isVisible()


def test_view_options_and_the_last_scenario_persist_between_runs(make_window, qtbot):
    from gui.app import last_scenario
    assert last_scenario() == "lecture-house-prices"    # nothing stored yet
    window = make_window("lecture-pytorch")
    window.loss_plot.set_log_scale(True)
    window.labels_box.setChecked(False)
    window.set_zoom(1.3)
    window.close()
    assert last_scenario() == "lecture-pytorch"
    again = make_window()
    assert again.loss_plot.is_log_scale() and not again.labels_box.isChecked()
    assert again.font_scale() == pytest.approx(1.3)


def test_editing_a_weight_refuses_bad_numbers_and_can_be_stepped_back(make_window, qtbot):
    window = make_window()
    before = window.last_frame().snapshot.params.copy()
    assert window.edit_weight(16, "abc") is None
    assert "'abc' is not a number: w17 kept" in window.message_text()
    snap = settle(window, qtbot, window.edit_weight(16, "0.5"))
    assert snap.params[16] == 0.5
    assert np.array_equal(np.delete(snap.params, 16), np.delete(before, 16))
    snap = settle(window, qtbot, window.step_back())
    assert np.array_equal(snap.params, before)


def test_regression_output_panel_is_in_original_units(make_window, qtbot):
    window = make_window()
    settle(window, qtbot)
    panel = window.output_panel
    x, y = panel.train_points.getData()
    prices = np.array([399900, 329900, 369000, 232000, 539900, 299900, 314900, 198999, 212000, 242500])
    assert np.allclose(np.sort(x), np.sort(prices / 1000))
    trainer = headless()
    predicted = window.dataset.y_to_original(trainer.net.predict(trainer.X))[:, 0]
    assert np.allclose(y, predicted / 1000)
    assert "k$" in panel.getPlotItem().getAxis("bottom").labelText


def test_a_message_never_hides_the_epoch_and_the_loss(make_window, qtbot):
    # DESIGN.md: the status bar always shows Epoch N (QStatusBar.showMessage hid it, and a
    # message given before the window showed was drawn over it).
    window = make_window(show=False)
    window.show_message("Opened plants.csv", 200)
    window.show()
    qtbot.waitExposed(window)
    assert window.message_text() == "Opened plants.csv"
    assert window.epoch_label.isVisible() and window.loss_label.isVisible()
    assert not window.epoch_label.geometry().intersects(window.message_label.geometry())
    qtbot.waitUntil(lambda: window.message_text() == "", timeout=TIMEOUT)


def test_pausing_at_a_set_speed_tells_the_window_it_is_paused(make_window, qtbot):
    # At a set speed every step is shown as it is taken, so the worker must still send the
    # window a frame saying play has stopped (the status bar said "2 epochs/s" for ever).
    window = make_window()
    window.set_speed(20)
    window.play()
    qtbot.waitUntil(lambda: epoch_of(window) >= 3, timeout=TIMEOUT)
    window.pause()
    qtbot.waitUntil(lambda: not window.last_frame().playing, timeout=TIMEOUT)
    settle(window, qtbot)
    assert "paused" in window.status_text()
    assert window.network_view._editing                 # a click on an edge edits it again
