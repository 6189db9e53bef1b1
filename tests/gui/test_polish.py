"""What a lecturer and a student see: no text drawn over other text (legend ticks, column
titles, log-axis labels), legends off the curves, the colour scales fixed by the network as
it started, the window's furniture at presentation size, and lecture mode and presentation
mode entered and left in either order without losing a panel."""
import dataclasses
import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyle

from core import load_scenario
from gui import colours, scaled_style
from gui.graph_layout import GraphLayout
from gui.graph_paint import Scales, ViewState, header_placement, paint_legend
from gui.network_view import choose_scales
from gui.plot_axis import log_label, log_ticks
from gui.plots import HealthPlot, LayerPlot, LossPlot, configure_pyqtgraph

TIMEOUT = 10000


def overlapping(rects):
    """Pairs of rects that share more than a hairline."""
    shrunk = [r.adjusted(0.5, 0.5, -0.5, -0.5) for r in rects]
    return [(i, j) for i, j in itertools.combinations(range(len(rects)), 2) if shrunk[i].intersects(shrunk[j])]


class TextRecorder:
    """A QPainter stand-in that paints for real and notes where each text's ink went."""

    def __init__(self, painter):
        self._painter = painter
        self.texts = []             # (device rect, text)

    def __getattr__(self, name):
        return getattr(self._painter, name)

    def drawText(self, *args):
        fm = QFontMetricsF(self._painter.font())
        if isinstance(args[0], QPointF):
            point, text = args
            baseline = point
        else:
            box, flags, text = args
            line = fm.boundingRect(box, flags, text)
            baseline = QPointF(line.left(), line.top() + fm.ascent())
        rect = fm.tightBoundingRect(text).translated(baseline)
        self.texts.append((self._painter.transform().mapRect(rect), text))
        self._painter.drawText(*args)


@pytest.fixture(scope="module")
def exploding_start():
    return load_scenario("exploding-gradients").make_trainer().snapshot(0)


def legend_texts(snapshot, beta_max, width, font_scale=1.0, mode="gradient"):
    scales = choose_scales(snapshot)
    betas = [None] + [colours.beta_scale(a, beta_max) for a in snapshot.activation_names]
    state = ViewState(sizes=tuple(snapshot.sizes), activation_names=tuple(snapshot.activation_names),
                      snapshot=snapshot, scales=Scales(scales.edges, betas), mode=mode)
    layout = GraphLayout(snapshot.sizes, width, 600, font_scale)
    image = QImage(int(width), 600, QImage.Format_ARGB32)
    image.fill(Qt.white)
    painter = QPainter(image)
    try:
        recorder = TextRecorder(painter)
        paint_legend(recorder, layout, state)
    finally:
        painter.end()
    return recorder.texts, layout


@pytest.mark.parametrize("beta_max", [5.0, 2e4, 1e3, 2e293])
@pytest.mark.parametrize("width,font_scale", [(520, 1.0), (700, 1.0), (1100, 1.0), (900, 1.6)])
def test_graph_legend_texts_never_overlap(qapp, exploding_start, beta_max, width, font_scale):
    texts, layout = legend_texts(exploding_start, beta_max, width, font_scale)
    labels = [t for _, t in texts]
    assert labels and not any("e+" in t for t in labels)      # 2·10²⁹³, not 2e+293
    assert not overlapping([r for r, _ in texts]), labels
    assert all(r.left() >= -0.5 and r.right() <= width + 0.5 for r, _ in texts)


def test_the_dead_mark_is_explained_only_where_a_neuron_can_carry_it(qapp, exploding_start):
    leaky, _ = legend_texts(exploding_start, 1e3, 1100)            # leaky ReLUs never die
    relu = dataclasses.replace(exploding_start, activation_names=("relu",) * 6 + ("sigmoid",))
    dead, _ = legend_texts(relu, 1e3, 1100)
    assert not any(t.startswith("dead") for _, t in leaky)
    assert any(t.startswith("dead") for _, t in dead)


