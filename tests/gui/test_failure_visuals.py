"""What makes a failure readable at a glance: deep nets' column titles that do not overlap,
a decision boundary drawn where the data is, a diverged ghost that does not flatten the
run beside it, and the dead-unit curves in front of the saturated ones."""
import numpy as np
from PySide6.QtCore import QRectF

from core import load_scenario
from gui.graph_paint import header_titles
from gui.plots import HealthPlot, LossPlot, OutputPanel
from gui.worker import GRID, HistoryMirror, Outputs, OutputProbe


def test_column_titles_shorten_from_full_to_sizes_to_names():
    sizes, acts = (2, 10, 10, 1), ("sigmoid", "sigmoid", "sigmoid")
    assert header_titles(sizes, acts, 0) == ["Inputs (2)", "Hidden 1 (10) · sigmoid",
                                             "Hidden 2 (10) · sigmoid", "Output (1) · sigmoid"]
    assert header_titles(sizes, acts, 1) == ["x (2)", "H1 (10)", "H2 (10)", "O (1)"]
    assert header_titles(sizes, acts, 2) == ["x", "H1", "H2", "O"]
    assert header_titles((2, 5, 1), ("sigmoid", "sigmoid"), 2) == ["x", "H", "O"]


def test_the_decision_boundary_covers_the_data_not_64_times_more(qtbot):
    dataset = load_scenario("dead-relus").dataset
    probe = OutputProbe(dataset)
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(dataset, probe.grid_axes)
    grid = np.linspace(0, 1, GRID * GRID).reshape(GRID, GRID, 1)
    panel.refresh(None, Outputs(dataset.Y[:, :1], None, grid))
    gx, gy = probe.grid_axes
    drawn = panel.heat.mapRectToParent(panel.heat.boundingRect())
    assert drawn == QRectF(gx[0], gy[0], gx[-1] - gx[0], gy[-1] - gy[0])


def mirror_with_losses(values):
    mirror = HistoryMirror(1)
    mirror.loss_epochs.put(0, np.arange(len(values)))
    mirror.loss.put(0, np.asarray(values, float))
    return mirror


def test_a_diverged_ghost_leaves_through_the_top_instead_of_flattening_the_run(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_log_scale(True)
    plot.refresh(mirror_with_losses(np.geomspace(1.0, 0.01, 50)))
    plot.set_ghost(np.arange(5), [1.0, 1e3, 1e50, 1e200, 1e300], "without remedy")
    (_, _), (lo, hi) = plot.plot.getPlotItem().getViewBox().viewRange()
    assert lo <= -2 and hi <= 3                 # decades: the run fills the plot
    assert plot.ghost.isVisible()
    assert "without remedy" in [label.text for _, label in plot.plot.legend.items]
    plot.set_log_scale(False)
    plot.set_ghost(np.arange(3), [0.7, 0.69, 0.69], "without remedy")
    (_, _), (lo, hi) = plot.plot.getPlotItem().getViewBox().viewRange()
    assert hi >= 0.69                           # a ghost in reach is shown whole


def test_the_dead_curves_are_drawn_in_front_of_the_saturated_ones(qtbot):
    plot = HealthPlot()
    qtbot.addWidget(plot)
    plot.set_layers((2, 16, 16, 1), ("relu", "relu", "sigmoid"))
    plot.set_focus("dead_fraction")
    widths = {field: curve.opts["pen"].widthF() for field, _, curve in plot.curves}
    alphas = {field: curve.opts["pen"].color().alpha() for field, _, curve in plot.curves}
    assert widths["dead_fraction"] > widths["saturated_fraction"]
    assert alphas["dead_fraction"] == 255 > alphas["saturated_fraction"]
    plot.set_layers((2, 16, 16, 1), ("relu", "relu", "sigmoid"))     # a rebuilt net keeps the focus
    assert {curve.opts["pen"].color().alpha() for field, _, curve in plot.curves
            if field == "saturated_fraction"} == {alphas["saturated_fraction"]}
