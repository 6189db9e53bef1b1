"""Figures for slides: the network graph and each plot as PNG (at 1×, 2× or 4× the size
on screen) and SVG, and the whole window as PNG — from the File menu, the right-click
menus, and headless (`main.py --headless ... --export-figures DIR`).

Graph and plots alike are their QGraphicsScene rendered onto a QImage whose device pixel
ratio is the scale (the same picture at twice the resolution, fonts and legends
included) or into a QSvgGenerator (vectors, with the plots' clipping).  Not pyqtgraph's
exporters: its ImageExporter scales with a painter transform, which leaves legends (they
ignore transformations) at screen size, and its SVGExporter fails outright on the closed
paths Qt 6.11 writes (pyqtgraph 0.14, issue #3495).  Every file is written atomically
(core/atomic.py): a failed export never leaves half a picture where a good one was.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from core.atomic import atomic_write
from core.errors import SaveError

PNG_SCALES = (1, 2, 4)
DEFAULT_SCALE = 2
FIGURE_WINDOW_SIZE = (1440, 900)    # the window headless figures are drawn in


# -- writing -----------------------------------------------------------------------------
def write_bytes(path, data: bytes):
    if not data:
        raise SaveError(f"cannot write {path}: nothing was drawn")
    atomic_write(path, lambda f: f.write(data), binary=True)


def png_bytes(image: QImage) -> bytes:
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SaveError("cannot encode the picture as PNG")
    buffer.close()
    return bytes(array.data())


# -- drawing a scene ---------------------------------------------------------------------
@contextmanager
def _for_export(scene):
    """Items drawn as vectors, at the export's resolution: no cached pixmaps (axes are
    cached on screen), and pyqtgraph's export mode (scatter symbols as paths, no
    hover-only buttons)."""
    items = scene.items()
    caches = [item.cacheMode() for item in items]
    for item in items:
        item.setCacheMode(QGraphicsItem.NoCache)
        if hasattr(item, "setExportMode"):
            item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for item, cache in zip(items, caches):
            if hasattr(item, "setExportMode"):
                item.setExportMode(False)
            item.setCacheMode(cache)


def _render(scene, source: QRectF, device, target: QRectF):
    painter = QPainter(device)
    try:
        painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        painter.fillRect(target, Qt.white)
        with _for_export(scene):
            scene.render(painter, target, source)
    finally:
        painter.end()


def scene_image(scene, source: QRectF, scale: float = DEFAULT_SCALE) -> QImage:
    """Part of a scene as a picture `scale` times its size on screen.  The scale is the
    image's device pixel ratio, as on a high-resolution screen, not a painter transform:
    items that ignore transformations (pyqtgraph's legends) then grow with the rest."""
    image = QImage(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)),
                   QImage.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    _render(scene, source, image, QRectF(0, 0, image.width() / scale, image.height() / scale))
    image.setDevicePixelRatio(1.0)      # the file holds plain pixels
    return image


def scene_svg(scene, source: QRectF, title: str) -> bytes:
    """Part of a scene as SVG 1.1 (which, unlike SVG Tiny, keeps the plots' clipping)."""
    size = QSize(max(1, round(source.width())), max(1, round(source.height())))
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.WriteOnly)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setResolution(96)         # 1 px on screen = 1/96 in, as browsers and Inkscape read it
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("Exported from Backprop Lab")
    _render(scene, source, generator, QRectF(0, 0, size.width(), size.height()))
    buffer.close()
    return bytes(array.data())


# -- the network graph -------------------------------------------------------------------
@contextmanager
def _still(view):
    """The graph as a still picture: smooth edges, nothing hovered."""
    state, item = view.state, view.graph_item
    hovered, smooth = state.hovered, item.smooth_edges
    state.hovered, item.smooth_edges = None, True
    try:
        yield view.scene()
    finally:
        state.hovered, item.smooth_edges = hovered, smooth


def write_graph_png(view, path, scale: float = DEFAULT_SCALE):
    with _still(view) as scene:
        write_bytes(path, png_bytes(scene_image(scene, scene.sceneRect(), scale)))


