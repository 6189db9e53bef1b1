"""Exports from the window (File → Export, right-click) and headless (--export-figures):
every file is of its kind — PNG, SVG, CSV, npz, a script that runs and prints the app's
losses."""
import csv
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from core import load_scenario
from gui import figure_export as figures
from main import main
from image_pixels import rgb32

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
SCRIPT_EPOCHS = 25


def check_png(path, size=None):
    assert path.read_bytes()[:8] == PNG_MAGIC, path
    image = QImage(str(path))
    assert not image.isNull(), path
    if size is not None:
        assert (image.width(), image.height()) == size, path
    # Something is drawn: not all one colour.
    pixels = rgb32(image).ravel()
    assert np.mean(pixels != pixels[0]) > 0.01, path
    return image


def check_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG_ROOT, path
    assert QSvgRenderer(str(path)).isValid(), path
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) > 5, path


def trained(make_window, qtbot, epochs=40):
    window = make_window()
    future = window.run_epochs(epochs)
    qtbot.waitUntil(future.done, timeout=10000)
    window.wait_until_drawn()
    return window


def test_figures_are_png_at_the_chosen_scale_and_svg(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot)
    s = window.sessions
    view = window.network_view.viewport()
    for scale in (1, 4):
        next(a for a in s.scale_group.actions() if a.data() == scale).trigger()
        assert s.export_graph_png(tmp_path / f"graph{scale}")
        check_png(tmp_path / f"graph{scale}.png", (view.width() * scale, view.height() * scale))
    assert s.export_graph_svg(tmp_path / "graph.svg")
    check_svg(tmp_path / "graph.svg")
    for stem, plot in figures.window_plots(window).items():
        assert s.export_plot_png(stem, tmp_path / f"{stem}.png")
        rect = figures.plot_item(plot).sceneBoundingRect()
        check_png(tmp_path / f"{stem}.png", (round(rect.width() * 4), round(rect.height() * 4)))
        assert s.export_plot_svg(stem, tmp_path / f"{stem}.svg")
        check_svg(tmp_path / f"{stem}.svg")
    assert s.export_window_png(tmp_path / "window.png")
    check_png(tmp_path / "window.png", (window.width(), window.height()))


def test_data_exports_hold_the_history_and_the_weights(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot, 30)
    s, snap = window.sessions, window.last_frame().snapshot
    assert s.export_history_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["epoch", "loss", "test_loss"] and "grad_norm_layer2" in rows[0]
    assert [int(r[0]) for r in rows[1:]] == list(range(30))
    assert float(rows[-1][1]) == snap.loss
    assert s.export_weights_csv(tmp_path / "weights.csv")
    with open(tmp_path / "weights.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["name", "layer", "from", "to", "value"]
    assert [r[0] for r in rows[1:]] == [f"w{k}" for k in range(1, 22)]
    assert np.array_equal([float(r[4]) for r in rows[1:]], snap.params)
    assert s.export_weights_npz(tmp_path / "weights")
    with np.load(tmp_path / "weights.npz") as npz:
        assert set(npz.files) == {"W0", "b0", "W1", "b1", "sizes", "activations"}
        assert npz["W0"].shape == (2, 5) and npz["sizes"].tolist() == [2, 5, 1]
        assert np.array_equal(npz["b0"], snap.biases(0)) and np.array_equal(npz["W1"], snap.weights(1))


def test_exported_scripts_run_and_the_numpy_one_prints_the_apps_losses(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot, 30)
    s = window.sessions
    s.ask_epochs = lambda kind, default: SCRIPT_EPOCHS
    assert s.export_numpy(tmp_path / "lecture_numpy.py")
    assert s.export_pytorch(tmp_path / "lecture_torch.py")
    compile((tmp_path / "lecture_torch.py").read_text(encoding="utf-8"), "lecture_torch.py", "exec")
    done = subprocess.run([sys.executable, str(tmp_path / "lecture_numpy.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = np.array([float(line.split()[1]) for line in done.stdout.split("\n") if line.strip()])
    # The app, handed the same weights afresh (what the script does).
    fresh = load_scenario("lecture-house-prices").make_trainer()
    fresh.net.set_params(window.last_frame().snapshot.params)
    fresh.run_epochs(SCRIPT_EPOCHS)
    app = fresh.history.loss.arrays()[1]
    assert printed.shape == app.shape
    assert np.max(np.abs(printed - app) / np.abs(app)) < 1e-9


def test_export_asks_for_a_file_and_a_cancelled_dialog_writes_nothing(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot, 5)
    s = window.sessions
    s.choose_save_path = lambda caption, name_filter, suggested: ""
    assert not s.export_history_csv()
    s.choose_save_path = lambda caption, name_filter, suggested: str(tmp_path / "chosen")
    assert s.export_history_csv()
    assert (tmp_path / "chosen.csv").read_text(encoding="utf-8").startswith("epoch,loss")
    errors = []
    s.show_error = lambda title, message: errors.append(message)
    assert not s.export_graph_png(tmp_path / "missing" / "graph.png")
    assert "cannot write" in errors[0]


def test_right_click_on_the_graph_and_on_a_plot_exports(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot, 5)
    s = window.sessions
    viewport = window.network_view.viewport()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Mouse, QPoint(40, 40),
                                                       viewport.mapToGlobal(QPoint(40, 40))))
    qtbot.waitUntil(s.graph_menu.isVisible, timeout=5000)
    s.choose_save_path = lambda caption, name_filter, suggested: str(tmp_path / "graph.svg")
    next(a for a in s.graph_menu.actions() if "SVG" in a.text()).trigger()
    s.graph_menu.hide()
    check_svg(tmp_path / "graph.svg")
    scene = figures.plot_item(window.loss_plot).scene()
    png = next(a for a in scene.contextMenu if "PNG" in a.text())
    s.choose_save_path = lambda caption, name_filter, suggested: str(tmp_path / "loss.png")
    png.trigger()
    check_png(tmp_path / "loss.png")


def test_headless_export_figures_writes_every_figure(tmp_path, capsys):
    folder = tmp_path / "figures"
    assert main(["--headless", "--scenario", "vanishing-gradients", "--epochs", "30", "--quiet",
                 "--export-figures", str(folder)]) == 0
    stems = ["graph", *figures.PLOT_TITLES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{s}.png" for s in stems] + [f"{s}.svg" for s in stems] + ["window.png"])
    for stem in stems:
        check_png(folder / f"{stem}.png")
        check_svg(folder / f"{stem}.svg")
    check_png(folder / "window.png", figures.FIGURE_WINDOW_SIZE)


def test_headless_export_figures_refuses_a_file_as_folder_before_training(tmp_path, capsys):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    assert main(["--headless", "--epochs", "1", "--export-figures", str(not_a_folder)]) == 2
    err = capsys.readouterr()
    assert "--export-figures" in err.err and "not a folder" in err.err
    assert "final loss" not in err.out


def test_hidden_plots_are_refused_alone_and_left_out_of_all_figures(make_window, qtbot, tmp_path):
    window = trained(make_window, qtbot, 5)
    s = window.sessions
    window.show_plots_action.setChecked(False)          # View → Diagnostic plots off
    errors = []
    s.show_error = lambda title, message: errors.append(message)
    assert not s.export_plot_png("gradient_norm", tmp_path / "g.png")
    assert "hidden" in errors[0] and not (tmp_path / "g.png").exists()
    s.choose_folder = lambda caption, start: str(tmp_path / "all")
    assert s.export_all_figures()
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(
        ["graph.png", "graph.svg", "loss.png", "loss.svg", "outputs.png", "outputs.svg", "window.png"])
