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
