"""Lecture mode in the window, driven as a lecturer with a clicker would: L, then Right /
PageDown through the phases of one step and Left / PageUp back; clicks on the graph for a
chain rule; the gradient check and its "break σ′" switch.  Exactness is checked against a
headless Trainer of the same scenario and seed."""
import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from core import load_scenario
from core.formula import number_html, number_text
from gui.gradcheck_view import WORST_FAILED
from gui.lecture_mode import BROKEN_SUFFIX

TIMEOUT = 10000


def idle(window, qtbot):
    """Wait until lecture mode's worker commands are answered and drawn."""
    qtbot.waitUntil(window.lecture.is_idle, timeout=TIMEOUT)
    window.wait_until_drawn()


def press(window, qtbot, key):
    qtbot.keyClick(window.network_view, key)
    idle(window, qtbot)


def seen(window):
    """What the graph shows: highlight and overlay."""
    s, view = window.network_view.state, window.network_view
    return (s.highlight_levels, s.highlight_units, view.overlay.neuron_text, view.overlay.edge_text)


def on_worker(window, command):
    return window.worker.with_trainer(command).result(timeout=10)


@pytest.fixture
def lecture_window(make_window, qtbot):
    window = make_window(seed=0)
    press(window, qtbot, Qt.Key_L)
    assert window.lecture.is_active()
    return window


