"""Lecture mode's widgets: they show what core computed, legibly, and signal what the
lecturer asked for."""
import os
import re

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
from gui.lecture_panel import RICH_ROLE, LecturePanel, RichTextDelegate, sample_heading  # noqa: E402


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


# -- what the class reads: the lecture's i, real sub- and superscripts -------------------------
RAW = re.compile(r"[αβδΣ]_|\^\(")      # α_H1, e^(−α): Unicode for a terminal, not for a screen


def test_the_panel_counts_samples_from_one_as_the_lecture_does(qtbot, lecture):
    panel = LecturePanel()
    qtbot.addWidget(panel)
    stepper = PhaseStepper(lecture.make_trainer())
    panel.show_step(stepper)
    panel.one_sample.setChecked(True)
    assert (panel.sample_box.minimum(), panel.sample_box.maximum()) == (1, 10)
    with qtbot.waitSignal(panel.sample_changed) as changed:
        panel.sample_box.setValue(4)
    assert changed.args == [3] and panel.sample() == 3          # core's position of i = 4
    panel.show_step(stepper)
    assert panel.values.horizontalHeaderItem(1).text() == "sample i = 4"
    assert panel.values.item(0, 1).text() == number_text(stepper.phase.per_sample[3][0], 5)
    panel.explain(stepper, "w1")
    assert "sample i = 4:" in panel.derivation.toPlainText()
    # A mini-batch: i counts the batch, the row is the training sample the toolbar shows.
    phase = stepper.phase
    shuffled = type("Phase", (), {"rows": np.array([36, 2])})()
    assert sample_heading(shuffled, 0) == "sample i = 1 (row 37)"
    assert sample_heading(phase, 9) == "sample i = 10"


@pytest.mark.parametrize("scenario", ["lecture-house-prices", "dead-relus"])
def test_every_phase_is_written_with_real_subscripts_and_superscripts(qtbot, scenario):
    panel = LecturePanel()
    qtbot.addWidget(panel)
    panel.resize(600, 900)
    panel.show()
    stepper = PhaseStepper(load_scenario(scenario, seed=0).make_trainer())
    assert isinstance(panel.values.itemDelegateForColumn(0), RichTextDelegate)
    kinds, sigmoids = set(), False
    while True:
        panel.show_step(stepper)
        kinds.add(stepper.phase.kind)
        shown = [panel.title.text(), panel.description.text(), panel.activation.caption.text()]
        labels = [panel.values.item(r, 0).data(RICH_ROLE) for r in range(panel.values.rowCount())]
        assert all("<sub>" in label for label in labels if label != "E"), labels
        for text_ in shown + labels:
            assert not RAW.search(text_), text_
        if stepper.phase.kind == "beta" and "σ" in panel.description.text():
            sigmoids = True
            assert "e<sup>−α</sup>" in panel.description.text()
        if stepper.phase.kind == "update":
            break
        stepper.next()
    assert kinds == {"alpha", "beta", "loss", "delta", "gradient", "update"}
    assert sigmoids                              # both have a sigmoid layer (the output)
    panel.activation.show_profile(stepper.activation_profile(1), "the first hidden layer")
    hidden_sigmoid = stepper.trainer.net.activation_names[0] == "sigmoid"
    assert ("<sup>−α</sup>" in panel.activation.caption.text()) == hidden_sigmoid
    assert not panel.values.grab().isNull()      # the delegate paints


def test_a_click_folds_the_values_table_and_the_button_unfolds_it(qtbot, lecture):
    panel = LecturePanel()
    qtbot.addWidget(panel)
    panel.show()
    stepper = PhaseStepper(lecture.make_trainer())
    panel.show_step(stepper)
    assert panel.values.isVisible() and panel.values_button.isChecked()
    panel.explain(stepper, "w17")
    assert panel.values.isHidden() and not panel.values_button.isChecked()
    stepper.next()
    panel.show_step(stepper)                     # the next phase keeps it folded
    assert panel.values.isHidden() and panel.values.rowCount() == 5
    qtbot.mouseClick(panel.values_button, Qt.LeftButton)
    assert panel.values.isVisible()
