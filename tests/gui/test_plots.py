"""The plots' own logic: decimation that keeps spikes, round axis ranges, the history
mirror that follows step back, the ghost curve and the output panel's decision map."""
import numpy as np
import pytest

from gui.plots import LossPlot, OutputPanel, boundary_image, decimate, layer_colours, round_range
from gui.worker import Frame, HistoryMirror


def test_decimate_bounds_the_points_and_keeps_every_spike():
    x = np.arange(1_000_000, dtype=float)
    y = np.exp(-x / 2e5)
    y[[1234, 567_890]] = [50.0, -3.0]
    dx, dy = decimate(x, y, 1500)
    assert len(dx) <= 1600
    assert dy.max() == 50.0 and dy.min() == -3.0
    assert np.all(np.diff(dx) > 0)
    short = np.arange(10.0)
    assert decimate(short, short, 1500)[0] is short


@pytest.mark.parametrize("values, log, expected", [
    ([0.2, 5.88], False, (0.0, 6.0)),
    ([3e-7, 0.02], True, (-7.0, -1.0)),
    ([0.5, 0.5], True, (-1.0, 0.0)),
    ([-0.3, 2.2], False, (-0.3, 2.5)),
])
def test_axis_ranges_are_round(values, log, expected):
    assert round_range(np.array(values), log) == pytest.approx(expected)


def frame(loss_from, epochs, log_from=0, log_epochs=(), grad=np.empty((0, 2))):
    logs = {k: np.zeros(len(log_epochs)) for k in ("loss", "test_loss")}
    logs.update({k: np.asarray(grad, float).reshape(-1, 2) for k in
                 ("grad_norm", "dead_fraction", "saturated_fraction", "update_ratio")})
    return Frame(run_id=1, snapshot=None, loss_from=loss_from, loss_epochs=np.asarray(epochs),
                 loss_values=np.asarray(epochs, float) * 0.5, log_from=log_from,
                 log_epochs=np.asarray(log_epochs, np.int64), logs=logs, outputs=None, loss_now=0.0,
                 playing=False, epochs_per_second=0.0, rewind_depth=0, learning_rate=1e-3,
                 batch_size=1, banner=None)


def test_history_mirror_appends_and_truncates_like_the_trainer():
    mirror = HistoryMirror(2)
    mirror.apply(frame(0, range(300), 0, [0, 100, 200], [[1, 2], [3, 4], [5, 6]]))
    mirror.apply(frame(300, range(300, 700), 3, [300], [[7, 8]]))
    assert list(mirror.loss_epochs.view()) == list(range(700))
    assert mirror.logs["grad_norm"].view().tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    mirror.apply(frame(150, range(150, 160), 2, [], []))          # stepped back to epoch 150
    assert list(mirror.loss_epochs.view()) == list(range(160))
    assert mirror.log_epochs.view().tolist() == [0, 100]