def test_beta_ticks_are_compact_numbers():
    assert [t for _, t in colours.BetaScale(0.0, 2e293, "β relu").ticks()] == ["0", "10²⁹³", "2·10²⁹³"]
    assert [t for _, t in colours.BetaScale(0.0, 20000, "β relu").ticks()] == ["0", "10⁴", "2·10⁴"]
    assert [t for _, t in colours.BetaScale(-1.0, 1.0, "β tanh").ticks()] == ["−1", "0", "1"]
    assert colours.format_tick(-1.5) == "−1.5" and colours.format_tick(3) == "+3"


def test_the_scales_come_from_the_network_as_it_started_not_from_a_diverged_frame(
        make_window, qtbot, exploding_start):
    window = make_window("exploding-gradients")
    window.run_epochs(20, wait=True)                    # diverges within a few epochs
    window.wait_until_drawn()
    last = window.last_frame().snapshot
    shown = window.network_view.state.scales
    assert last.steps > 0
    assert shown.betas[1].hi == choose_scales(exploding_start).betas[1].hi
    assert choose_scales(last).betas[1].hi > 1e3 * shown.betas[1].hi     # what it would have been


@pytest.mark.parametrize("sizes,acts", [((2, 5, 1), ("sigmoid", "sigmoid")),
                                        ((2, 16, 16, 1), ("relu", "relu", "sigmoid")),
                                        ((2,) + (10,) * 10 + (1,), ("sigmoid",) * 11)])
def test_column_titles_never_collide(qapp, sizes, acts):
    for width, scale in itertools.product(range(300, 1700, 75), (1.0, 1.6)):
        layout = GraphLayout(sizes, width, 600, scale)
        _, placed = header_placement(layout, acts)
        rects = [r for r, _ in placed]
        assert not overlapping(rects), (width, scale, [t for _, t in placed])
        assert all(r.left() >= 0 and r.right() <= width for r in rects)


def test_long_input_names_leave_the_network_its_width(qapp):
    names = ["price_per_square_metre_of_the_flat", "bedrooms"]
    layout = GraphLayout((2, 5, 1), 480, 600, 1.6, names, ["sold_price_in_thousands"])
    assert layout.column_x[-1] - layout.column_x[0] > 0.35 * 480     # (the names took it all)


# -- plots ----------------------------------------------------------------------------------
def axis_texts(plot, side="left"):
    axis = plot.getPlotItem().getAxis(side)
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        painter.setFont(axis.style["tickFont"] or axis.font())
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _, text in texts]


def shown(qtbot, widget, width, height):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    QApplication.processEvents()
    return widget


@pytest.mark.parametrize("decades,height", [((0, 1), 150), ((-1, 1), 150), ((0, 1), 400),
                                            ((-8, 0), 160), ((-50, 0), 180), ((0, 300), 160)])
def test_log_axis_labels_never_overlap_and_name_the_decades(qtbot, decades, height):
    configure_pyqtgraph()
    plot = shown(qtbot, LayerPlot("Gradient norm", "g", "grad_norm"), 400, height)
    plot.set_layers(["x→H", "H→O"])
    plot.set_ranges((0.0, 10.0), tuple(float(d) for d in decades))
    QApplication.processEvents()
    texts = axis_texts(plot)
    labels = [t for _, t in texts]
    assert not overlapping([r for r, _ in texts]), labels
    assert len(labels) >= 2
    if decades[1] - decades[0] <= 2:                    # a short axis: both ends are named
        assert log_label(decades[0]) in labels and log_label(decades[1]) in labels


@pytest.mark.parametrize("height", [130, 180, 400])
def test_linear_axis_labels_stay_apart_at_presentation_size(qtbot, height):
    configure_pyqtgraph()
    plot = shown(qtbot, HealthPlot(), 500, height)
    plot.set_layers((2, 16, 1), ("relu", "sigmoid"))
    plot.set_font_scale(1.6)
    plot.set_ranges((0.0, 300.0), (0.0, 1.02))
    QApplication.processEvents()
    for side in ("left", "bottom"):
        texts = axis_texts(plot, side)
        assert texts and not overlapping([r for r, _ in texts]), [t for _, t in texts]
        assert len(texts) >= 2 or (side == "left" and height < 150)     # a sliver of a plot: "0" only


def test_a_one_decade_loss_axis_reads_1_2_3_5_10_not_every_digit():
    levels = log_ticks(0.0, 1.0, 150, 11)
    assert [log_label(v) for v in levels[0][1]] == ["1", "10"]
    assert [log_label(v) for v in levels[1][1]] == ["2", "3", "5"]


