"""The activation-function view: a layer's f(α) as the lecture's first figure draws it, its
derivative beneath, and the layer's neurons marked at their current α on both.

Saturated points (a sigmoid's or tanh's flat tails, f′ ≈ 0) are orange and dead ReLU points
(α ≤ 0, f′ = 0) red, so the lecture's "vanishing gradients" and "dead neurons" show in the
lecture's own picture.  Everything drawn comes from a core ActivationProfile.
"""
from __future__ import annotations

from PySide6.QtCore import Qt   # PySide6 before pyqtgraph (DESIGN.md)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

import pyqtgraph as pg

from core.formula import rich

CURVE_PEN = pg.mkPen("k", width=2)
SLOPE_PEN = pg.mkPen("#555555", width=2)
ZERO_PEN = pg.mkPen("#666666", width=1, style=Qt.DotLine)
NORMAL, SATURATED, DEAD = "#1f77b4", "#f28e2b", "#d62728"
MAX_LABELLED_POINTS = 8     # name the neurons only while the names stay readable


class ActivationView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._profile = None
        self._layer_title = ""
        self._scale = 1.0
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.curve_plot = self.plots.addPlot(row=0, col=0)
        self.slope_plot = self.plots.addPlot(row=1, col=0)
        self.slope_plot.setXLink(self.curve_plot)
        for plot in (self.curve_plot, self.slope_plot):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=False, y=True, alpha=0.15)
            plot.addItem(pg.InfiniteLine(pos=0, angle=90, pen=ZERO_PEN))
        self.curve = self.curve_plot.plot(pen=CURVE_PEN)
        self.slope = self.slope_plot.plot(pen=SLOPE_PEN)
        self.curve_points = pg.ScatterPlotItem(size=12, pen=pg.mkPen("w", width=1))
        self.slope_points = pg.ScatterPlotItem(size=12, pen=pg.mkPen("w", width=1))
        self.curve_plot.addItem(self.curve_points)
        self.slope_plot.addItem(self.slope_points)
        self._labels = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plots, 1)
        self._label_axes()

    def show_profile(self, profile, layer_title: str = ""):
        """Draw a core.activation_profile.ActivationProfile; `layer_title` names the layer
        ('the hidden layer')."""
        self._profile, self._layer_title = profile, layer_title
        for item in self._labels:
            self.curve_plot.removeItem(item)
        self._labels = []
        if not profile.elementwise:
            self.curve.setData([], [])
            self.slope.setData([], [])
            self.curve_points.setData([], [])
            self.slope_points.setData([], [])
            self.caption.setText(f"{layer_title}: softmax — each β depends on every α of the "
                                 "layer, so there is no single curve to draw.")
            return
        self.curve.setData(profile.grid, profile.curve)
        self.slope.setData(profile.grid, profile.slope)
        brushes = [pg.mkBrush(DEAD if d else SATURATED if s else NORMAL)
                   for s, d in zip(profile.saturated, profile.dead)]
        self.curve_points.setData(profile.alphas, profile.betas, brush=brushes)
        self.slope_points.setData(profile.alphas, profile.slopes, brush=brushes)
        if profile.alphas.size <= MAX_LABELLED_POINTS:
            for a, b, name in zip(profile.alphas, profile.betas, profile.labels):
                label = pg.TextItem(name, color="#333333", anchor=(0.5, 1.3))
                label.setFont(self._label_font())
                label.setPos(float(a), float(b))
                self.curve_plot.addItem(label)
                self._labels.append(label)
        flags = []
        if profile.saturated.any():
            flags.append(f"{int(profile.saturated.sum())} of {profile.saturated.size} saturated "
                         f"(orange: f′ ≈ 0, the gradient vanishes)")
        if profile.dead.any():
            flags.append(f"{int(profile.dead.sum())} of {profile.dead.size} at α ≤ 0 "
                         f"(red: f′ = 0, no gradient)")
        heading = f"<b>{layer_title}</b>: " if layer_title else ""
        # rich(): the title is Unicode text, and e^(−α) must show as a superscript.
        flagged = "<br/>" + "; ".join(flags) if flags else ""
        self.caption.setText(f"{heading}{rich(profile.title)}{flagged}")

    def profile(self):
        return self._profile

    def set_font_scale(self, scale: float):
        self._scale = max(0.5, float(scale))
        font = QFont(self.font())
        font.setPointSizeF(QFont().pointSizeF() * self._scale)
        self.caption.setFont(font)
        self._label_axes()
        size = 12 * self._scale
        self.curve_points.setSize(size)
        self.slope_points.setSize(size)
        if self._profile is not None:
            self.show_profile(self._profile, self._layer_title)

    def _label_font(self) -> QFont:
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * self._scale)
        return font

    def _label_axes(self):
        size = f"{round(10 * self._scale)}pt"
        self.curve_plot.setLabel("left", "β = f(α)", **{"font-size": size})
        self.slope_plot.setLabel("left", "f′(α)", **{"font-size": size})
        self.slope_plot.setLabel("bottom", "α", **{"font-size": size})
        for plot in (self.curve_plot, self.slope_plot):
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)   # f′ ≤ 0.25 must not read "×0.001"
                plot.getAxis(axis).setStyle(tickFont=self._label_font())
