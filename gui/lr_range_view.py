"""The learning-rate range test's picture: the loss after one step at each learning rate,
against η on a log axis, with the suggested rate marked and a button to train at it.

It draws a core.lr_range.LRRangeResult handed to it and computes nothing; the sweep runs
in core (the window decides on which thread).  The y axis turns logarithmic when the
curve spans more than LOG_Y_SPAN, as a sweep from bad initial weights often does.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal   # PySide6 before pyqtgraph (DESIGN.md)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

import pyqtgraph as pg

# Okabe & Ito: blue curve, grey raw losses behind it, vermillion suggestion.
CURVE_PEN = pg.mkPen("#0072B2", width=2)
RAW_PEN = pg.mkPen("#9A9A9A", width=1)
SUGGESTION_PEN = pg.mkPen("#D55E00", width=2, style=Qt.DashLine)
LOWEST_BRUSH = pg.mkBrush("#0072B2")
LOG_Y_SPAN = 20.0


class LRRangeView(QWidget):
    rate_chosen = Signal(float)        # "Use η = …" clicked: train at the suggested rate

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None
        self.caption = QLabel("Run the learning-rate range test to see the loss against η.")
        self.caption.setWordWrap(True)
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "learning rate η")
        self.plot.setLabel("left", "loss after one step")
        self.plot.getAxis("left").enableAutoSIPrefix(False)    # no "(x0.001)" on a loss
        self.plot.setLogMode(x=True, y=False)
        self.raw = self.plot.plot(pen=RAW_PEN)
        self.curve = self.plot.plot(pen=CURVE_PEN)
        self.lowest = self.plot.plot(pen=None, symbol="o", symbolSize=9, symbolBrush=LOWEST_BRUSH)
        # InfiniteLine is not log-aware: it lives in view coordinates, log10 η.
        self.suggestion = pg.InfiniteLine(angle=90, pen=SUGGESTION_PEN, label="",
                                          labelOpts={"position": 0.92, "color": "#D55E00",
                                                     "fill": (255, 255, 255, 200)})
        self.suggestion.setVisible(False)
        self.plot.addItem(self.suggestion)
        self.use_button = QPushButton("Use the suggested rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use_suggestion)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(buttons)

    def show_result(self, result):
        """Draw a core.lr_range.LRRangeResult."""
        self.result = result
        lrs, smoothed = result.lrs, result.smoothed
        positive = smoothed[smoothed > 0]
        self.plot.setLogMode(x=True, y=bool(positive.size and
                                            positive.max() > LOG_Y_SPAN * positive.min()))
        smoothing_applied = not np.array_equal(result.losses, smoothed)
        self.raw.setData(lrs, result.losses if smoothing_applied else [])
        self.curve.setData(lrs, smoothed)
        if lrs.size:
            lowest = int(np.argmin(smoothed))
            self.lowest.setData([lrs[lowest]], [smoothed[lowest]])
        else:
            self.lowest.setData([], [])
        self.suggestion.setVisible(True)      # first: a hidden label ignores new text
        self.suggestion.setValue(math.log10(result.suggested_lr))
        self.suggestion.label.setFormat(f"suggested η = {result.suggested_lr:.3g}")
        self.plot.setXRange(math.log10(result.start_lr), math.log10(result.end_lr), padding=0.02)
        self.plot.enableAutoRange(axis="y")
        self.caption.setText(
            f"Suggested learning rate η = {result.suggested_lr:.3g}: {result.rule} "
            f"(η = {result.min_lr:.3g}). {result.stopped[0].upper()}{result.stopped[1:]}; "
            f"the weights are back where the test started.")
        self.use_button.setText(f"Use η = {result.suggested_lr:.3g}")
        self.use_button.setEnabled(True)

    def clear(self):
        self.result = None
        for item in (self.raw, self.curve, self.lowest):
            item.setData([], [])
        self.suggestion.setVisible(False)
        self.use_button.setEnabled(False)
        self.use_button.setText("Use the suggested rate")

    def set_font_scale(self, scale: float):
        """Presentation mode: caption, button and axis text grow together."""
        font = QFont(self.font())
        font.setPointSizeF(max(1.0, QFont().pointSizeF() * scale))
        for widget in (self.caption, self.use_button):
            widget.setFont(font)
        for name in ("bottom", "left"):
            axis = self.plot.getAxis(name)
            axis.setTickFont(font)
            axis.label.setFont(font)

    def _use_suggestion(self):
        if self.result is not None:
            self.rate_chosen.emit(float(self.result.suggested_lr))
