"""Step back after play: one unit of the granularity each time, to exactly the state a
headless Trainer reaches; a history of checkpoints within a byte budget that still reaches
far back; settings changes and weight edits on the way."""
import numpy as np

import gui.worker
from core import load_scenario
from gui.worker import BATCH, MIN_CHECKPOINTS
from window_helpers import TIMEOUT, on_worker, settle


def headless(name="lecture-house-prices"):
    return load_scenario(name).make_trainer(log_every=10 ** 9)     # no diagnostics: only params


def checkpoints(window, qtbot):
    """(optimiser steps, bytes) of every state step back keeps, read on the worker."""
    def read(trainer):
        return [(c.state.steps, state_bytes(c.state)) for c in window.worker._checkpoints]
    return on_worker(window, qtbot, read)


def state_bytes(state):
    arrays = [state.params, state.grad, state.order, state.rng[1], *state.optimizer.values()]
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def play_until(window, qtbot, done):
    window.play()
    qtbot.waitUntil(lambda: done(window.last_frame().snapshot), timeout=TIMEOUT)
    window.pause()
    return settle(window, qtbot)


def test_step_back_after_playing_flat_out_goes_back_one_epoch_at_a_time(make_window, qtbot):
    window = make_window()
    end = play_until(window, qtbot, lambda s: s.epoch > 3000).epoch
    reference = headless()
    reference.run_epochs(end - 5)
    loss_epochs, loss_values = reference.history.loss.arrays()
    expected = [reference.net.params.copy()]
    for _ in range(4):
        reference.run_epochs(1)
        expected.append(reference.net.params.copy())
    for back in range(1, 6):
        snap = settle(window, qtbot, window.step_back())
        assert (snap.epoch, snap.steps) == (end - back, end - back)
        assert np.array_equal(snap.params, expected[5 - back])
    # The plots follow: the loss curve up to here, bit for bit, and the diagnostics
    # exactly as the trainer logged them (the replayed stretches every epoch).
    mirror = window._mirror
    assert np.array_equal(mirror.loss_epochs.view(), loss_epochs)
    assert np.array_equal(mirror.loss.view(), loss_values)
    logged, grad_norm = on_worker(window, qtbot, lambda t: (list(t.history.log_epochs),
                                                            np.array(t.history.logs["grad_norm"])))
    assert mirror.log_epochs.view().tolist() == logged and logged[-1] < end - 5
    assert np.all(np.diff(logged) > 0)
    assert np.array_equal(mirror.logs["grad_norm"].view(), grad_norm)


def test_step_back_in_mini_batches_goes_back_one_optimiser_step(make_window, qtbot):
    window = make_window("noisy-minibatches")          # batches of one sample, 100 an epoch
    window.set_granularity(BATCH)
    settle(window, qtbot)
    end = play_until(window, qtbot, lambda s: s.steps > 3000).steps
    reference = headless("noisy-minibatches")
    reference.run_batches(end - 5)
    expected = [reference.net.params.copy()]
    for _ in range(4):
        reference.run_batches(1)
        expected.append(reference.net.params.copy())
    for back in range(1, 6):
        snap = settle(window, qtbot, window.step_back())
        assert snap.steps == end - back
        assert np.array_equal(snap.params, expected[5 - back])


def test_a_few_checkpoints_reach_hundreds_of_epochs_back(make_window, qtbot, monkeypatch):
    monkeypatch.setattr(gui.worker, "REWIND_CHECKPOINTS", 16)
    window = make_window()
    end = play_until(window, qtbot, lambda s: s.epoch > 20000).epoch
    kept = checkpoints(window, qtbot)
    assert len(kept) <= 16
    assert kept[0][0] == 0                              # the initial state stays
    assert end - kept[1][0] >= 1000                     # thinned, not dropped oldest first
    for _ in range(250):
        last = window.step_back()
    snap = settle(window, qtbot, last)
    assert last.result() is True and snap.epoch == end - 250
    reference = headless()
    reference.run_epochs(end - 250)
    assert np.array_equal(snap.params, reference.net.params)


