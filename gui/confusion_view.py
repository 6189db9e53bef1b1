"""The classifier's confusion matrix: the actual class down the side (the first at the
top), the predicted one along the bottom.  Each cell is shaded by its share of the actual
class's row, so a good classifier reads as a dark diagonal whatever the class sizes, and
carries its count while the cells are big enough to read.  The counts come from the worker
(core.csv_dataset.confusion_matrix); the accuracy from core too.

It fills the output panel's plot when the inputs are not a plane; beside a decision
boundary it is a small table of its own (MatrixInset), so a 2-feature classifier shows
both where it draws the line and how many rows land on each side of it.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from core.csv_dataset import accuracy

from .plot_axis import TickAxis

MAX_WRITTEN = 12            # classes up to which every cell shows its count
MAX_TICKS = 20              # class names along an axis (more: every k-th)
NAME_CHARS = 12             # a class name on an axis is cut to this many characters
EMPTY, FULL = np.array([255.0, 255.0, 255.0]), np.array([8.0, 69.0, 148.0])   # white → dark blue
DARK_CELL = 0.55            # shares above this get white text
CELL_PADDING = 6            # px around a count inside its cell
INSET_SHARE = 0.45          # of the panel's width, at most, for the matrix beside a boundary


def cell_image(counts: np.ndarray) -> np.ndarray:
    """RGBA cells, x-major as ImageItem wants them (x = predicted, y = actual)."""
    rows = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(rows, 1)
    rgb = EMPTY + (FULL - EMPTY) * share[..., None]
    rgba = np.concatenate([rgb, np.full(share.shape + (1,), 255.0)], axis=-1)
    return np.ascontiguousarray(rgba.astype(np.ubyte).transpose(1, 0, 2)), share


class CellImage(pg.ImageItem):
    """The matrix's cells; hovering one tells its count (the only way to read it where the
    cells are too small to carry it)."""

    def __init__(self, matrix: "ConfusionMatrix"):
        super().__init__()
        self.matrix = matrix
        self.setAcceptHoverEvents(True)

    def hoverEvent(self, event):
        if event.isExit():
            self.setToolTip("")
            return
        pos = event.pos()           # in image pixels: x = predicted, y = actual
        self.setToolTip(self.matrix.cell_tip(int(pos.y()), int(pos.x())))


def short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def counted_sets(outputs, n_train: int, n_test: int) -> list:
    """(name, counts, rows in the set) for each set counted, the one the matrix shows
    (test, if there is one) first."""
    return [(what, counts, n) for what, counts, n in (("test", outputs.confusion_test, n_test),
                                                      ("train", outputs.confusion, n_train))
            if counts is not None]


def rows_counted(what: str, counts: np.ndarray, n: int) -> str:
    """'test rows', or on a big file 'first 20,000 of 200,000 test rows'."""
    counted = int(counts.sum())
    return f"{what} rows" if counted >= n else f"first {counted:,} of {n:,} {what} rows"


def accuracy_title(base: str, outputs, n_train: int, n_test: int, matrix: bool) -> str:
    """Two short lines (one long one would widen the plot beyond its panel): what is shown
    — for the matrix, which rows, 'first 20,000 of 200,000' on a big file — and
    'accuracy: test 93.3 % · train 95.0 %'."""
    if matrix:                          # the matrix shows the first set (test, if there is one)
        base = f"{base} ({rows_counted(*counted_sets(outputs, n_train, n_test)[0])})"
    return f"{base}<br>" + accuracy_line(outputs, n_train, n_test, matrix)


def accuracy_line(outputs, n_train: int, n_test: int, matrix: bool) -> str:
    """'accuracy: test 93.3 % · train 95.0 %', each set's share of rows right; a set
    counted only in part says so, unless it is the one a matrix shows (matrix=True: the
    matrix's own title names its rows)."""
    parts = [f"{what} {100 * accuracy(counts):.1f} %" +
             ("" if counts.sum() >= n or (matrix and i == 0) else f" (first {int(counts.sum()):,})")
             for i, (what, counts, n) in enumerate(counted_sets(outputs, n_train, n_test))]
    return "accuracy: " + " · ".join(parts)


class ConfusionMatrix:
    def __init__(self, plot_item: pg.PlotItem):
        self.item = plot_item
        self.image = CellImage(self)
        self.image.setVisible(False)
        plot_item.addItem(self.image)
        self.texts: list[list[pg.TextItem]] = []
        self.classes: list = []
        self.counts = None
        self._font = QFont()
        self._widest = "0"              # the longest count any cell can hold (layout)
        self._longest = "0"             # the longest count now shown
        plot_item.getViewBox().sigResized.connect(self.fit_counts)

    def set_classes(self, classes, most: int = 0) -> tuple:
        """Lay out a k × k grid for these class names, for counts up to `most`; returns
        the (x, y) view ranges."""
        self.clear()
        self.classes = [str(c) for c in classes]
        self._widest = str(max(int(most), 0))
        k = len(self.classes)
        self.image.setVisible(True)
        if k <= MAX_WRITTEN:
            self.texts = [[self._text(i, j) for j in range(k)] for i in range(k)]
            self.fit_counts()
        stride = -(-k // MAX_TICKS)
        ticks = [[(i, short(name)) for i, name in enumerate(self.classes) if i % stride == 0]]
        for side in ("bottom", "left"):
            self.item.getAxis(side).setTicks(ticks)
        self.item.getViewBox().invertY(True)       # the first class at the top, as in a table
        return (-0.5, k - 0.5), (-0.5, k - 0.5)

    def _text(self, i: int, j: int) -> pg.TextItem:
        text = pg.TextItem("", color="#222222", anchor=(0.5, 0.5))
        text.setFont(self._font)
        text.setPos(j, i)
        self.item.addItem(text, ignoreBounds=True)
        return text

    def show(self, counts: np.ndarray):
        self.counts = np.asarray(counts)
        longest = str(int(self.counts.max())) if self.counts.size else "0"
        if len(longest) != len(self._longest):
            self._longest = longest
            self.fit_counts()
        image, share = cell_image(self.counts)
        self.image.setImage(image, autoLevels=False)
        k = len(image)
        self.image.setRect(QRectF(-0.5, -0.5, k, k))    # after setImage: it scales by pixels
        for i, row in enumerate(self.texts):
            for j, text in enumerate(row):
                text.setText(str(int(counts[i, j])))
                text.setColor("w" if share[i, j] > DARK_CELL else "#222222")

    def counts_shown(self) -> np.ndarray:
        """The counts written in the cells (tests; what a viewer reads)."""
        return np.array([[int(t.textItem.toPlainText() or 0) for t in row] for row in self.texts])

    def text_height(self) -> float:
        return QFontMetricsF(self._font).height()

    def cell_size(self) -> float:
        """The px a cell needs to carry the longest count it can hold."""
        fm = QFontMetricsF(self._font)
        return max(fm.horizontalAdvance(self._widest), fm.height()) + 2 * CELL_PADDING

    def fit_counts(self, *_):
        """Counts only in cells big enough to hold them (else they would run into each
        other): the shading still shows the diagonal."""
        if not self.texts:
            return
        view = self.item.getViewBox()
        k = len(self.classes)
        fm = QFontMetricsF(self._font)
        room_x, room_y = view.width() / k, view.height() / k
        fits = (room_x >= fm.horizontalAdvance(self._longest) + CELL_PADDING
                and room_y >= fm.height() * 0.8)
        for row in self.texts:
            for text in row:
                text.setVisible(fits)

    def cell_tip(self, i: int, j: int) -> str:
        """What hovering cell (actual i, predicted j) says: its count, written or not."""
        if self.counts is None or not (0 <= i < len(self.classes) and 0 <= j < len(self.classes)):
            return ""
        n, row = int(self.counts[i, j]), int(self.counts[i].sum())
        return (f"actual {self.classes[i]}, predicted {self.classes[j]}: {n:,} of {row:,} rows"
                f" ({100 * n / row:.0f} %)" if row else f"actual {self.classes[i]}: no rows")

    def counts_readable(self) -> bool:
        return bool(self.texts) and all(t.isVisible() for row in self.texts for t in row)

    def clear(self):
        """Back to an ordinary plot: no cells, default ticks, y upwards."""
        self.image.clear()
        self.image.setVisible(False)
        for row in self.texts:
            for text in row:
                self.item.removeItem(text)
        self.texts, self.classes, self.counts = [], [], None
        self._longest = "0"
        for side in ("bottom", "left"):
            self.item.getAxis(side).setTicks(None)
        self.item.getViewBox().invertY(False)

    def set_font_scale(self, scale: float):
        self._font.setPointSizeF(9 * scale)
        for row in self.texts:
            for text in row:
                text.setFont(self._font)
        self.fit_counts()


DOT = "●"                   # a class's mark on the inset's axes, drawn in its colour


class ClassAxis(TickAxis):
    """A matrix axis whose labels start with a dot in their class's colour (the points'
    and the map's colour): beside the decision boundary the matrix reads as its key."""

    def __init__(self, orientation: str):
        super().__init__(orientation)
        self.colours: list = []             # RGB per class, in the axis's tick order

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):
        super().drawPicture(p, axisSpec, tickSpecs, [])
        p.setClipRect(self.boundingRect().toAlignedRect())
        fm = QFontMetricsF(p.font())
        radius = min(0.7 * fm.height(), fm.horizontalAdvance(DOT)) / 2
        for rect, flags, text in textSpecs:
            colour = self._colour_at(rect.center())
            width = fm.horizontalAdvance(text)
            if flags & Qt.AlignRight:
                left = rect.right() - width
            elif flags & Qt.AlignLeft:
                left = rect.left()
            else:
                left = rect.center().x() - width / 2
            if text.startswith(DOT) and colour is not None:
                # The dot as a point is drawn (a black rim, the class's fill), the name after it.
                dot = fm.horizontalAdvance(DOT)
                p.setPen(pg.mkPen("k", width=0.8))
                p.setBrush(pg.mkBrush(*colour))
                p.drawEllipse(QPointF(left + dot / 2, rect.center().y()), radius, radius)
                left, width, text = left + dot, width - dot, text[len(DOT):]
            p.setPen(self.textPen())
            p.drawText(QRectF(left, rect.top(), width + 1, rect.height()),
                       int(Qt.AlignLeft | Qt.AlignVCenter), text)

    def _colour_at(self, point):
        """The colour of the class whose tick is drawn at `point` (axis coordinates),
        by inverting the axis's value → position map as pyqtgraph draws it."""
        lo, hi = self.range
        bounds = self.mapRectFromParent(self.geometry())
        if hi == lo or not self.colours:
            return None
        if self.orientation in ("left", "right"):
            value = lo + (bounds.height() - point.y()) * (hi - lo) / bounds.height()
        else:
            value = lo + point.x() * (hi - lo) / bounds.width()
        index = int(round(value))
        return self.colours[index] if 0 <= index < len(self.colours) else None


class MatrixInset(pg.PlotItem):
    """The confusion matrix as a small table beside the decision boundary, as tall as the
    map: rows 'actual', columns 'predicted', its title saying which rows it counts.  It
    writes what its height allows (fit_to): rows named after a dot in the class's colour,
    or the dots alone (the legend over the map names them), or nothing; counts in cells
    wide enough for them, else square cells that still show the diagonal (hover one for
    its count)."""

    def __init__(self):
        super().__init__(axisItems={side: ClassAxis(side) for side in ("bottom", "left")},
                         enableMenu=False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.getViewBox().setMenuEnabled(False)
        for side in ("left", "bottom"):
            # The dots mark the rows and columns: no tick marks (an export drew dashes
            # even at length 0).
            self.getAxis(side).setStyle(tickLength=0)
            self.getAxis(side).setTickPen(pg.mkPen(None))
        self.matrix = ConfusionMatrix(self)
        self._scale = 1.0
        self._rows = ""
        self.labels = None                  # "names", "dots" or "none" on the rows (fit_to)
        # The title over the table and its axis: more room for 'first 20,000 of … rows'.
        self.layout.removeItem(self.titleLabel)
        self.layout.addItem(self.titleLabel, 0, 0, 1, 3)
        self._apply_fonts()

    def set_classes(self, classes, most: int, colours):
        x_range, y_range = self.matrix.set_classes(classes, most)
        self.getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)
        for side in ("left", "bottom"):
            self.getAxis(side).colours = list(colours)
        self.labels = None

    def show_counts(self, counts: np.ndarray, rows: str):
        self.matrix.show(counts)
        if rows != self._rows:
            self._rows = rows
            self._show_title()

    def clear_classes(self):
        self.matrix.clear()
        self._rows = ""
        self.labels = None
        self._show_title()

    def _axis_metrics(self) -> QFontMetricsF:
        font = QFont()
        font.setPointSizeF(8 * self._scale)
        return QFontMetricsF(font)

    def fit_to(self, height: float) -> float:
        """Choose what to write for a table `height` px tall (the plot area beside it);
        returns the width that needs."""
        k = len(self.matrix.classes)
        if not k:
            return 0.0
        fm = self._axis_metrics()
        row = (height - self._title_height() - 2 * fm.height()) / k    # less the axis below
        labels = "names" if row >= 0.9 * fm.height() else "dots" if row >= 0.6 * fm.height() else "none"
        if labels != self.labels:
            self.labels = labels
            names = self.matrix.classes
            rows = [f"{DOT} {short(name)}" if labels == "names" else DOT if labels == "dots" else ""
                    for name in names]
            self.getAxis("left").setTicks([list(enumerate(rows))])
            self.getAxis("bottom").setTicks([[(i, "" if labels == "none" else DOT) for i in range(k)]])
        counts_fit = row >= 0.8 * self.matrix.text_height()
        cell = self.matrix.cell_size() if counts_fit else max(row, 4.0)
        if labels == "names":
            axis = max(fm.horizontalAdvance(f"{DOT} {short(c)}") for c in self.matrix.classes)
        else:
            axis = fm.horizontalAdvance(DOT) if labels == "dots" else 0.0
        return axis + 2 * fm.height() + 10 + k * cell + 4   # + the rotated label, gaps

    def set_font_scale(self, scale: float):
        self._scale = scale
        self.labels = None
        self._apply_fonts()
        self.matrix.set_font_scale(scale)

    def _apply_fonts(self):
        font = QFont()
        font.setPointSizeF(8 * self._scale)
        for side, text in (("bottom", "predicted"), ("left", "actual")):
            axis = self.getAxis(side)
            axis.setTickFont(font)
            self.setLabel(side, text, **{"font-size": f"{8 * self._scale:.0f}pt"})
        self._show_title()

    def _title_height(self) -> float:
        return self._axis_metrics().height() + 4

    def _show_title(self):
        fm = self._axis_metrics()
        room = max(self.width() - 4, 0)
        title = fm.elidedText(self._rows, Qt.ElideRight, room) if room else self._rows
        self.setTitle(title, size=f"{8 * self._scale:.0f}pt", color="#444444")
        self.titleLabel.setToolTip(f"confusion matrix of the {self._rows}" if self._rows else "")
        self.layout.setRowFixedHeight(0, self._title_height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._show_title()