def write_graph_svg(view, path, title: str = "Backprop Lab network"):
    with _still(view) as scene:
        write_bytes(path, scene_svg(scene, scene.sceneRect(), title))


# -- plots -------------------------------------------------------------------------------
def plot_item(plot):
    """The pyqtgraph PlotItem of a window plot (LossPlot wraps its PlotWidget)."""
    getter = getattr(plot, "getPlotItem", None)
    return getter() if getter is not None else plot.plot.getPlotItem()


def write_plot_png(plot, path, scale: float = DEFAULT_SCALE):
    item = plot_item(plot)
    write_bytes(path, png_bytes(scene_image(item.scene(), item.sceneBoundingRect(), scale)))


def write_plot_svg(plot, path):
    item = plot_item(plot)
    write_bytes(path, scene_svg(item.scene(), item.sceneBoundingRect(), item.titleLabel.text or "plot"))


# -- the window and everything at once ---------------------------------------------------
def write_window_png(window, path):
    write_bytes(path, png_bytes(window.grab().toImage()))


def window_plots(window) -> dict:
    """file stem → plot, in the order they are listed in menus."""
    p = window.plots
    return {"loss": window.loss_plot, "outputs": window.output_panel, "gradient_norm": p.grad,
            "dead_saturated": p.health, "update_ratio": p.ratio}


PLOT_TITLES = {"loss": "Loss", "outputs": "Output panel",   # predictions, or boundary and matrix
               "gradient_norm": "Gradient norm per layer", "dead_saturated": "Dead and saturated units",
               "update_ratio": "Update / weight ratio"}


def export_all(window, directory, scale: float = DEFAULT_SCALE) -> list[Path]:
    """graph.png, graph.svg, <plot>.png and .svg for each plot shown, window.png in
    `directory` (created if need be)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder {directory}: {e.strerror or e}") from None
    window.wait_until_drawn()
    title = window.scenario.title
    written = [directory / "graph.png", directory / "graph.svg"]
    write_graph_png(window.network_view, written[0], scale)
    write_graph_svg(window.network_view, written[1], title)
    for stem, plot in window_plots(window).items():
        if not plot.isVisible():
            continue                    # hidden (View menu, presentation mode): no layout to draw
        png, svg = directory / f"{stem}.png", directory / f"{stem}.svg"
        write_plot_png(plot, png, scale)
        write_plot_svg(plot, svg)
        written += [png, svg]
    written.append(directory / "window.png")
    write_window_png(window, written[-1])
    return written


# -- headless ----------------------------------------------------------------------------
@contextmanager
def _offscreen_quietly():
    """Headless runs draw on Qt's offscreen platform, never on screen.  Its plugin warns
    about window-manager features it lacks ("This plugin does not support raise()"):
    noise on a command line, so those lines are dropped while the figures are drawn."""
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication
    if "QT_QPA_PLATFORM" in os.environ or QApplication.instance() is not None:
        yield
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

    def handler(mode, context, message):
        if not message.startswith("This plugin does not support"):
            sys.stderr.write(message + "\n")
    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def export_figures(directory, trainer, dataset, name: str, title: str, source=None,
                   view: dict | None = None, scale: float = DEFAULT_SCALE) -> list[Path]:
    """Headless: draw a trained Trainer in a window that is never shown on screen, and
    write its figures into `directory`.  The Trainer goes to the window's worker thread
    and is not to be touched until this returns."""
    from .app import application
    from .main_window import MainWindow
    from .session_actions import scenario_for
    from .settings import throwaway_settings
    with _offscreen_quietly(), throwaway_settings():
        application()
        window = MainWindow()
        try:
            window.sessions.confirm_unsaved = lambda what: "discard"
            window.sessions.show_trainer(scenario_for(trainer, dataset, name, title, source), trainer,
                                         source, view)
            window.resize(*FIGURE_WINDOW_SIZE)
            window.show()
            window.scenario_lab.measure_now()   # the scenario's verdict is in window.png
            return export_all(window, directory, scale)
        finally:
            window.close()
            window.deleteLater()
