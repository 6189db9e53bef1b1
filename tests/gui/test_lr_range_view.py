"""The learning-rate range view: draws the sweep on a log η axis, marks the suggestion,
and offers to train at it."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from core import load_scenario  # noqa: E402
from core.lr_range import lr_range_test  # noqa: E402
from gui.lr_range_view import LRRangeView  # noqa: E402


def sweep(name):
    return lr_range_test(load_scenario(name, seed=0).make_trainer())


@pytest.fixture()
def view(qtbot):
    v = LRRangeView()
    qtbot.addWidget(v)
    v.resize(640, 420)
    v.show()
    return v


def test_it_draws_the_curve_on_a_log_axis_with_the_suggestion(view):
    result = sweep("learning-rate-too-high")
    view.show_result(result)
    xs, ys = view.curve.getOriginalDataset()
    assert np.array_equal(xs, result.lrs) and np.array_equal(ys, result.smoothed)
    assert view.plot.getAxis("bottom").logMode
    assert np.allclose(view.curve.getData()[0], np.log10(result.lrs))     # drawn in log η
    assert view.suggestion.isVisible()
    assert view.suggestion.value() == pytest.approx(math.log10(result.suggested_lr))
    assert f"{result.suggested_lr:.3g}" in view.caption.text()
    assert view.suggestion.label.toPlainText() == f"suggested η = {result.suggested_lr:.3g}"
    lowest_x, _ = view.lowest.getData()
    assert lowest_x[0] == pytest.approx(math.log10(result.min_lr))


def test_full_batch_shows_no_raw_curve_and_minibatches_do(view):
    view.show_result(sweep("learning-rate-too-high"))
    assert view.raw.getOriginalDataset()[0] is None          # nothing drawn
    noisy = sweep("noisy-minibatches")
    view.show_result(noisy)
    assert np.array_equal(view.raw.getOriginalDataset()[1], noisy.losses)


def test_a_curve_spanning_decades_gets_a_log_loss_axis(view):
    view.show_result(sweep("exploding-gradients"))        # starts near 10³, ends near 0.3
    assert view.plot.getAxis("left").logMode
    gentle = sweep("dead-relus")                          # 0.52 → 0.27 → 0.6
    assert gentle.smoothed.max() < 20 * gentle.smoothed.min()
    view.show_result(gentle)
    assert not view.plot.getAxis("left").logMode


def test_use_button_emits_the_suggested_rate(view, qtbot):
    assert not view.use_button.isEnabled()
    result = sweep("lecture-pytorch")
    view.show_result(result)
    with qtbot.waitSignal(view.rate_chosen) as signal:
        qtbot.mouseClick(view.use_button, Qt.LeftButton)
    assert signal.args == [pytest.approx(result.suggested_lr)]
    view.clear()
    assert not view.use_button.isEnabled() and not view.suggestion.isVisible()


def test_font_scale_grows_the_caption(view):
    before = view.caption.font().pointSizeF()
    view.set_font_scale(2.0)
    assert view.caption.font().pointSizeF() > 1.5 * before
