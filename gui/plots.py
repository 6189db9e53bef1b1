"""The plots beside the network: loss per epoch, per-layer gradient norm, dead and
saturated fractions, update/weight ratio, and the output panel (predicted against actual
in original units; a classifier's confusion matrix and accuracy, and for 2-D inputs its
decision boundary beside the matrix).

They draw what the window hands them (a HistoryMirror and the newest Outputs) and hold no
maths.  Long histories are decimated before drawing, and the panel repaints one plot per
call (PlotPanel.refresh_next), so no frame ever pays for all five plots at once.

Axes are the expensive part of a pyqtgraph repaint (text), so each axis is cached as a
pixmap and the plots choose their own ranges in round steps (1, 2, 3, 5 × 10^k, whole
decades on log axes): a growing curve then rarely changes an axis.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

from core.numbering import neuron_name

from .confusion_view import (INSET_SHARE, ConfusionMatrix, MatrixInset, accuracy_line, accuracy_title,
                             counted_sets, rows_counted)
from .plot_axis import TickAxis
from .plot_legend import LegendRow
from .worker import CONFUSION_SAMPLES, OUTPUT_SAMPLES


MAX_POINTS = 1500               # points per drawn curve, whatever the history's length
# Okabe & Ito's colour-blind safe palette (black last).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TRAIN_COLOUR, TEST_COLOUR, GHOST_COLOUR = "#0072B2", "#E69F00", "#9A9A9A"
EMPHASIS_COLOUR = "#D55E00"     # the plot a scenario's diagnosis is read from
# Classes: the edges' orange and blue first, then Okabe & Ito's; their vermilion last, as
# it is hard to tell from the orange (a sixth class looked like the first).
CLASS_COLOURS = ((232, 113, 10), (24, 104, 178), (0, 158, 115), (204, 121, 167),
                 (86, 180, 233), (240, 228, 66), (0, 0, 0), (213, 94, 0))
BASE_POINT_SIZE = 9.0
FAINT_ALPHA = 70                # curves drawn behind the one a diagnosis is read from
GHOST_HEADROOM, GHOST_DECADES = 3.0, 2     # how far above the run a ghost stretches the axis
LEGEND_LINES = 2                # the class legend's lines at most (names shorten to fit)
TALL_PANEL = 300                # px: an output panel this tall can give its title two lines
FEW_LAYERS = 4                  # up to this many layers every curve gets a legend entry


def configure_pyqtgraph():
    pg.setConfigOptions(background="w", foreground="k", antialias=True)


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS):
    """At most ~max_points of (x, y) for drawing: each bin keeps its smallest and largest
    y (in their order), so spikes in a long loss curve survive."""
    n = len(x)
    if n <= max_points:
        return x, y
    per_bin = -(-n // (max_points // 2))
    bins = -(-n // per_bin)
    # Pad the last, partial bin with copies of its own last value (they never win).
    padded = np.concatenate([y, np.full(bins * per_bin - n, y[-1])]).reshape(bins, per_bin)
    pick = np.nan_to_num(padded, nan=0.0, posinf=0.0, neginf=0.0)
    base = np.arange(0, bins * per_bin, per_bin)
    lo = np.minimum(base + np.argmin(pick, axis=1), n - 1)
    hi = np.minimum(base + np.argmax(pick, axis=1), n - 1)
    idx = np.unique(np.concatenate([lo, hi, [0, n - 1]]))
    return x[idx], y[idx]


def round_up(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ x: an axis end
    that wastes at most a sixth of the plot."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= x * (1 - 1e-12):
            return step * power
    return 10 * power


def round_range(values: np.ndarray, log: bool):
    """(lo, hi) in view coordinates: whole decades (log10) on a log axis; on a linear axis
    from 0 (or a round negative) up to a round number."""
    values = values[np.isfinite(values)]
    if log:
        values = values[values > 0]
        if not values.size:
            return (-3.0, 1.0)
        lo, hi = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()))
        return (float(lo), float(max(hi, lo + 1)))
    if not values.size:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    return (0.0 if lo >= 0 else -round_up(-lo), round_up(hi) if hi > 0 else 0.0 if lo < 0 else 1.0)


def round_limits(values: np.ndarray):
    """(lo, hi) around `values` in steps of a round tenth of their span, so that points
    moving a little do not move the axes."""
    values = values[np.isfinite(values)]
    if not values.size:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    step = round_up((hi - lo) / 10 if hi > lo else abs(hi) / 10 or 1.0)
    return (math.floor(lo / step - 0.5) * step, math.ceil(hi / step + 0.5) * step)


def positive_or_nan(y: np.ndarray) -> np.ndarray:
    """Values a log axis can show; the rest become gaps."""
    return np.where(y > 0, y, np.nan)


def layer_colours(count: int) -> list:
    """Up to FEW_LAYERS layers: distinct colour-blind safe colours.  More: colours by depth
    (viridis, dark = near the inputs), so a deep net reads as first → last at a glance."""
    if count <= FEW_LAYERS:
        return [PALETTE[i] for i in range(count)]
    depth = pg.colormap.get("viridis")
    return [depth.map(0.85 * i / (count - 1), mode="qcolor") for i in range(count)]


def in_legend(index: int, count: int) -> bool:
    """Deep nets list only their first and last layer (the colours say the rest)."""
    return count <= FEW_LAYERS or index in (0, count - 1)


def layer_names(sizes) -> list[str]:
    """'x→H', 'H→O' for the lecture's net; 'x→H1', 'H1→H2', 'H2→O' for deeper ones."""
    levels = [level_name(sizes, level) for level in range(len(sizes))]
    return [f"{a}→{b}" for a, b in zip(levels[:-1], levels[1:])]


