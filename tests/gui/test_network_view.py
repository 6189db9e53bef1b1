"""The network graph widget: what it draws for real Trainer snapshots, and how it answers
the mouse.  Runs offscreen (pytest-qt)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QVBoxLayout, QWidget  # noqa: E402

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario  # noqa: E402
from core.numbering import layer_offsets  # noqa: E402
from gui.network_view import NetworkView  # noqa: E402
from image_pixels import rgb  # noqa: E402

W, H = 1600, 1000


def total_edges(sizes):
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.fixture(scope="module")
def lecture():
    sc = load_scenario("lecture-house-prices")
    tr = sc.make_trainer()
    tr.run_epochs(10)
    return sc, tr.snapshot(0)


def relu_snapshot(sizes, dead_units=(), seed=0, samples=60):
    """A ReLU net's snapshot; units listed in dead_units (first hidden layer) get a bias so
    negative that their β is 0 on every sample."""
    rng = np.random.RandomState(seed)
    X = rng.randn(samples, sizes[0])
    net = Network(sizes, ["relu"] * (len(sizes) - 2) + ["linear"], init="he", seed=seed)
    for u in dead_units:
        net.biases[0][u] = -1e3
    Y = rng.randn(samples, sizes[-1])
    tr = Trainer(net, X, Y, TrainConfig(loss="mse", optimizer=OptimizerConfig(lr=1e-3)))
    tr.run_epochs(1)
    return tr.snapshot(0)


@pytest.fixture(scope="module")
def mnist_like():
    rng = np.random.RandomState(1)
    net = Network([784, 64, 10], ["relu", "softmax"], init="pytorch", seed=0)
    tr = Trainer(net, rng.rand(20, 784), rng.randint(0, 10, 20), TrainConfig(loss="cross_entropy"))
    tr.run_epochs(1)
    return tr.snapshot(0)


def make_view(qtbot, snap, input_names=None, output_names=None):
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(W, H)
    view.show()
    qtbot.waitExposed(view)
    view.set_network(snap.sizes, snap.activation_names, input_names, output_names)
    view.set_snapshot(snap)
    qtbot.waitUntil(lambda: view.state.snapshot is snap, timeout=2000)
    return view


def midpoint(view, index):
    (x0, y0), (x1, y1) = view.graph_item.layout.edge_segment(index)
    return QPointF((x0 + x1) / 2, (y0 + y1) / 2)


def non_white_fraction(image):
    return float(np.mean(rgb(image).min(axis=2) < 240))


# -- what is drawn ---------------------------------------------------------------------
def test_every_edge_of_a_small_net_is_drawn_bias_edges_included(qtbot, lecture):
    sc, snap = lecture
    view = make_view(qtbot, snap)
    assert view.drawn_edge_count() == total_edges([2, 5, 1]) == 21
    assert view.hidden_edge_count() == 0


def test_every_edge_of_8_16_16_16_1_is_drawn(qtbot):
    snap = relu_snapshot([8, 16, 16, 16, 1])
    view = make_view(qtbot, snap)
    assert view.drawn_edge_count() == total_edges([8, 16, 16, 16, 1])
    assert view.hidden_edge_count() == 0


def test_a_784_64_10_net_is_summarised_and_the_counts_add_up(qtbot, mnist_like):
    view = make_view(qtbot, mnist_like)
    drawn, hidden = view.drawn_edge_count(), view.hidden_edge_count()
    assert drawn + hidden == total_edges([784, 64, 10])
    assert 0 < drawn < 300 and hidden > 50_000
    ellipses = [look.lines[0] for look in view.graph_item.frame.nodes if look.node.kind == "ellipsis"]
    assert ellipses == [f"+{784 - 7} more", f"+{64 - 7} more"]
    assert non_white_fraction(view.render_to_image(W, H)) > 0.03


def test_a_snapshot_of_another_architecture_brings_its_own_structure(qtbot, lecture):
    view = make_view(qtbot, lecture[1])
    deep = relu_snapshot([3, 4, 2])
    view.set_snapshot(deep)
    qtbot.waitUntil(lambda: view.state.snapshot is deep, timeout=2000)
    assert view.drawn_edge_count() == total_edges([3, 4, 2])


# -- colours ---------------------------------------------------------------------------
def with_params(snap, **values):
    params = snap.params.copy()
    for name, v in values.items():
        params[int(name[1:]) - 1] = v
    return dataclasses.replace(snap, params=params)


def test_weight_colour_follows_the_sign_and_width_the_size(qtbot, lecture):
    _, snap = lecture
    view = make_view(qtbot, with_params(snap, w17=2.0, w18=-2.0, w19=0.0))
    pens = {k: view.graph_item.edge_pen(k - 1) for k in (17, 18, 19)}
    blue, orange, grey = (pens[k].color() for k in (17, 18, 19))
    assert blue.blue() > blue.red() + 60
    assert orange.red() > orange.blue() + 60
    assert abs(grey.red() - grey.blue()) < 10
    assert pens[17].widthF() == pytest.approx(pens[18].widthF())
    assert pens[17].widthF() > pens[19].widthF()
    # ... and the picture agrees: the pixel under each edge's midpoint.
    image = view.render_to_image(W, H)
    pixel = {k: QColor(image.pixel(midpoint(view, k - 1).toPoint())) for k in (17, 18)}
    assert pixel[17].blue() > pixel[17].red() + 40
    assert pixel[18].red() > pixel[18].blue() + 40


def test_the_weight_scale_is_not_rescaled_by_later_snapshots(qtbot, lecture):
    _, snap = lecture
    view = make_view(qtbot, snap)
    limit = view.state.scales.edges["weight"].limit
    grown = dataclasses.replace(snap, params=snap.params * 10)
    view.set_snapshot(grown)
    qtbot.waitUntil(lambda: view.state.snapshot is grown, timeout=2000)
    assert view.state.scales.edges["weight"].limit == limit
    # The largest weight now lies beyond the end of the scale: it saturates.
    big = int(np.argmax(np.abs(grown.params)))
    scale = view.state.scales.edges["weight"]
    end = scale.colour(0 if grown.params[big] < 0 else scale.n_bins - 1)
    assert view.graph_item.edge_pen(big).color() == end


def with_layer_grads(snap, per_layer):
    grads = np.empty_like(snap.grads)
    offsets = layer_offsets(snap.sizes)
    for l, g in enumerate(per_layer):
        grads[offsets[l]:offsets[l + 1]] = g
    return dataclasses.replace(snap, grads=grads)


def lightness(colour):
    return colour.lightnessF()


def test_gradient_mode_has_one_log_scale_across_layers(qtbot, lecture):
    _, snap = lecture
    view = make_view(qtbot, with_layer_grads(snap, [1e-6, 1e-1]))
    view.set_colour_mode("gradient")
    w1, w17 = view.graph_item.edge_pen(0), view.graph_item.edge_pen(16)
    assert lightness(w1.color()) > lightness(w17.color()) + 0.15      # the vanishing layer is faded
    assert w1.widthF() < w17.widthF()
    # The first layer's look does not depend on the other layer's gradients (no per-layer
    # normalisation), and equal gradients look equal in every layer.
    exploding = with_layer_grads(snap, [1e-6, 1e+1])
    view.set_snapshot(exploding)
    qtbot.waitUntil(lambda: view.state.snapshot is exploding, timeout=2000)
    again = view.graph_item.edge_pen(0)
    assert again.color() == w1.color() and again.widthF() == w1.widthF()
    assert lightness(view.graph_item.edge_pen(16).color()) < lightness(w17.color())
    same = with_layer_grads(snap, [1e-3, 1e-3])
    view.set_snapshot(same)
    qtbot.waitUntil(lambda: view.state.snapshot is same, timeout=2000)
    assert view.graph_item.edge_pen(0) == view.graph_item.edge_pen(16)


def test_update_mode_colours_by_the_last_step(qtbot, lecture):
    _, snap = lecture
    update = snap.update.copy()
    update[16], update[17] = 1e-2, -1e-8
    view = make_view(qtbot, dataclasses.replace(snap, update=update))
    view.set_colour_mode("update")
    big, tiny = view.graph_item.edge_pen(16), view.graph_item.edge_pen(17)
    assert big.color().blue() > big.color().red()
    assert lightness(tiny.color()) > lightness(big.color()) and tiny.widthF() < big.widthF()
    with pytest.raises(ValueError):
        view.set_colour_mode("loss")


# -- neurons ---------------------------------------------------------------------------
def test_dead_relus_are_crossed_out(qtbot):
    snap = relu_snapshot([4, 6, 1], dead_units=(1, 4))
    assert list(np.flatnonzero(snap.dead_units[0])) == [1, 4]
    view = make_view(qtbot, snap)
    assert sorted(view.graph_item.marked_units()["dead"]) == [(1, 1), (1, 4)]
    assert view.graph_item.marked_units()["saturated"] == []


def test_saturated_sigmoids_get_a_ring(qtbot):
    rng = np.random.RandomState(0)
    net = Network([3, 5, 1], "sigmoid", init="normal:30", seed=3)
    tr = Trainer(net, rng.randn(30, 3), rng.randn(30, 1))
    snap = tr.snapshot(0)
    expected = [(1, int(u)) for u in np.flatnonzero(snap.saturated_units[0])]
    assert expected, "the test needs saturated units"
    view = make_view(qtbot, snap)
    marked = view.graph_item.marked_units()
    assert sorted(u for u in marked["saturated"] if u[0] == 1) == expected
    assert marked["dead"] == []


def test_highlight_dims_everything_else(qtbot, lecture):
    view = make_view(qtbot, lecture[1])
    view.set_highlight(levels=[0], units=[(1, 0)])
    dimmed = {(n.node.kind, n.node.level, n.node.unit) for n in view.graph_item.frame.nodes if n.dimmed}
    assert ("unit", 1, 0) not in dimmed and ("unit", 0, 1) not in dimmed and ("bias", 0, -1) not in dimmed
    assert {("unit", 1, 1), ("unit", 2, 0), ("bias", 1, -1)} <= dimmed
    view.set_highlight(None)
    assert not any(n.dimmed for n in view.graph_item.frame.nodes)


# -- the mouse and the keyboard --------------------------------------------------------
def test_edge_at_finds_the_edge_under_its_midpoint(qtbot, lecture):
    view = make_view(qtbot, lecture[1])
    for index in (0, 14, 15, 16, 20):
        assert view.edge_at(midpoint(view, index)) == index
    assert view.edge_at(QPointF(3, 3)) is None
    h1 = view.graph_item.layout.unit_nodes[(1, 0)]
    assert view.edge_at(QPointF(h1.x, h1.y)) is None       # a node covers its edges' ends


def test_where_edges_cross_edge_at_picks_the_one_drawn_on_top(qtbot, lecture):
    # In the lecture's figure w6 (x1 → H1) and w2 (bias → H2) cross at their midpoints.
    _, snap = lecture
    view = make_view(qtbot, with_params(snap, w6=0.1, w2=2.5))
    crossing = midpoint(view, 5)
    assert view.edge_at(crossing) == 1
    strong_w6 = with_params(snap, w6=2.5, w2=0.1)
    view.set_snapshot(strong_w6)
    qtbot.waitUntil(lambda: view.state.snapshot is strong_w6, timeout=2000)
    assert view.edge_at(crossing) == 5


def test_hover_names_the_edge_and_the_neuron(qtbot, lecture):
    sc, snap = lecture
    view = make_view(qtbot, snap, sc.dataset.feature_names, sc.dataset.target_names)
    texts = []
    view.hovered.connect(texts.append)
    qtbot.mouseMove(view.viewport(), midpoint(view, 16).toPoint())
    qtbot.waitUntil(lambda: bool(texts), timeout=2000)
    assert texts[-1].startswith("w17: H1 → O1 (sold_price)")
    assert f"w = {snap.params[16]:.4g}" in texts[-1] and "∂E/∂w" in texts[-1] and "Δw" in texts[-1]
    h3 = view.graph_item.layout.unit_nodes[(1, 2)]
    qtbot.mouseMove(view.viewport(), QPoint(int(h3.x), int(h3.y)))
    qtbot.waitUntil(lambda: texts[-1].startswith("H3"), timeout=2000)
    assert f"β = {snap.sample_betas[0][2]:.4g}" in texts[-1] and "α = " in texts[-1]
    # Its error signal for the shown sample (numbered from 1, as the lecture's i), and its
    # bias w3 with the bias's gradient and last update.
    delta = sc.network.forward_backward(sc.X[:1], sc.Y[:1], sc.loss).deltas[0][0, 2]
    assert f"δ = ∂E/∂α = {delta:.4g}" in texts[-1] and "(sample 1)" in texts[-1]
    assert (f"bias w3 = {snap.params[2]:.4g}   ∂E/∂w = {snap.grads[2]:.4g}   "
            f"last Δw = {snap.update[2]:.4g}") in texts[-1]
    x1 = view.graph_item.layout.unit_nodes[(0, 0)]
    qtbot.mouseMove(view.viewport(), QPoint(int(x1.x), int(x1.y)))
    qtbot.waitUntil(lambda: texts[-1].startswith("x1 (price_per_sqm)"), timeout=2000)
    qtbot.mouseMove(view.viewport(), QPoint(3, 3))
    qtbot.waitUntil(lambda: texts[-1] == "", timeout=2000)


def test_a_click_asks_to_edit_the_weight_only_while_editing(qtbot, lecture):
    view = make_view(qtbot, lecture[1])
    asked = []
    view.weight_edit_requested.connect(asked.append)
    where = midpoint(view, 16).toPoint()
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=where)
    assert asked == []
    view.set_editing_enabled(True)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=where)
    bias = midpoint(view, 0).toPoint()
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=bias)
    assert asked == [16, 0]


def test_transport_keys_reach_the_window(qtbot, lecture):
    class Window(QWidget):
        def __init__(self):
            super().__init__()
            self.keys = []

        def keyPressEvent(self, event):
            self.keys.append(event.key())

    window = Window()
    qtbot.addWidget(window)
    view = NetworkView(window)
    QVBoxLayout(window).addWidget(view)
    window.resize(800, 500)
    window.show()
    qtbot.waitExposed(window)
    assert view.focusPolicy() == Qt.StrongFocus
    view.setFocus()
    for key in (Qt.Key_Right, Qt.Key_Left, Qt.Key_PageDown, Qt.Key_Space):
        qtbot.keyClick(view, key)
    assert window.keys == [Qt.Key_Right, Qt.Key_Left, Qt.Key_PageDown, Qt.Key_Space]


# -- drawing on screen -----------------------------------------------------------------
def test_a_burst_of_snapshots_is_drawn_once_with_the_newest(qtbot, lecture):
    _, snap = lecture
    view = make_view(qtbot, snap)
    builds = []
    rebuild = view.graph_item.rebuild
    view.graph_item.rebuild = lambda: (builds.append(view.state.snapshot), rebuild())
    burst = [dataclasses.replace(snap, epoch=snap.epoch + i) for i in range(1, 51)]
    for s in burst:
        view.set_snapshot(s)
    qtbot.waitUntil(lambda: view.state.snapshot is burst[-1], timeout=2000)
    qtbot.wait(100)
    assert builds == [burst[-1]]


def test_a_big_net_is_painted_roughly_while_streaming_then_smoothly(qtbot, lecture):
    snap = relu_snapshot([8, 16, 16, 16, 1])
    view = make_view(qtbot, snap)
    following = dataclasses.replace(snap, epoch=snap.epoch + 1)
    view.set_snapshot(following)
    qtbot.waitUntil(lambda: view.state.snapshot is following, timeout=2000)
    assert not view.graph_item.smooth_edges
    qtbot.waitUntil(lambda: view.graph_item.smooth_edges, timeout=2000)
    small = make_view(qtbot, lecture[1])
    again = dataclasses.replace(lecture[1], epoch=lecture[1].epoch + 1)
    small.set_snapshot(again)
    qtbot.waitUntil(lambda: small.state.snapshot is again, timeout=2000)
    assert small.graph_item.smooth_edges       # 21 edges: always smooth


def test_the_view_paints_the_network_on_screen(qtbot, lecture):
    view = make_view(qtbot, lecture[1])
    assert non_white_fraction(view.grab().toImage()) > 0.03
    assert view.last_redraw_seconds() > 0


@pytest.mark.parametrize("mode", ["weight", "gradient", "update"])
def test_render_to_image_is_not_blank_in_each_mode(qtbot, lecture, mode):
    view = make_view(qtbot, lecture[1])
    view.set_colour_mode(mode)
    view.set_show_labels(True)
    image = view.render_to_image(800, 500)
    assert (image.width(), image.height()) == (800, 500)
    assert non_white_fraction(image) > 0.03