def test_checkpoints_stay_within_the_byte_budget(make_window, qtbot, monkeypatch):
    window = make_window()
    one = state_bytes(on_worker(window, qtbot, lambda t: t.state()))
    budget = 10 * one
    monkeypatch.setattr(gui.worker, "REWIND_BYTES", budget)
    window.play()
    for _ in range(5):
        qtbot.wait(200)
        kept = checkpoints(window, qtbot)
        assert sum(size for _, size in kept) <= budget
    window.pause()
    snap = settle(window, qtbot)
    kept = checkpoints(window, qtbot)
    assert MIN_CHECKPOINTS <= len(kept) <= 10
    assert kept[0][0] == 0 and kept[-1][0] < snap.steps


def test_step_back_across_a_learning_rate_change_lands_on_an_exact_state(make_window, qtbot):
    window = make_window()
    for _ in range(3):
        settle(window, qtbot, window.step())
    window.run_epochs(40, wait=True)
    window.set_learning_rate(0.003)
    settle(window, qtbot, window.step())
    snap = settle(window, qtbot, window.step())
    reference = headless()
    reference.run_epochs(43)
    at_43 = reference.net.params.copy()
    reference.set_learning_rate(0.003)
    reference.run_epochs(2)
    assert snap.epoch == 45 and np.array_equal(snap.params, reference.net.params)
    settle(window, qtbot, window.step_back())
    snap = settle(window, qtbot, window.step_back())
    assert snap.epoch == 43 and np.array_equal(snap.params, at_43)
    assert "stepped back" not in window.message_text()
    # Epoch 42 was reached with the old rate, which the trainer no longer has: back to the
    # newest state kept from before the change, exactly, and say so.
    snap = settle(window, qtbot, window.step_back())
    reference = headless()
    reference.run_epochs(3)
    assert snap.epoch == 3 and np.array_equal(snap.params, reference.net.params)
    assert "stepped back to epoch 3: the settings or a weight changed after it" in window.message_text()
    # Training goes on from there with the new rate.
    snap = settle(window, qtbot, window.step())
    reference.set_learning_rate(0.003)
    reference.run_epochs(1)
    assert snap.epoch == 4 and np.array_equal(snap.params, reference.net.params)


def test_a_weight_edit_is_undone_by_one_step_back(make_window, qtbot):
    window = make_window()
    settle(window, qtbot, window.step())
    edited = settle(window, qtbot, window.edit_weight(16, "0.5"))
    assert edited.params[16] == 0.5 and window.last_frame().rewind_depth >= 1
    settle(window, qtbot, window.step())
    settle(window, qtbot, window.step())
    settle(window, qtbot, window.step_back())
    snap = settle(window, qtbot, window.step_back())
    assert snap.epoch == 1 and np.array_equal(snap.params, edited.params)
    reference = headless()
    initial = reference.net.params.copy()
    reference.run_epochs(1)
    snap = settle(window, qtbot, window.step_back())          # the edit undone
    assert snap.epoch == 1 and np.array_equal(snap.params, reference.net.params)
    snap = settle(window, qtbot, window.step_back())
    assert snap.epoch == 0 and np.array_equal(snap.params, initial)
    assert window.last_frame().rewind_depth == 0
    last = window.step_back()
    settle(window, qtbot, last)
    assert last.result() is False
    assert "nothing to step back to" in window.message_text()


def test_thinning_keeps_the_newest_dense_and_reaches_far_back():
    kept = [0]
    for step in range(1, 5001):                 # a checkpoint every step, room for 16
        kept.append(step)
        while len(kept) > 16:
            kept.pop(gui.worker._least_needed(np.array(kept, float)))
    assert kept[0] == 0 and kept[-2:] == [4999, 5000]
    assert kept[1] <= 2500                      # oldest first would keep 4985 on
    gaps = np.diff(kept[1:])
    assert np.all(gaps[:-1] >= gaps[1:])        # wider the further back: log-spaced