def test_legend_entries_sit_above_the_curves_and_inside_a_narrow_plot(qtbot):
    configure_pyqtgraph()
    plot = shown(qtbot, HealthPlot(), 280, 220)
    plot.set_layers((2, 16, 16, 16, 1), ("relu", "relu", "relu", "sigmoid"))
    QApplication.processEvents()
    item = plot.getPlotItem()
    view = item.getViewBox().sceneBoundingRect()
    entries = [label.sceneBoundingRect() for _, label in plot.legend.items]
    assert len(entries) == 4
    assert all(not e.intersects(view) for e in entries)                  # nothing on the curves
    assert all(e.left() >= 0 and e.right() <= plot.width() for e in entries)   # nothing cut off
    assert item.sceneBoundingRect().width() <= plot.width() + 0.5


def test_a_narrow_plot_takes_its_short_title_instead_of_cutting_the_long_one(qtbot):
    configure_pyqtgraph()
    plot = shown(qtbot, LayerPlot("Update / weight ratio ‖Δw‖/‖w‖", "r", "update_ratio",
                                  short_title="Update / weight ratio"), 900, 220)
    assert "‖Δw‖" in plot.getPlotItem().titleLabel.text
    plot.resize(230, 220)
    QApplication.processEvents()
    item = plot.getPlotItem()
    assert item.titleLabel.text == "Update / weight ratio"
    assert item.sceneBoundingRect().width() <= plot.width() + 0.5


def test_the_ghost_run_is_named_in_a_legend_that_keeps_its_entries(qtbot):
    loss = shown(qtbot, LossPlot(), 400, 250)
    loss.set_ghost(np.arange(5.0), np.ones(5), "without remedy")
    assert [label.text for _, label in loss.plot.legend.items] == ["train", "without remedy"]
    loss.set_ghost(None, None)
    assert [label.text for _, label in loss.plot.legend.items] == ["train"]


# -- presentation mode ----------------------------------------------------------------------
def test_presentation_mode_scales_the_status_bar_toolbar_and_check_boxes(make_window):
    window = make_window()
    base = window.epoch_label.font().pointSizeF()
    indicator = QApplication.style().pixelMetric(QStyle.PM_IndicatorWidth)
    window.banner.setText("diverged at epoch 4")
    window.set_presentation(True)
    try:
        button = window.transport_bar.widgetForAction(window.play_action)
        for widget in (window.epoch_label, window.loss_label, window.banner, button,
                       window.lecture.panel.one_sample, window.lecture.broken_label,
                       window.lecture.panel.gradcheck.table.horizontalHeader()):
            assert widget.font().pointSizeF() >= 1.5 * base, widget
        assert QApplication.style().pixelMetric(QStyle.PM_IndicatorWidth) >= 1.5 * indicator
    finally:
        window.set_presentation(False)
    assert window.banner.font().pointSizeF() == pytest.approx(base)
    assert scaled_style.style_scale() == 1.0
    assert QApplication.style().pixelMetric(QStyle.PM_IndicatorWidth) == indicator


def parts(window) -> dict:
    return {"controls": not window.controls_dock.isHidden(), "side": not window.side.isHidden(),
            "narrative": not window.narrative.isHidden(), "plots": not window.plots.isHidden(),
            "lecture": not window.lecture.dock.isHidden()}


DESK = {"controls": True, "side": True, "narrative": True, "plots": True, "lecture": False}
PRESENTING = {"controls": False, "side": True, "narrative": False, "plots": False, "lecture": False}
LECTURING = {"controls": False, "side": False, "narrative": True, "plots": True, "lecture": True}
BOTH = {"controls": False, "side": False, "narrative": False, "plots": False, "lecture": True}