def test_clicker_walks_one_step_phase_by_phase_to_exactly_one_ordinary_step(lecture_window, qtbot):
    window = lecture_window
    stepper = window.lecture.stepper()
    initial = load_scenario("lecture-house-prices", seed=0).network.params
    assert not window.play_action.isEnabled()
    kinds, views = [stepper.phase.kind], [seen(window)]
    for key in [Qt.Key_Right, Qt.Key_PageDown] * (stepper.count // 2 + 1):
        if stepper.phase.kind == "update":
            break
        press(window, qtbot, key)
        kinds.append(stepper.phase.kind)
        views.append(seen(window))
    assert kinds == ["alpha", "beta", "alpha", "beta", "loss", "delta", "gradient", "delta",
                     "gradient", "update"]
    for before, after in zip(views, views[1:]):
        assert before != after                      # every phase changes what the graph shows
    assert all(v[2] or v[3] for v in views)         # ... and every phase writes numbers on it

    reference = load_scenario("lecture-house-prices", seed=0).make_trainer()
    reference.run_epochs(1)                         # the window's ordinary step
    snap = window.last_frame().snapshot
    assert snap.steps == 1 and re.search(r"Epoch 1\b", window.status_text())
    assert np.array_equal(snap.params, reference.net.params)
    update = stepper.phase
    assert np.array_equal(update.old, initial) and np.array_equal(update.batch, reference.net.params)
    w17 = views[-1][3][16]                          # old → new on the edge w17
    assert w17.startswith("w17: ") and "→" in w17

    backwards = []
    for key in [Qt.Key_Left, Qt.Key_PageUp] * (stepper.count // 2 + 1):
        press(window, qtbot, key)
        backwards.append(seen(window))
        if stepper.index == 0:
            break
    snap = window.last_frame().snapshot
    assert snap.steps == 0 and np.array_equal(snap.params, initial)
    assert backwards == views[-2::-1]               # the same pictures, in reverse

    press(window, qtbot, Qt.Key_L)                  # out of lecture mode: Right is a step again
    assert window.play_action.isEnabled() and not window.network_view.overlay
    assert window.network_view.state.highlight_levels is None and not window.side.isHidden()
    qtbot.keyClick(window.network_view, Qt.Key_Right)
    qtbot.waitUntil(lambda: window.last_frame().snapshot.steps == 1, timeout=TIMEOUT)
    assert np.array_equal(window.last_frame().snapshot.params, reference.net.params)


def drawn_betas(window) -> dict:
    """(level, unit) → the text lines drawn inside each hidden or output neuron."""
    frame = window.network_view.graph_item.frame
    return {(look.node.level, look.node.unit): look.lines for look in frame.nodes
            if look.node.kind == "unit" and look.node.level > 0}


def test_the_forward_pass_shows_beta_only_once_it_is_computed(lecture_window, qtbot):
    # In the α phase the neurons must not already show the β the next phase computes.
    window = lecture_window
    stepper, view = window.lecture.stepper(), window.network_view
    known = []
    while stepper.phase.kind in ("alpha", "beta"):
        phase = stepper.phase
        lines = drawn_betas(window)
        known.append((phase.kind, phase.level, view.state.beta_unknown_from,
                      {level for (level, _), text in lines.items() if len(text) > 1}))
        press(window, qtbot, Qt.Key_Right)
    assert [k[:3] for k in known] == [("alpha", 1, 1), ("beta", 1, 2), ("alpha", 2, 2),
                                      ("beta", 2, 3)]
    # Levels showing a β (a second line under the name) are exactly those computed.
    assert [k[3] for k in known] == [set(), {1}, {1}, {1, 2}]
    assert view.state.beta_unknown_from is None                      # from the loss on: all known
    press(window, qtbot, Qt.Key_L)
    assert view.state.beta_unknown_from is None


def test_graph_shows_the_phases_values_for_the_batch_or_one_sample(lecture_window, qtbot):
    window = lecture_window
    panel, view = window.lecture.panel, window.network_view
    stepper = window.lecture.stepper()
    phase = stepper.phase                           # α of the hidden layer
    assert phase.kind == "alpha"
    means = phase.neuron_values(None)
    assert view.overlay.neuron_text == {k: f"mean α = {number_text(v)}" for k, v in means.items()}
    assert panel.activation.profile().labels[:5] == ("H1", "H2", "H3", "H4", "H5")
    panel.one_sample.setChecked(True)
    panel.sample_box.setValue(4)                    # the lecture's i = 4: position 3 in core
    idle(window, qtbot)
    fourth = phase.neuron_values(3)
    assert view.overlay.neuron_text == {k: f"α = {number_text(v)}" for k, v in fourth.items()}
    assert fourth != means
    # The toolbar's "β of sample" box names the same sample by the same number.
    assert window.sample_box.value() == int(stepper.rows[3]) + 1 == 4
    assert panel.values.horizontalHeaderItem(1).text() == "sample i = 4"
    while stepper.phase.kind != "loss":
        press(window, qtbot, Qt.Key_Right)
    assert view.overlay.neuron_text == {(2, 0): f"E₄ = {number_text(stepper.phase.values(3)[0])}"}
    panel.one_sample.setChecked(False)
    idle(window, qtbot)
    assert view.overlay.neuron_text == {(2, 0): f"E = {number_text(stepper.phase.batch[0])}"}


def test_clicking_an_edge_shows_its_chain_rule_with_the_engines_gradient(lecture_window, qtbot):
    window = lecture_window
    view, panel = window.network_view, window.lecture.panel
    (x0, y0), (x1, y1) = view.graph_item.layout.edge_segment(16)        # w17: H1 → O1
    where = view.mapFromScene(x0 + 0.45 * (x1 - x0), y0 + 0.45 * (y1 - y0))
    assert view.edge_at(view.mapToScene(where)) == 16
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=QPoint(where))
    idle(window, qtbot)
    shown = panel.derivation.explanation()
    assert shown is not None and shown.name == "w17"
    assert panel.tabs.currentWidget() is panel.derivation
    sc = load_scenario("lecture-house-prices", seed=0)
    _, grads = sc.network.loss_and_gradients(sc.X, sc.Y, sc.loss)
    assert shown.engine_batch == pytest.approx(grads.flat[16], rel=1e-12)
    assert number_text(grads.flat[16]) in panel.derivation.toPlainText()
    # A neuron: its δ, and its layer on the activation curve.
    with qtbot.waitSignal(view.explain_requested):
        view.explain_requested.emit("H2")
    idle(window, qtbot)
    assert panel.derivation.explanation().name == "H2"
    assert panel.activation.profile().labels[0] == "H1"
    view.explain_requested.emit("x1")               # an input has no δ: said, not raised
    idle(window, qtbot)
    assert panel.derivation.explanation().name == "H2"
    assert "input" in window.message_text()


def test_breaking_sigmas_derivative_fails_the_check_and_mending_it_passes(lecture_window, qtbot):
    window = lecture_window
    check = window.lecture.panel.gradcheck
    qtbot.mouseClick(check.run_button, Qt.LeftButton)
    idle(window, qtbot)
    assert check.result().passed and "PASS" in check.summary.text()
    check.broken_box.setChecked(True)               # the check reruns by itself
    idle(window, qtbot)
    result = check.result()
    assert result.broken_derivative and not result.passed and "FAIL" in check.summary.text()
    assert check.table.item(result.worst, 0).background().color() == WORST_FAILED
    assert window.windowTitle().endswith(BROKEN_SUFFIX) and window.lecture.broken_label.isVisible()
    assert on_worker(window, lambda t: t.net.broken_sigmoid_derivative)
    # The phases are computed with the broken σ′ too: δ of the output drops its (1 − β).
    stepper = window.lecture.stepper()
    while stepper.phase.kind != "delta":
        press(window, qtbot, Qt.Key_Right)
    sc = load_scenario("lecture-house-prices", seed=0)
    beta = sc.network.predict(sc.X)
    assert stepper.phase.batch[0] == pytest.approx(float(np.sum((beta - sc.Y) * beta)), rel=1e-12)
    check.broken_box.setChecked(False)
    idle(window, qtbot)
    assert check.result().passed and not check.result().broken_derivative
    assert not window.windowTitle().endswith(BROKEN_SUFFIX)
    assert not window.lecture.broken_label.isVisible()
    assert not on_worker(window, lambda t: t.net.broken_sigmoid_derivative)


def test_a_new_scenario_in_lecture_mode_gets_its_own_phases(lecture_window, qtbot):
    window = lecture_window
    window.lecture.panel.gradcheck.broken_box.setChecked(True)
    idle(window, qtbot)
    window.load_scenario("lecture-pytorch", seed=1)
    idle(window, qtbot)
    stepper = window.lecture.stepper()
    assert window.lecture.is_active() and stepper.index == 0
    assert stepper.trainer is on_worker(window, lambda t: t)
    assert not window.lecture.is_broken()           # a new network has the true derivative
    press(window, qtbot, Qt.Key_Right)
    assert stepper.phase.kind == "beta"


def test_the_switch_refuses_where_breaking_sigma_changes_nothing(lecture_window, qtbot):
    window = lecture_window
    window.load_scenario("dead-relus", seed=0)      # ReLUs, and σ fused with cross-entropy
    idle(window, qtbot)
    window.lecture.panel.gradcheck.broken_box.setChecked(True)
    idle(window, qtbot)
    assert not window.lecture.is_broken() and not window.lecture.panel.gradcheck.broken_box.isChecked()
    assert "changes no gradient" in window.message_text()
    assert not on_worker(window, lambda t: t.net.broken_sigmoid_derivative)


def _overlapping(a, b) -> bool:
    return a.intersects(b) and not a.intersected(b).isEmpty()


@pytest.mark.parametrize("size, scale", [((1230, 920), 1.6), ((820, 640), 1.0)])
def test_the_lecture_nets_update_fits_on_the_graph_without_overlaps(qtbot, size, scale):
    """Presentation mode at 1920 × 1080 and a desk window: all 21 old → new plates."""
    from PySide6.QtCore import QRectF

    from core.phases import PhaseStepper
    from gui.graph_layout import GraphLayout
    from gui.graph_overlay import MIN_PX, Overlay, place_plates
    from gui.lecture_mode import overlay_texts
    stepper = PhaseStepper(load_scenario("lecture-house-prices", seed=0).make_trainer())
    while stepper.phase.kind != "update":
        stepper.next()
    _, texts = overlay_texts(stepper.phase, None, (2, 5, 1))
    assert len(texts) == 21
    layout = GraphLayout((2, 5, 1), *size, scale, ["price_per_sqm", "bedrooms"], ["sold_price"])
    plates = place_plates(layout, Overlay({}, texts))
    assert sorted(p.text.replace("\n", " ") for p in plates) == sorted(texts.values())
    assert min(p.px for p in plates) >= MIN_PX * scale
    nodes = [QRectF(n.x - n.r, n.y - n.r, 2 * n.r, 2 * n.r) for n in layout.nodes]
    for i, plate in enumerate(plates):
        assert not any(_overlapping(plate.rect, other.rect) for other in plates[i + 1:])
        assert not any(_overlapping(plate.rect, node) for node in nodes)
        assert 0 <= plate.rect.left() and plate.rect.right() <= layout.width


def test_plates_that_cannot_all_fit_are_left_out_together(qtbot):
    from gui.graph_layout import GraphLayout
    from gui.graph_overlay import Overlay, place_plates
    layout = GraphLayout((2, 10, 10, 10, 1), 600, 400, 1.6)
    neurons = {(2, u): f"mean α = 0.{u}1234" for u in range(10)}
    assert place_plates(layout, Overlay(neurons, {})) == []
    roomy = GraphLayout((2, 10, 10, 10, 1), 2400, 1600, 1.0)
    assert len(place_plates(roomy, Overlay(neurons, {}))) == 10


def test_reset_in_lecture_mode_returns_to_the_first_phase_at_the_initial_weights(lecture_window, qtbot):
    window = lecture_window
    stepper = window.lecture.stepper()
    for _ in range(stepper.count + 2):              # into the second step
        press(window, qtbot, Qt.Key_PageDown)
    assert window.last_frame().snapshot.steps == 1 and stepper.index == 2
    press(window, qtbot, Qt.Key_R)
    stepper = window.lecture.stepper()
    snap = window.last_frame().snapshot
    assert stepper.index == 0 and stepper.phase.step == 0 and snap.steps == 0
    assert np.array_equal(snap.params, load_scenario("lecture-house-prices", seed=0).network.params)


# -- presentation mode: the chain rule's numbers above the fold ----------------------------------
def below_the_fold(derivation):
    """How far (px) the end of what a class must read — the chain with its values and
    product, then the engine's verdict on it, and a δ recursion — lies below the derivation
    view's bottom (≤ 0: all of it in view), with the view not scrolled."""
    doc = derivation.document()
    assert derivation.verticalScrollBar().value() == 0
    verdict = doc.find("agrees with the engine")      # (find() matches &nbsp; as a space)
    product = doc.find(re.sub("<[^>]+>", "", number_html(derivation.explanation().total)))
    assert not verdict.isNull() and not product.isNull()
    ends = [derivation.cursorRect(verdict).bottom(), derivation.cursorRect(product).bottom()]
    recursion = doc.find("weighted and summed")
    if not recursion.isNull():                      # its table's last row: δ's value
        recursion.movePosition(QTextCursor.NextBlock)
        table = recursion.currentTable()
        last = table.cellAt(table.rows() - 1, table.columns() - 1).lastCursorPosition()
        ends.append(derivation.cursorRect(last).bottom())
    return max(ends) - derivation.viewport().height()


@pytest.mark.parametrize("size, present, scenario, name, sample", [
    ((1440, 900), True, "lecture-house-prices", "w1", 4),
    ((1440, 900), True, "lecture-house-prices", "w17", None),
    ((1440, 900), True, "dead-relus", "w1", 7),          # the δ recursion
    ((1920, 1080), True, "lecture-house-prices", "w17", None),
    ((1920, 1080), True, "dead-relus", "w1", 7),
    ((1440, 900), False, "lecture-house-prices", "w1", 4),
], ids=["1440-w1", "1440-w17-sum", "1440-deep", "1920-w17-sum", "1920-deep", "desk-w1"])
def test_a_chain_rule_is_read_without_scrolling(make_window, qtbot, size, present, scenario, name,
                                                sample):
    window = make_window(scenario, seed=0)
    window.set_presentation(present)
    QApplication.processEvents()        # the full-screen geometry arrives queued: first that,
    window.resize(*size)                # then a projector's size (the offscreen screen is smaller)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=TIMEOUT)
    press(window, qtbot, Qt.Key_L)
    panel = window.lecture.panel
    if sample is not None:
        panel.one_sample.setChecked(True)
        panel.sample_box.setValue(sample)
    window.lecture.explain(name)
    idle(window, qtbot)
    derivation = panel.derivation
    qtbot.waitUntil(lambda: not derivation._relayout_timer.isActive(), timeout=TIMEOUT)
    shown = derivation.explanation()
    assert shown.name == name and (sample is None) != shown.per_sample
    assert below_the_fold(derivation) <= 0
    assert panel.values.isHidden() and not panel.values_button.isChecked()   # folded for the chain
    # Legible: never below MIN_FIT of the size asked for, which is presentation size.
    from gui.derivation_panel import MIN_FIT
    assert derivation.shown_scale() >= MIN_FIT * derivation.font_scale()
    assert derivation.font_scale() == pytest.approx(1.2 * window.font_scale())
    assert derivation.horizontalScrollBar().maximum() == 0     # and nothing hides sideways
    # The values table comes back on request, and the chain stays where it was.
    qtbot.mouseClick(panel.values_button, Qt.LeftButton)
    assert not panel.values.isHidden()
