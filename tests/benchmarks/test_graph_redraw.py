"""How long the network graph takes to redraw (printed, never asserted: `make bench`).

For each network: a fresh snapshot handed to set_snapshot, then the picture painted —
(a) into a 1600×1000 image with render_to_image (always antialiased), (b) on screen by a
synchronous repaint of the view as snapshots stream in at the view's ~30/s (a big net's
edges are then drawn without antialiasing until the stream pauses).  Median and worst of
N, in milliseconds, per colour mode: wall clock (what the GUI thread spends; it grows on a
loaded machine) and this process's CPU time (steadier when the machine is shared).
"""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core import Network, TrainConfig, Trainer, load_scenario  # noqa: E402
from gui.network_view import NetworkView  # noqa: E402

N = 40
W, H = 1600, 1000


def lecture_snapshot():
    tr = load_scenario("lecture-house-prices").make_trainer()
    tr.run_epochs(100)
    return tr.snapshot(0)


def trained_snapshot(sizes, activations, loss, classes=None):
    rng = np.random.RandomState(0)
    X = rng.rand(32, sizes[0])
    Y = rng.randint(0, classes, 32) if classes else rng.randn(32, sizes[-1])
    tr = Trainer(Network(sizes, activations, init="he", seed=0), X, Y, TrainConfig(loss=loss))
    tr.run_epochs(2)
    return tr.snapshot(0)


NETWORKS = {
    "2-5-1": lecture_snapshot,
    "8-16-16-16-1": lambda: trained_snapshot([8, 16, 16, 16, 1], ["relu"] * 3 + ["linear"], "mse"),
    "784-64-10": lambda: trained_snapshot([784, 64, 10], ["relu", "softmax"], "cross_entropy", classes=10),
}


def variants(snap, n):
    """n snapshots that differ (as successive training steps would) in every parameter."""
    rng = np.random.RandomState(1)
    return [dataclasses.replace(snap, params=snap.params * (1 + 0.05 * rng.randn(snap.params.size)),
                                grads=snap.grads * 10 ** rng.randn(snap.grads.size), epoch=snap.epoch + i)
            for i in range(n)]


def summary(seconds):
    ms = sorted(1000 * s for s in seconds)
    return f"median {statistics.median(ms):6.2f} ms   worst {ms[-1]:6.2f} ms"


@pytest.mark.parametrize("name", list(NETWORKS))
def test_graph_redraw_time(qtbot, name):
    snap = NETWORKS[name]()
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(W, H)
    view.show()
    qtbot.waitExposed(view)
    view.set_network(snap.sizes, snap.activation_names)
    print(f"\n{name}: {view.drawn_edge_count()} edges drawn, {view.hidden_edge_count()} in bands")
    for mode in ("weight", "gradient", "update"):
        view.set_colour_mode(mode)
        to_image, to_image_cpu, on_screen, smooth = [], [], [], 0
        for s in variants(snap, N):
            t0, c0 = time.perf_counter(), time.process_time()
            view.set_snapshot(s)
            image = view.render_to_image(W, H)
            to_image.append(time.perf_counter() - t0)
            to_image_cpu.append(time.process_time() - c0)
            assert not image.isNull()
        c0 = time.process_time()            # the waits idle: CPU time counts only the work
        for i, s in enumerate(variants(snap, N)):
            if i:       # the previous snapshot's build + on-screen paint
                on_screen.append(view.last_redraw_seconds())
            view.set_snapshot(s)
            qtbot.waitUntil(lambda s=s: view.state.snapshot is s, timeout=2000)
            smooth += view.graph_item.smooth_edges
        qtbot.wait(60)
        on_screen.append(view.last_redraw_seconds())
        cpu_per_frame = (time.process_time() - c0) / N
        edges = "antialiased" if smooth == N else "rough edges" if smooth == 0 else "mixed"
        print(f"  {mode:8s} set_snapshot → image:  wall {summary(to_image)}   cpu {summary(to_image_cpu)}")
        print(f"  {'':8s} on screen, streaming ({edges}):  build + paint wall {summary(on_screen)}   "
              f"GUI-thread cpu per frame {1000 * cpu_per_frame:.2f} ms")
