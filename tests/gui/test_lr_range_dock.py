"""The learning-rate range test through the window: it pauses, sweeps on the training
thread, shows the curve, leaves the weights exactly as they were, and "Use η = …" trains
on at the suggested rate."""
import numpy as np
from PySide6.QtCore import Qt

from core import load_scenario
from core.lr_range import lr_range_test
from window_helpers import TIMEOUT, on_worker


def trainer_state(trainer):
    return (trainer.net.params.copy(), trainer.grad.copy(), trainer.optimizer.update.copy(),
            trainer.epoch, trainer.steps, trainer.history.loss.arrays(), trainer.config.optimizer.lr)


def test_the_range_test_leaves_the_weights_exactly_and_use_eta_sets_the_rate(make_window, qtbot):
    window = make_window("learning-rate-too-high")
    window.run_epochs(20, wait=True)
    tool = window.lr_range
    before = on_worker(window, qtbot, trainer_state)

    future = tool.run()
    assert tool.dock.isVisible()
    qtbot.waitUntil(lambda: tool.view.result is not None, timeout=TIMEOUT)
    after = on_worker(window, qtbot, trainer_state)
    for a, b in zip(before, after):
        if isinstance(a, tuple):
            assert all(np.array_equal(x, y) for x, y in zip(a, b))
        else:
            assert np.array_equal(a, b)
    # The sweep ran from the weights the window had: the same as headless.
    reference = load_scenario("learning-rate-too-high").make_trainer()
    reference.run_epochs(before[3])
    expected = lr_range_test(reference)
    assert np.array_equal(future.result().lrs, expected.lrs)
    assert np.array_equal(future.result().losses, expected.losses)
    suggested = expected.suggested_lr

    qtbot.mouseClick(tool.view.use_button, Qt.LeftButton)
    assert window.controls.training.lr.value() == suggested
    assert on_worker(window, qtbot, lambda t: t.config.optimizer.lr) == suggested
    assert tool.action.isEnabled()


def test_the_range_test_pauses_training_first(make_window, qtbot):
    window = make_window("noisy-minibatches")
    window.set_speed(5)
    window.play()
    future = window.lr_range.run()
    assert not window.is_playing()
    qtbot.waitUntil(lambda: not window.lr_range.running, timeout=TIMEOUT)
    assert future.exception() is None and window.lr_range.view.result is not None
    assert not window.is_playing()


def test_a_range_test_the_trainer_refuses_says_why(make_window, qtbot):
    # A weight so large the loss overflows (after a divergence the window shows the last
    # finite state, from which a range test may run).
    window = make_window("lecture-pytorch")
    future = window.edit_weight(16, "1e300")            # w17: the linear output ≈ 1e300
    qtbot.waitUntil(future.done, timeout=TIMEOUT)
    window.wait_until_drawn()
    tool = window.lr_range
    future = tool.run()
    qtbot.waitUntil(lambda: not tool.running, timeout=TIMEOUT)
    assert future.exception() is not None
    assert tool.view.result is None
    assert tool.view.caption.text().startswith("The range test could not run:")
    # The typed weight stands (it is the user's): nothing was trained or rewound for it.
    snap = window.last_frame().snapshot
    assert snap.params[16] == 1e300 and snap.steps == 0 and not window.last_frame().banner