def test_loss_plot_ghost_curve_is_shown_and_cleared(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_ghost(np.arange(5), np.array([5.0, 4, 3, 2, 1]))
    assert plot.ghost.isVisible()
    assert list(plot.ghost.getData()[1]) == [5.0, 4, 3, 2, 1]
    plot.set_log_scale(True)
    assert plot.is_log_scale() and plot.log_box.isChecked()
    plot.set_ghost(None, None)
    assert not plot.ghost.isVisible()


def test_decision_map_colours_the_two_classes_and_survives_nan():
    grid = np.zeros((4, 3, 1))
    grid[:, 2] = 1.0                # class 1 on the right-hand column... of the y-major grid
    grid[0, 0] = np.nan
    image = boundary_image(grid)
    assert image.shape == (3, 4, 4) and image.dtype == np.ubyte      # x-major for ImageItem
    right, left = image[2, 1, :3].astype(int), image[0, 1, :3].astype(int)
    assert right[2] > right[0] and left[0] > left[2]                  # blue vs orange
    assert (image[0, 0, :3] == 255).all()                             # NaN: undecided, white


def test_deep_nets_get_colours_by_depth():
    assert len(set(layer_colours(3))) == 3
    deep = layer_colours(11)
    assert len(deep) == 11 and deep[0] != deep[-1]


def test_output_panel_axis_labels_for_the_lecture(qtbot):
    from core import load_scenario
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(load_scenario("lecture-house-prices").dataset)
    assert panel.getPlotItem().getAxis("left").labelText == "predicted sold price (k$)"


def three_flowers(n_train=60, n_test=21):
    """Two features, three classes told apart by where they lie in the plane."""
    from core.datasets import Dataset
    rng = np.random.default_rng(5)
    centres = np.array([[-1.5, -1.0], [0.0, 1.0], [1.5, -0.5]])

    def rows(n):
        y = np.arange(n) % 3
        return centres[y] + rng.normal(0, 0.4, (n, 2)), y[:, None].astype(float)
    X, Y = rows(n_train)
    X_test, Y_test = rows(n_test)
    return Dataset("flowers", X, Y, ["petal_length", "petal_width"], ["species"], "classification",
                   classes=["setosa", "versicolor", "virginica"], X_test=X_test, Y_test=Y_test)


def shown_panel(qtbot, dataset, size=(410, 175)):
    """An output panel the size it has in a 1440×900 window, showing a (seeded, untrained)
    network's outputs as the worker computes them."""
    from core import Network
    from gui.worker import OutputProbe
    probe = OutputProbe(dataset)
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_dataset(dataset, probe.grid_axes)
    net = Network([2, 6, len(dataset.classes)], ["tanh", "softmax"], seed=1)
    outputs = probe.evaluate(net)
    panel.refresh(None, outputs)
    settle(qtbot, panel)
    return panel, net, outputs


def settle(qtbot, panel):
    """Wait until the panel's layout stops moving (the legend and the table fit themselves
    to the geometry the layout gives them, which lays out again)."""
    item = panel.getPlotItem()
    shapes = []

    def still():
        shapes.append((item.vb.sceneBoundingRect(), panel.inset.sceneBoundingRect(),
                       panel.legend.sceneBoundingRect()))
        return len(shapes) > 3 and shapes[-1] == shapes[-2] == shapes[-3]
    qtbot.waitUntil(still, timeout=3000)


def test_a_two_feature_classifier_shows_its_boundary_and_its_confusion_matrix(qtbot):
    from core.csv_dataset import accuracy, confusion_matrix
    from gui.plots import CLASS_COLOURS
    d = three_flowers()
    panel, net, outputs = shown_panel(qtbot, d)
    assert panel.mode == "boundary" and panel.heat.isVisible() and panel.heat.image is not None
    matrix = panel.matrix_shown()
    assert matrix is panel.inset.matrix and panel.inset.isVisible()
    expected = confusion_matrix(net.predict(d.X_test), d.Y_test, 3)
    assert expected.sum() == 21 and len(np.unique(expected)) > 1      # not all one number
    assert np.array_equal(matrix.counts_shown(), expected)
    assert np.array_equal(outputs.confusion_test, expected)            # what the probe counted
    assert matrix.counts_readable()                                    # written, not hidden
    assert "test rows" in panel.inset.titleLabel.text
    # The accuracy of both sets is in the title; the matrix's rows are named beside it.
    train = confusion_matrix(net.predict(d.X), d.Y, 3)
    assert f"test {100 * accuracy(expected):.1f} %" in panel.getPlotItem().titleLabel.text
    assert f"train {100 * accuracy(train):.1f} %" in panel.getPlotItem().titleLabel.text
    # Side by side, the map the larger: neither covers the other.
    item = panel.getPlotItem()
    map_rect = item.vb.sceneBoundingRect()
    table = panel.inset.sceneBoundingRect()
    assert not map_rect.intersects(table) and map_rect.right() < table.left()
    assert map_rect.width() >= 0.4 * panel.width() and table.right() <= panel.width()
    # Rows and columns of the matrix carry the classes' colours; the rows their names.
    left = panel.inset.getAxis("left")
    assert [name for _, name in left._tickLevels[0]] == ["● setosa", "● versicolor", "● virginica"]
    assert left.colours == list(CLASS_COLOURS[:3])


def test_the_boundary_legend_names_every_class_in_its_colour(qtbot):
    from gui.plots import CLASS_COLOURS
    d = three_flowers()
    panel, _, _ = shown_panel(qtbot, d)
    entries = panel.legend_entries()
    assert entries[:3] == [(name, CLASS_COLOURS[c]) for c, name in enumerate(d.classes)]
    assert [name for name, _ in entries[3:]] == ["test rows"]
    # The points are drawn in the colours the legend gives their class.
    brushes = panel.train_points.data["brush"]
    for c in range(3):
        first = int(np.flatnonzero(d.Y[:, 0] == c)[0])
        assert brushes[first].color().getRgb()[:3] == CLASS_COLOURS[c]
    # One line above the map.
    assert len({round(label.pos().y()) for _, label in panel.legend.items}) == 1
    legend = panel.legend.sceneBoundingRect()
    assert legend.bottom() <= panel.getPlotItem().vb.sceneBoundingRect().top() + 1


def test_numbered_classes_are_named_after_the_target_and_leave_no_matrix_behind(qtbot):
    from core import load_scenario
    panel, _, outputs = shown_panel(qtbot, load_scenario("dead-relus").dataset)
    assert [name for name, _ in panel.legend_entries()] == ["class=0", "class=1"]   # as P(class=1)
    assert np.array_equal(panel.matrix_shown().counts_shown(), outputs.confusion)  # train rows
    assert "train rows" in panel.inset.titleLabel.text
    # A regression data set next: no matrix, no legend, the plot its full width again.
    panel.set_dataset(load_scenario("lecture-house-prices").dataset)
    assert panel.matrix_shown() is None and not panel.inset.isVisible()
    assert panel.legend_entries() == []
    assert panel.getPlotItem().layout.columnMaximumWidth(3) == 0


def test_six_long_class_names_leave_the_map_its_height_and_the_counts_in_reach(qtbot):
    from core.csv_dataset import confusion_matrix
    from core.datasets import Dataset
    names = ["Alpha Centauri", "Betelgeuse", "Canopus", "Deneb", "Eltanin", "Fomalhaut"]
    rng = np.random.default_rng(7)
    y = np.arange(240) % 6
    angle = 2 * np.pi * y / 6
    X = np.c_[np.cos(angle), np.sin(angle)] * 2 + rng.normal(0, 0.3, (240, 2))
    d = Dataset("stars", X[:180], y[:180, None].astype(float), ["temperature", "luminosity"], ["star"],
                "classification", classes=names, X_test=X[180:], Y_test=y[180:, None].astype(float))
    panel, net, _ = shown_panel(qtbot, d)
    # The legend takes two lines at most (the names shortened), so the map keeps its height.
    labels = [label.text for _, label in panel.legend.items]
    assert len({round(label.pos().y()) for _, label in panel.legend.items}) <= 2
    assert all(name.startswith(text.rstrip("…")) for text, name in zip(labels, names))
    assert panel.getPlotItem().vb.height() >= 0.3 * panel.height()
    # Six rows do not fit names at this height: the rows show dots (or nothing), never
    # names on top of each other; and hovering a cell tells its count.
    inset = panel.inset
    ticks = [text for _, text in inset.getAxis("left")._tickLevels[0]]
    assert inset.labels in ("dots", "none") and all(text in ("●", "") for text in ticks)
    expected = confusion_matrix(net.predict(d.X_test), d.Y_test, 6)
    row = int(expected[2].sum())
    assert inset.matrix.cell_tip(2, 4) == (f"actual Canopus, predicted Eltanin: {expected[2, 4]} of {row} rows"
                                           f" ({100 * expected[2, 4] / row:.0f} %)")
    # Given room (a taller panel), the rows are named again.
    panel.resize(410, 420)
    settle(qtbot, panel)
    assert inset.labels == "names"
    assert [text for _, text in inset.getAxis("left")._tickLevels[0]][0] == "● Alpha Centa…"


@pytest.mark.parametrize("size", [120, 188, 260, 400])
def test_a_narrow_axis_labels_no_level_whose_labels_run_together(qtbot, size):
    # The decision map beside its matrix is ~190 px wide: "-1.5-1.0-0.5" ran together,
    # pyqtgraph labelling the halves however close they came.
    from PySide6.QtGui import QFontMetricsF
    from gui.plot_axis import TickAxis
    axis = TickAxis("bottom")
    lo, hi = -1.93, 2.01
    levels = axis.tickSpacing(lo, hi, size)[:2]        # the levels pyqtgraph labels
    fm = QFontMetricsF(axis.font())
    for spacing, _ in levels:
        widest = max(fm.horizontalAdvance(s) for s in axis.tickStrings([lo, hi], 1.0, spacing))
        assert spacing * size / (hi - lo) > widest
    assert levels and levels[0][0] <= (hi - lo) / 2       # at least two labels