def level_name(sizes, level: int) -> str:
    name = neuron_name(sizes, level, 0)
    return name.rsplit("_", 1)[0] if "_" in name else name.rstrip("0123456789")


def _pen(colour, width=2.0, style=Qt.SolidLine):
    pen = pg.mkPen(colour, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class _Plot(pg.PlotWidget):
    """A PlotWidget that follows the window's font scale, with tick labels that never
    crowd (TickAxis), its legend above the curves (LegendRow), and a title that fits: the
    short title where the full one would be cut off, elided if even that is too long."""
    _built = False

    def __init__(self, title: str, x_label: str, y_label: str, parent=None, short_title: str = ""):
        super().__init__(parent, axisItems={side: TickAxis(side) for side in ("bottom", "left")})
        self._title, self._labels = title, (x_label, y_label)
        self._short_title = short_title
        self.setMinimumSize(160, 120)
        item = self.getPlotItem()
        item.setMenuEnabled(True)
        item.disableAutoRange()
        for side in ("bottom", "left"):
            axis = item.getAxis(side)
            axis.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
            axis.enableAutoSIPrefix(False)      # "(x0.001)" on a log axis confuses
        item.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.follow = True          # choose the ranges, until the user pans or zooms
        self._ranges = None
        self.legend = None
        self._scale = 1.0
        self.emphasised = False
        self._built = True
        self._apply_fonts()

    def _user_moved(self, *_):
        self.follow = False

    def set_ranges(self, x_range, y_range):
        """Show these ranges (view coordinates) unless the user has taken over; the
        plot's "A" button hands the ranges back."""
        view = self.getPlotItem().getViewBox()
        if any(view.autoRangeEnabled()):
            view.disableAutoRange()
            self.follow, self._ranges = True, None
        if self.follow and (x_range, y_range) != self._ranges:
            self._ranges = (x_range, y_range)
            view.setRange(xRange=x_range, yRange=y_range, padding=0)

    def epoch_range(self, epochs: np.ndarray):
        return (0.0, round_up(max(float(epochs[-1]) if len(epochs) else 0.0, 10.0)))

    def add_legend(self):
        self.legend = LegendRow.install(self.getPlotItem(), self._pt(8))
        return self.legend

    def show_in_legend(self, curve, name: str, shown: bool):
        """Legend entries only for curves that are drawn."""
        listed = any(sample.item is curve for sample, _ in self.legend.items)
        if shown and not listed:
            self.legend.addItem(curve, name)
        elif listed and not shown:
            self.legend.removeItem(curve)

    def _pt(self, size) -> str:
        return f"{size * self._scale:.0f}pt"

    def set_font_scale(self, scale: float):
        self._scale = scale
        self._apply_fonts()

    def set_emphasised(self, on: bool):
        """The scenario's diagnostic plot: a marked, coloured title and a frame."""
        self.emphasised = bool(on)
        self.setStyleSheet(f"{type(self).__name__} {{ border: 2px solid {EMPHASIS_COLOUR}; }}"
                           if on else "")
        self._apply_fonts()

    def _apply_fonts(self):
        scale = self._scale
        item = self.getPlotItem()
        self._show_title()
        font = QFont()
        font.setPointSizeF(8 * scale)
        for side, text in zip(("bottom", "left"), self._labels):
            axis = item.getAxis(side)
            axis.setTickFont(font)
            item.setLabel(side, text, **{"font-size": self._pt(9)})
        if self.legend is not None:
            self.legend.setLabelTextSize(self._pt(8))
            for _, label in self.legend.items:
                label.setText(label.text, size=self._pt(8))     # re-render at the new size
            self.legend.reflow(force=True)

    def _show_title(self):
        """The full title if it fits the plot's width, else the short one, else the short
        one elided; its row as tall as its lines (pyqtgraph fixes it at 30 px)."""
        item = self.getPlotItem()
        if item is None:                # closed: pyqtgraph has let go of it
            return
        font = QFont()
        font.setPointSizeF(10 * self._scale)
        font.setBold(self.emphasised)
        fm = QFontMetricsF(font)
        room = self.width() - item.getAxis("left").width() - 16     # the title sits over the plot area
        prefix = "◆ " if self.emphasised else ""
        choices = [prefix + t for t in self._title_choices() if t]
        title = next((t for t in choices if "<br>" in t or fm.horizontalAdvance(t) <= room), None)
        if title is None:
            title = fm.elidedText(choices[-1], Qt.ElideRight, max(room, 0))
        if self.emphasised:
            item.setTitle(title, size=self._pt(10), color=EMPHASIS_COLOUR, bold=True)
        else:
            item.setTitle(title, size=self._pt(10))
        height = max(30.0, (title.count("<br>") + 1) * fm.height() + 8)
        item.layout.setRowFixedHeight(0, height)
        item.titleLabel.setMaximumHeight(height)        # pyqtgraph caps it at 30 px too
        # A shorter title lowers the plot's minimum width: fit it to the view again (a plot
        # wider than its view is cut off at the right).
        item.setGeometry(self.range)

    def _title_choices(self) -> tuple:
        """Titles from the fullest to the shortest (the last one is elided if need be)."""
        return self._title, self._short_title

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._built:                 # pyqtgraph resizes once inside __init__
            # pyqtgraph sizes the scene to the widget, but a frame (the emphasised plot's)
            # leaves the viewport smaller: the axis labels at the bottom were cut off.
            viewport = QRectF(self.viewport().rect())
            if viewport != self.range:
                pg.GraphicsView.setRange(self, viewport, padding=0, disableAutoPixel=False)
            self._show_title()


class LossPlot(QWidget):
    """Train and test loss per epoch, a log-scale toggle and an optional ghost curve (a
    previous run, e.g. before a scenario's remedy)."""

    log_scale_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = _Plot("Loss E per epoch", "epoch", "E")
        self.plot.add_legend()
        item = self.plot.getPlotItem()
        self.ghost = item.plot([], [], pen=_pen(GHOST_COLOUR, 2, Qt.DashLine))
        self.train = item.plot([], [], pen=_pen(TRAIN_COLOUR, 2))
        self.test = item.plot([], [], pen=_pen(TEST_COLOUR, 2))
        self.plot.show_in_legend(self.train, "train", True)
        self.ghost.setVisible(False)
        self.test.setVisible(False)
        self.log_box = QCheckBox("log scale")
        self.log_box.setFocusPolicy(Qt.NoFocus)
        self.log_box.toggled.connect(self.set_log_scale)
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.addStretch(1)
        header.addWidget(self.log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        self._log = False
        self._ghost_data = None
        self._ghost_label = "previous run"
        self._data = (np.empty(0), np.empty(0), np.empty(0), np.empty(0))

    def set_log_scale(self, on: bool):
        on = bool(on)
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)     # calls back here
            return
        if on == self._log:
            return
        self._log = on
        self.plot.getPlotItem().setLogMode(x=False, y=on)
        self._draw()
        self.log_scale_changed.emit(on)

    def is_log_scale(self) -> bool:
        return self._log

    def set_ghost(self, epochs, values, label: str = "previous run"):
        """Show (epochs, values) as a dashed grey curve behind the loss, named `label` in
        the legend; None clears it."""
        if label != self._ghost_label:
            self.plot.show_in_legend(self.ghost, self._ghost_label, False)
            self._ghost_label = label
        if epochs is None or values is None or len(epochs) == 0:
            self._ghost_data = None
        else:
            self._ghost_data = decimate(np.asarray(epochs, float), np.asarray(values, float))
        self._draw()

    def train_curve(self):
        """The train loss as last handed to the plot: (epochs, values), not decimated."""
        return self._data[0].copy(), self._data[1].copy()

    def ghost_curve(self):
        """The ghost as drawn (decimated), or None."""
        return self._ghost_data

    def refresh(self, mirror, outputs=None):
        log_epochs = mirror.log_epochs.view()
        test = mirror.logs["test_loss"].view()
        self._data = (mirror.loss_epochs.view(), mirror.loss.view(), log_epochs, test)
        self._draw()

    def _draw(self):
        shape = positive_or_nan if self._log else (lambda y: y)
        epochs, loss, test_epochs, test = self._data
        x, y = decimate(epochs.astype(float), loss)
        self.train.setData(x, shape(y), connect="finite")
        has_test = bool(len(test)) and bool(np.isfinite(test).any())
        self.test.setVisible(has_test)
        self.plot.show_in_legend(self.test, "test", has_test)
        if has_test:
            x, y = decimate(test_epochs.astype(float), test)
            self.test.setData(x, shape(y), connect="finite")
        self.ghost.setVisible(self._ghost_data is not None)
        self.plot.show_in_legend(self.ghost, self._ghost_label, self._ghost_data is not None)
        shown_x, shown_y = [epochs], [loss]
        if self._ghost_data is not None:
            self.ghost.setData(self._ghost_data[0], shape(self._ghost_data[1]), connect="finite")
            shown_x.append(self._ghost_data[0])
            shown_y.append(self._ghost_ceiling(self._ghost_data[1], loss))
        if has_test:
            shown_y.append(test)
        last = max((float(x[-1]) for x in shown_x if len(x)), default=0.0)
        self.plot.set_ranges(self.plot.epoch_range(np.array([last])),
                             round_range(np.concatenate(shown_y), self._log))

    def _ghost_ceiling(self, ghost, loss):
        """The ghost's values as far as the axes follow them: at most GHOST_HEADROOM (linear)
        or GHOST_DECADES decades (log) above this run's loss.  A diverged ghost then leaves
        through the top instead of squashing the run beside it into a flat line."""
        finite = loss[np.isfinite(loss)]
        if not finite.size:
            return ghost
        top = finite.max() * (10 ** GHOST_DECADES if self._log else GHOST_HEADROOM)
        return np.minimum(ghost, top)

    def set_font_scale(self, scale: float):
        self.plot.set_font_scale(scale)
        font = self.log_box.font()
        font.setPointSizeF(9 * scale)
        self.log_box.setFont(font)


class LayerPlot(_Plot):
    """One curve per weight layer of a logged per-layer quantity (gradient norm,
    update/weight ratio), on a log axis, with an optional horizontal guide."""

    def __init__(self, title: str, y_label: str, field: str, guide: float | None = None,
                 guide_label: str = "", parent=None, short_title: str = ""):
        super().__init__(title, "epoch", y_label, parent, short_title)
        self.field = field
        self.getPlotItem().setLogMode(x=False, y=True)
        self.add_legend()
        self.curves = []
        self.guide = self.guide_entry = None
        self.guide_value, self.guide_label = guide, guide_label
        if guide is not None:
            # In log mode the view's coordinates are log10 of the data.
            pen = _pen("#555555", 1.5, Qt.DashLine)
            self.guide = pg.InfiniteLine(pos=np.log10(guide), angle=0, movable=False, pen=pen)
            self.getPlotItem().addItem(self.guide, ignoreBounds=True)
            # Named in the legend, not on the line, where its label sat on the curves; a
            # click on the entry hides and shows the line, as for the curves.
            self.guide_entry = pg.PlotDataItem(pen=pen)
            self.guide_entry.visibleChanged.connect(lambda: self.guide.setVisible(self.guide_entry.isVisible()))

    def set_layers(self, names):
        item = self.getPlotItem()
        for curve in self.curves:
            item.removeItem(curve)
            self.legend.removeItem(curve)
        colours = layer_colours(len(names))
        self.curves = [item.plot([], [], pen=_pen(colour, 2)) for colour in colours]
        for i, (curve, name) in enumerate(zip(self.curves, names)):
            self.show_in_legend(curve, name, in_legend(i, len(names)))
        if self.guide_entry is not None:    # after the layers
            self.show_in_legend(self.guide_entry, self.guide_label, False)
            self.show_in_legend(self.guide_entry, self.guide_label, True)

    def refresh(self, mirror, outputs=None):
        epochs = mirror.log_epochs.view().astype(float)
        values = mirror.logs[self.field].view()
        for i, curve in enumerate(self.curves):
            x, y = decimate(epochs, values[:, i] if len(values) else np.empty(0))
            curve.setData(x, positive_or_nan(y), connect="finite")
        shown = values.ravel()
        if self.guide_value is not None:        # keep the guide inside, off the edges
            shown = np.concatenate([shown, [self.guide_value / 3, self.guide_value * 30]])
        self.set_ranges(self.epoch_range(epochs), round_range(shown, log=True))


class HealthPlot(_Plot):
    """Dead fraction (ReLU layers, solid) and saturated fraction (sigmoid / tanh layers,
    dashed) per layer: the failure scenarios read their diagnosis off this plot."""

    def __init__(self, parent=None):
        super().__init__("Dead (—) and saturated (- -) units", "epoch", "fraction", parent,
                         "Dead and saturated units")
        self.add_legend()
        self.curves = []
        self._pens = []                 # per curve: (its own pen, a faint one)
        self.focus = None
        self.note = pg.TextItem("", color="#555555", anchor=(0.5, 0.5))
        self.getPlotItem().addItem(self.note, ignoreBounds=True)

    def set_layers(self, sizes, activation_names):
        item = self.getPlotItem()
        for _, _, curve in self.curves:
            item.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves, self._pens = [], []
        colours = layer_colours(len(activation_names))
        # core.diagnostics counts dead units for ReLU, saturated ones for sigmoid and tanh.
        for field, kinds, word, style in (("dead_fraction", ("relu",), "dead", Qt.SolidLine),
                                          ("saturated_fraction", ("sigmoid", "tanh"), "saturated",
                                           Qt.DashLine)):
            layers = [l for l, act in enumerate(activation_names) if act in kinds]
            for i, l in enumerate(layers):
                faint = pg.mkColor(colours[l])
                faint.setAlpha(FAINT_ALPHA)
                self._pens.append((_pen(colours[l], 2, style), _pen(faint, 1.2, style)))
                curve = item.plot([], [], pen=self._pens[-1][0])
                self.curves.append((field, l, curve))
                # "dead H1", "saturated O": dead means ReLU, saturated sigmoid or tanh.
                self.show_in_legend(curve, f"{word} {level_name(sizes, l + 1)}", in_legend(i, len(layers)))
        self.note.setText("" if self.curves else "no ReLU, sigmoid or tanh layers")
        self.set_focus(self.focus)

    def set_focus(self, field: str | None):
        """Draw one family ("dead_fraction" or "saturated_fraction") as usual and the other
        faintly behind it, so a scenario's diagnosis is not lost in the other's noise."""
        self.focus = field
        for (curve_field, _, curve), (pen, faint) in zip(self.curves, self._pens):
            behind = field is not None and curve_field != field
            curve.setPen(faint if behind else pen)
            curve.setZValue(-1 if behind else 0)

    def refresh(self, mirror, outputs=None):
        epochs = mirror.log_epochs.view().astype(float)
        for field, layer, curve in self.curves:
            values = mirror.logs[field].view()
            x, y = decimate(epochs, values[:, layer] if len(values) else np.empty(0))
            curve.setData(x, y)
        x_range = self.epoch_range(epochs)
        self.note.setPos(x_range[1] / 2, 0.5)
        self.set_ranges(x_range, (0.0, 1.02))


class OutputPanel(_Plot):
    """Regression: predicted against actual in original units with the diagonal (the
    lecture's figure).  2-D classification: the network's output over the input plane
    as a heat map, with the data points (the first OUTPUT_SAMPLES of each set, as for
    regression), a legend naming the classes' colours and the confusion matrix beside it.
    Other classification: the confusion matrix alone.  Classifiers show their accuracy in
    the title."""
    mode = None                         # "regression", "boundary" or "confusion" once set

    def __init__(self, parent=None):
        super().__init__("Predicted vs actual", "actual", "predicted", parent)
        item = self.getPlotItem()
        self.diagonal = item.plot([], [], pen=_pen("#666666", 1.5, Qt.DotLine))
        self.heat = pg.ImageItem()
        self.heat_rect = QRectF()           # where the heat map goes (boundary mode)
        item.addItem(self.heat)
        self.train_points = pg.ScatterPlotItem(size=BASE_POINT_SIZE, pen=pg.mkPen("k", width=0.8),
                                               brush=pg.mkBrush(TRAIN_COLOUR))
        self.test_points = pg.ScatterPlotItem(size=BASE_POINT_SIZE, pen=pg.mkPen(TEST_COLOUR, width=2),
                                              brush=pg.mkBrush(255, 255, 255, 0), symbol="o")
        item.addItem(self.train_points)
        item.addItem(self.test_points)
        self.confusion = ConfusionMatrix(item)
        self.add_legend()                   # the classes' colours (boundary mode)
        # Over the map and the matrix (whose rows say the colours too), with thin margins:
        # every pixel of this short panel's height the map can have counts.
        item.layout.removeItem(self.legend)
        item.layout.addItem(self.legend, 1, 1, 1, 3)
        self.legend.layout.setContentsMargins(9, 1, 9, 1)
        self.legend.geometryChanged.connect(self._fit_legend)
        self._legend_names, self._legend_width = [], None
        self._legend_keys = []              # items that stand for a class in the legend only
        # Boundary mode: the confusion matrix as a table of its own, right of the map.
        self.inset = MatrixInset()
        self.inset.hide()
        item.vb.sigResized.connect(self._fit_inset)       # the table is as tall as the map
        # The title over the map and the matrix alike.
        item.layout.removeItem(item.titleLabel)
        item.layout.addItem(item.titleLabel, 0, 1, 1, 3)

    def set_dataset(self, dataset, grid_axes=None):
        """What stays fixed for this data set: the actual values and the axes."""
        self.dataset = dataset
        self.heat.clear()
        self.heat.setVisible(False)
        self.diagonal.setData([], [])
        self.train_points.clear()
        self.test_points.clear()
        self.confusion.clear()
        self._show_inset(False)
        self._set_legend([])
        if dataset.task == "regression":
            self.mode = "regression"
            name = dataset.target_names[0].replace("_", " ")
            self.scale, unit = 1.0, dataset.units.get(dataset.target_names[0], "")
            if unit == "$":
                self.scale, unit = 1e-3, "k$"      # the lecture's figure is in k
            suffix = f" ({unit})" if unit else ""
            self._title = "Predicted vs actual"
            self._labels = (f"actual {name}{suffix}", f"predicted {name}{suffix}")
            self.actual = dataset.y_to_original(dataset.Y)[:, 0] * self.scale
            self.actual_test = (None if dataset.Y_test is None or not len(dataset.Y_test) else
                                dataset.y_to_original(dataset.Y_test)[:, 0] * self.scale)
        elif grid_axes is not None:
            self.mode = "boundary"
            self._title = "Decision boundary"
            self._labels = tuple(dataset.feature_names[:2])
            gx, gy = grid_axes
            self.heat_rect = QRectF(gx[0], gy[0], gx[-1] - gx[0], gy[-1] - gy[0])
            self.heat.setVisible(True)
            # The first OUTPUT_SAMPLES rows of each set, each class's brush made once: all
            # 40,000 rows of a CSV held the window for 7 s here.
            k = len(dataset.classes)
            brushes = [pg.mkBrush(*class_colour(c)) for c in range(k)]
            pens = [pg.mkPen(class_colour(c), width=2) for c in range(k)]
            X, labels = dataset.X[:OUTPUT_SAMPLES], dataset.Y[:OUTPUT_SAMPLES, 0].astype(int)
            self.train_points.setData(X[:, 0], X[:, 1], brush=[brushes[c] for c in labels])
            has_test = dataset.X_test is not None and len(dataset.X_test) > 0
            if has_test:
                X, labels = dataset.X_test[:OUTPUT_SAMPLES], dataset.Y_test[:OUTPUT_SAMPLES, 0].astype(int)
                self.test_points.setData(X[:, 0], X[:, 1], pen=[pens[c] for c in labels])
            self._set_legend(class_names(dataset), has_test)
            self.inset.set_classes(dataset.classes, most_counted(dataset),
                                   [class_colour(c) for c in range(len(dataset.classes))])
            self._show_inset(True)
            self.set_ranges((gx[0], gx[-1]), (gy[0], gy[-1]))
        else:
            self.mode = "confusion"
            self._title = "Confusion matrix"
            self._labels = ("predicted", f"actual {dataset.target_names[0]}")
            self.set_ranges(*self.confusion.set_classes(dataset.classes, most_counted(dataset)))
        self._base_title, self._short_title = self._title, ""
        self._apply_fonts()

    def _set_legend(self, names, has_test: bool = False):
        """One entry per class, a dot in its colour (the heat map's hue where the network
        picks that class); and a ring for the test rows if there are any."""
        for key in self._legend_keys:
            self.legend.removeItem(key)
        self._legend_keys, self._legend_width = [], None
        size = BASE_POINT_SIZE * self._scale
        entries = [(name, pg.mkPen("k", width=0.8), pg.mkBrush(*class_colour(c)))
                   for c, name in enumerate(names)]
        if has_test:
            entries.append(("test rows", pg.mkPen("#444444", width=2), pg.mkBrush(255, 255, 255, 0)))
        self._legend_names = [name for name, _, _ in entries]
        for name, pen, brush in entries:
            key = pg.ScatterPlotItem(symbol="o", size=size, pen=pen, brush=brush)
            self._legend_keys.append(key)
            self.legend.addItem(key, name)
            # A click on an entry would hide its key (pyqtgraph's toggle), not the class.
            self.legend.items[-1][0].setAcceptedMouseButtons(Qt.NoButton)
        self._set_legend_sizes(size)

    def _set_legend_sizes(self, size: float):
        """Dots as big as the points; each sample only as wide as its dot (pyqtgraph
        gives every sample the 20 px a line needs, and draws the dot at 10)."""
        for sample, _ in self.legend.items:
            sample.item.setSize(size)
            sample.setFixedWidth(10 + size / 2 + 2)
        self._legend_width = None
        self._fit_legend()

    def _fit_legend(self, *_):
        """One line over the map, the names shortened a little if need be; else at most
        LEGEND_LINES lines, shortened further (six long star names took three lines and
        left the map a strip; the colours still tell the classes apart)."""
        width = self.legend.geometry().width()
        if not self._legend_keys or width <= 0 or width == self._legend_width:
            return
        self._legend_width = width
        labels = [label for _, label in self.legend.items]
        classes = len(self.dataset.classes)         # "test rows" after them stays whole
        tries = [(1, chars) for chars in (None, 16, 12, 10, 8)] + \
                [(LEGEND_LINES, chars) for chars in (None, 16, 12, 10, 8, 6, 5)]
        for lines, chars in tries:
            for i, (label, name) in enumerate(zip(labels, self._legend_names)):
                cut = chars is not None and i < classes and len(name) > chars
                text = name[:chars - 1] + "…" if cut else name
                if label.text != text:
                    label.setText(text, size=self._pt(8))
            if -(-len(labels) // self.legend.columns_for(width)) <= lines:
                break
        self.legend.reflow(force=True)

    def legend_entries(self) -> list[tuple[str, tuple]]:
        """(name, RGB of its dot) as the legend shows them."""
        return [(label.text, sample.item.opts["brush"].color().getRgb()[:3])
                for sample, label in self.legend.items]

    def _show_inset(self, on: bool):
        """The matrix beside the map: in the PlotItem's own grid (right of the plot, under
        the title) so that exports and resizes take it along with the map."""
        grid = self.getPlotItem().layout
        placed = any(grid.itemAt(i) is self.inset for i in range(grid.count()))
        if on and not placed:
            grid.addItem(self.inset, 2, 3, 2, 1)
        elif placed and not on:
            grid.removeItem(self.inset)
            self.inset.clear_classes()
        self.inset.setVisible(on)
        self._fit_inset()

    def _fit_inset(self, *_):
        """The matrix as wide as it needs, but never more than INSET_SHARE of the panel:
        the map keeps the larger part."""
        item = self.getPlotItem()
        if item is None:                # closed: pyqtgraph has let go of it
            return
        grid = item.layout
        width = 0.0
        if self.inset.isVisible():
            # It spans the map's rows: the plot area and the axis under it.
            height = item.vb.height() + item.getAxis("bottom").height()
            width = min(self.inset.fit_to(height), INSET_SHARE * self.width())
        grid.setColumnFixedWidth(3, width)
        grid.setColumnSpacing(2, 8 if width else 0)

    def matrix_shown(self) -> ConfusionMatrix | None:
        """The confusion matrix on screen (beside the map, or filling the panel)."""
        return {"boundary": self.inset.matrix, "confusion": self.confusion}.get(self.mode)

    def refresh(self, mirror, outputs):
        if outputs is None or self.mode is None:
            return
        if self.mode == "regression":
            self._show_regression(outputs)
        else:
            counts = outputs.confusion if outputs.confusion_test is None else outputs.confusion_test
            if self.mode == "boundary":
                self.heat.setImage(boundary_image(outputs.grid), autoLevels=False)
                # After setImage: setRect scales by the current image's pixels, and before
                # the first image there are none (the map came out 64× too large).
                self.heat.setRect(self.heat_rect)
                if counts is not None:
                    d = self.dataset
                    shown = counted_sets(outputs, d.n_samples, 0 if d.Y_test is None else len(d.Y_test))[0]
                    self.inset.show_counts(counts, rows_counted(*shown))
            elif counts is not None:
                self.confusion.show(counts)
            self._show_accuracy(outputs)

    def _show_regression(self, outputs):
        predicted = outputs.predicted[:, 0] * self.scale
        actual = self.actual[:len(predicted)]
        self.train_points.setData(actual, predicted)
        values = [actual, predicted]
        if outputs.predicted_test is not None and self.actual_test is not None:
            test = outputs.predicted_test[:, 0] * self.scale
            self.test_points.setData(self.actual_test[:len(test)], test)
            values += [self.actual_test, test]
        lims = round_limits(np.concatenate(values))
        self.diagonal.setData(lims, lims)
        self.set_ranges(lims, lims)

    def _show_accuracy(self, outputs):
        if outputs.confusion is None:
            return
        d = self.dataset
        n_test = 0 if d.Y_test is None else len(d.Y_test)
        if self.mode == "confusion":
            self._title = accuracy_title(self._base_title, outputs, d.n_samples, n_test, True)
        else:
            # One line: the map needs the height more (the legend takes a row).  The
            # matrix beside the map names its rows itself.
            line = accuracy_line(outputs, d.n_samples, n_test, True)
            self._title, self._short_title = f"{self._base_title} · {line}", line
        self._show_title()

    def _title_choices(self) -> tuple:
        """In boundary mode one line where it fits; else two where the panel has height to
        spare (presentation mode), else shorter."""
        if self.mode == "boundary" and self._short_title:
            two_lines = (f"{self._base_title}<br>{self._short_title}",) if self.height() >= TALL_PANEL else ()
            return (self._title, *two_lines, f"Boundary · {self._short_title}", self._short_title)
        return super()._title_choices()

    def resizeEvent(self, event):
        if self._built:
            self._fit_inset()
        super().resizeEvent(event)

    def set_font_scale(self, scale: float):
        super().set_font_scale(scale)
        self.confusion.set_font_scale(scale)
        self.inset.set_font_scale(scale)
        size = BASE_POINT_SIZE * scale
        self.train_points.setSize(size)
        self.test_points.setSize(size)
        self._set_legend_sizes(size)
        self._fit_inset()


def class_colour(index: int) -> tuple:
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


def class_names(dataset) -> list[str]:
    """The legend's names: 'Adelie' as it is; a bare number gets the target's name
    ('class=1', as the graph's output P(class=1) says it)."""
    target = dataset.target_names[0]
    return [str(c) if any(ch.isalpha() for ch in str(c)) else f"{target}={c}" for c in dataset.classes]


def most_counted(dataset) -> int:
    """The largest count a matrix cell can hold: the rows the worker counts in the set shown."""
    shown = dataset.Y_test if dataset.Y_test is not None and len(dataset.Y_test) else dataset.Y
    return min(len(shown), CONFUSION_SAMPLES)


def boundary_image(grid: np.ndarray) -> np.ndarray:
    """RGBA heat map (x-major, as ImageItem wants it) of the network's output over the
    plane: two classes fade orange → white → blue with P(class 1); more classes show the
    winning class's colour, paler where the network is unsure."""
    grid = np.nan_to_num(grid, nan=0.5)     # a diverged net's NaN: undecided
    if grid.shape[-1] == 1:
        p1 = np.clip(grid[..., 0], 0, 1)
    elif grid.shape[-1] == 2:
        p1 = np.clip(grid[..., 1], 0, 1)
    else:
        p1 = None
    if p1 is not None:
        c0, c1 = np.array(CLASS_COLOURS[0], float), np.array(CLASS_COLOURS[1], float)
        t = np.abs(2 * p1 - 1)[..., None]
        colour = np.where((p1 >= 0.5)[..., None], c1, c0)
    else:
        k = grid.shape[-1]
        winner = np.argmax(grid, axis=-1)
        palette = np.array([class_colour(c) for c in range(k)], float)
        colour = palette[winner]
        t = ((np.max(grid, axis=-1) - 1 / k) * k / (k - 1))[..., None]
    white = np.full(3, 255.0)
    rgb = white + (colour - white) * (0.7 * np.clip(t, 0, 1))
    rgba = np.concatenate([rgb, np.full(rgb.shape[:-1] + (1,), 255.0)], axis=-1)
    return np.ascontiguousarray(rgba.astype(np.ubyte).transpose(1, 0, 2))


class PlotPanel(QWidget):
    """The four diagnostic plots in a row; the loss plot and the output panel live
    elsewhere in the window but refresh through here, one plot per call."""

    def __init__(self, loss_plot: LossPlot, output_panel: OutputPanel, parent=None):
        super().__init__(parent)
        self.loss = loss_plot
        self.output = output_panel
        self.grad = LayerPlot("Gradient norm ‖∂E/∂W‖ per layer", "‖∂E/∂W‖", "grad_norm",
                              short_title="Gradient norm per layer")
        self.health = HealthPlot()
        self.ratio = LayerPlot("Update / weight ratio ‖Δw‖/‖w‖", "‖Δw‖/‖w‖", "update_ratio",
                               guide=1e-3, guide_label="1e-3 guide", short_title="Update / weight ratio")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.grad, self.health, self.ratio):
            layout.addWidget(plot, 1)
        self.plots = [self.loss, self.output, self.grad, self.health, self.ratio]
        self._dirty = set()
        self._next = 0

    def diagnostic(self, name: str):
        """The plot a scenario's diagnosis is read from ("grad_norm", "dead", "saturated",
        "update_ratio"), or None for the loss."""
        return {"grad_norm": self.grad, "dead": self.health, "saturated": self.health,
                "update_ratio": self.ratio}.get(name)

    def emphasise(self, name: str):
        """Put the scenario's diagnostic plot ("loss", "grad_norm", "dead", ...) in front:
        its title marked and framed, in the row of diagnostic plots twice as wide, and on
        the dead / saturated plot the other family of curves faint."""
        chosen = self.diagnostic(name)
        for plot in (self.grad, self.health, self.ratio):
            plot.set_emphasised(plot is chosen)
            self.layout().setStretchFactor(plot, 2 if plot is chosen else 1)
        self.health.set_focus({"dead": "dead_fraction", "saturated": "saturated_fraction"}.get(name))
        self.loss.plot.set_emphasised(name == "loss")

    def show_only(self, plot):
        """Presentation mode: the diagnostic row keeps one plot (None: all of them)."""
        for other in (self.grad, self.health, self.ratio):
            other.setVisible(plot is None or other is plot)

    def set_network(self, sizes, activation_names):
        names = layer_names(sizes)
        self.grad.set_layers(names)
        self.ratio.set_layers(names)
        self.health.set_layers(sizes, activation_names)

    def mark_dirty(self, outputs_changed: bool):
        self._dirty.update(p for p in self.plots if p is not self.output)
        if outputs_changed:
            self._dirty.add(self.output)

    def has_dirty(self) -> bool:
        return any(p.isVisible() for p in self._dirty)

    def refresh_next(self, mirror, outputs) -> bool:
        """Redraw the next visible plot with new data; returns whether any is left."""
        for _ in range(len(self.plots)):
            plot = self.plots[self._next]
            self._next = (self._next + 1) % len(self.plots)
            if plot in self._dirty and plot.isVisible():
                self._dirty.discard(plot)
                plot.refresh(mirror, outputs)
                break
        return self.has_dirty()

    def refresh_all(self, mirror, outputs):
        for plot in self.plots:
            plot.refresh(mirror, outputs)
        self._dirty.clear()

    def set_font_scale(self, scale: float):
        for plot in self.plots:
            plot.set_font_scale(scale)
