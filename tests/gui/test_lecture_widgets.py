"""Lecture mode's widgets: they show what core computed, legibly, and signal what the
lecturer asked for."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from core import load_scenario  # noqa: E402
from core.activation_profile import activation_profile  # noqa: E402
from core.explain import explain  # noqa: E402
from core.formula import number_text  # noqa: E402
from core.gradcheck import gradient_check  # noqa: E402
from core.phases import PhaseStepper  # noqa: E402
from gui.activation_view import DEAD, NORMAL, SATURATED, ActivationView  # noqa: E402
from gui.derivation_panel import DerivationPanel  # noqa: E402
from gui.gradcheck_view import WORST_FAILED, GradCheckView  # noqa: E402
from gui.lecture_panel import LecturePanel  # noqa: E402


@pytest.fixture()
def lecture():
    return load_scenario("lecture-house-prices", seed=0)


def test_derivation_panel_shows_the_chain_and_scales_for_presentation(qtbot, lecture):
    panel = DerivationPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    e = explain(lecture.network, lecture.X, lecture.Y, lecture.loss, "w1", sample=3)
    panel.show_explanation(e)
    shown = panel.toPlainText()
    assert "∂αO1" in shown and "w17" in shown          # subscripts render as sub-text
    for f in e.factors:
        assert number_text(f.value) in shown
    size = panel.font().pointSizeF()
    panel.set_font_scale(2.0)
    assert panel.font().pointSizeF() == pytest.approx(2 * size)
    for f in e.factors:
        assert number_text(f.value) in panel.toPlainText()
    assert not panel.grab().isNull()


def test_derivation_panel_breaks_a_long_chain_into_rows_that_fit(qtbot, lecture):
    panel = DerivationPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 600)
    panel.show()
    panel.set_font_scale(2.0)
    panel.show_explanation(explain(lecture.network, lecture.X, lecture.Y, lecture.loss, "w1", 0))
    assert 1 <= panel._per_row < 5
    panel.resize(3000, 600)
    qtbot.waitUntil(lambda: panel._per_row == 5)


def test_gradcheck_view_highlights_the_worst_row_and_signals(qtbot, lecture):
    view = GradCheckView()
    qtbot.addWidget(view)
    net = lecture.network
    net.set_broken_sigmoid_derivative(True)
    result = gradient_check(net, lecture.X, lecture.Y, lecture.loss)
    view.show_result(result)
    assert view.table.rowCount() == 21
    worst = view.worst_row()
    assert worst == int(np.argmax(result.rel_error))
    assert view.table.item(worst, 0).background().color() == WORST_FAILED
    assert view.table.item(worst, 0).font().bold()
    others = [r for r in range(21) if r != worst]
    assert all(not view.table.item(r, 0).font().bold() for r in others)
    assert "FAIL" in view.summary.text()
    with qtbot.waitSignal(view.run_requested):
        qtbot.mouseClick(view.run_button, Qt.LeftButton)
    with qtbot.waitSignal(view.broken_toggled) as toggled:
        view.broken_box.setChecked(True)
    assert toggled.args == [True]
    view.set_broken(False)                    # the window's echo: no signal, box follows
    assert not view.broken_box.isChecked()
    net.set_broken_sigmoid_derivative(False)
    view.show_result(gradient_check(net, lecture.X, lecture.Y, lecture.loss))
    assert "PASS" in view.summary.text()


def test_activation_view_marks_saturated_and_dead_points(qtbot):
    view = ActivationView()
    qtbot.addWidget(view)
    view.show_profile(activation_profile("sigmoid", [-9.0, 0.3, 7.0], ["H1", "H2", "H3"]),
                      "the hidden layer")
    xs, ys = view.curve_points.getData()
    assert np.allclose(xs, [-9.0, 0.3, 7.0])
    brushes = [spot.brush().color().name() for spot in view.curve_points.points()]
    assert brushes == [SATURATED, NORMAL, SATURATED]
    assert "2 of 3 saturated" in view.caption.text()
    assert view.curve.getData()[0].min() <= -9.0     # the curve reaches every point
    view.show_profile(activation_profile("relu", [[-1.0, 2.0]], ["H1", "H2"]))
    brushes = [spot.brush().color().name() for spot in view.curve_points.points()]
    assert brushes == [DEAD, NORMAL]
    assert np.allclose(view.slope_points.getData()[1], [0.0, 1.0])
    view.set_font_scale(2.0)
    assert not view.grab().isNull()


def test_lecture_panel_follows_the_phases_and_explains_clicks(qtbot, lecture):
    panel = LecturePanel()
    qtbot.addWidget(panel)
    panel.show()
    stepper = PhaseStepper(lecture.make_trainer())
    panel.show_step(stepper)
    assert "α" in panel.title.text() and panel.values.rowCount() == 5
    assert panel.activation.profile().alphas.size == 50      # all 10 samples × 5 neurons
    panel.explain(stepper, "w17")
    assert panel.tabs.currentWidget() is panel.derivation
    with qtbot.waitSignal(panel.sample_changed) as changed:
        panel.one_sample.setChecked(True)
    assert changed.args == [0]
    while stepper.phase.kind != "update":
        stepper.next()
        panel.show_step(stepper)
    assert panel.values.columnCount() == 4 and panel.values.rowCount() == 21
    after = panel.values.item(16, 3).text()
    assert after == number_text(stepper.phase.batch[16], 7)