@pytest.mark.parametrize("first,second", [("presentation", "lecture"), ("lecture", "presentation")])
@pytest.mark.parametrize("leave_first_first", [True, False])
def test_lecture_and_presentation_modes_in_any_order_leave_every_panel_where_it_was(
        make_window, qtbot, first, second, leave_first_first):
    window = make_window()              # lecture-house-prices: its diagnosis is the loss plot
    switch = {"presentation": window.set_presentation, "lecture": window.lecture.set_active}
    alone = {"presentation": PRESENTING, "lecture": LECTURING}
    assert parts(window) == DESK
    switch[first](True)
    assert parts(window) == alone[first]
    switch[second](True)
    assert parts(window) == BOTH
    leave, stay = (first, second) if leave_first_first else (second, first)
    switch[leave](False)
    assert parts(window) == alone[stay]
    switch[stay](False)
    qtbot.waitUntil(window.lecture.is_idle, timeout=TIMEOUT)
    assert parts(window) == DESK
    assert min(window.top.sizes()) > 0          # the side column came back with a width


def test_a_panel_the_user_had_closed_stays_closed_after_both_modes(make_window, qtbot):
    window = make_window()
    window.controls_dock.hide()
    window.lecture.set_active(True)
    window.set_presentation(True)
    window.lecture.set_active(False)
    window.set_presentation(False)
    qtbot.waitUntil(window.lecture.is_idle, timeout=TIMEOUT)
    assert window.controls_dock.isHidden() and not window.side.isHidden() and not window.plots.isHidden()


def test_the_beta_scale_narrows_once_training_tames_huge_activations(
        make_window, qtbot, exploding_start):
    # The exploding-gradients remedy starts with β ≈ 10³ and clips training down to β of a
    # few units: a scale fixed at the start would draw every neuron white.
    from gui.network_view import shrink_beta_scales
    start = choose_scales(exploding_start)
    assert start.betas[1].hi >= 100
    assert shrink_beta_scales(start, exploding_start) is start       # no change unprovoked
    tame = dataclasses.replace(exploding_start, sample_betas=tuple(
        b / start.betas[1].hi * 3 for b in exploding_start.sample_betas))
    narrowed = shrink_beta_scales(start, tame)
    assert 1.0 <= narrowed.betas[1].hi <= start.betas[1].hi / 3
    assert narrowed.betas[-1].hi == 1.0 and narrowed.edges is start.edges  # sigmoid output kept
    assert shrink_beta_scales(narrowed, tame) is narrowed                  # and then it stays
    broken = dataclasses.replace(tame, sample_betas=(np.full_like(tame.sample_betas[0], np.nan),)
                                 + tame.sample_betas[1:])
    assert shrink_beta_scales(start, broken) is start                     # not from a NaN frame
    # In the window: the remedy run, trained until its β are tamed, is drawn on a narrower scale.
    window = make_window("exploding-gradients")
    window.load_scenario("exploding-gradients", remedy=True)
    window.run_epochs(200, wait=True)
    window.wait_until_drawn()
    shown = window.network_view.state.scales
    last = window.last_frame().snapshot
    tamed = np.abs(np.concatenate(last.sample_betas[:-1])).max()
    assert last.epoch == 200 and tamed < start.betas[1].hi / 4
    assert tamed <= shown.betas[1].hi <= start.betas[1].hi / 3
    window.reset()                                      # the picture it started with
    window.wait_until_drawn()
    qtbot.waitUntil(lambda: window.last_frame().snapshot.steps == 0, timeout=TIMEOUT)
    window.wait_until_drawn()
    assert window.network_view.state.scales.betas[1].hi == start.betas[1].hi


def test_a_non_finite_beta_is_written_not_a_crash():
    from gui.graph_paint import _beta_text
    assert [_beta_text(v) for v in (0.5, 2.4e153, math.inf, -math.inf, math.nan)] == \
        ["0.50", "2e153", "∞", "−∞", "NaN"]


def test_presenting_a_failure_scenario_keeps_its_verdict_and_remedy_in_view(make_window, qtbot):
    window = make_window("exploding-gradients")
    n = window.narrative
    assert n.has_metric()
    window.set_presentation(True)
    try:
        assert not n.isHidden() and n.text.isHidden()           # the class sees the verdict,
        assert not n.metric_box.isHidden() and not n.remedy_button.isHidden()   # not the essay
        assert n.maximumHeight() < 0.4 * window.side.height()   # the loss and outputs get the rest
    finally:
        window.set_presentation(False)
    assert not n.text.isHidden() and n.maximumHeight() > 10_000
    lecture = make_window()                 # no metric: the whole panel goes, as before
    lecture.set_presentation(True)
    try:
        assert lecture.narrative.isHidden()
    finally:
        lecture.set_presentation(False)
