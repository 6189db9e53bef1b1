"""The classifier's confusion matrix, drawn into the output panel's plot: the actual class
down the side (the first at the top), the predicted one along the bottom.  Each cell is
shaded by its share of the actual class's row, so a good classifier reads as a dark
diagonal whatever the class sizes, and carries its count while the cells are big enough
to read.  The counts come from the worker (core.csv_dataset.confusion_matrix); the
accuracy from core too.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont

from core.csv_dataset import accuracy

MAX_WRITTEN = 12            # classes up to which every cell shows its count
MAX_TICKS = 20              # class names along an axis (more: every k-th)
NAME_CHARS = 12             # a class name on an axis is cut to this many characters
EMPTY, FULL = np.array([255.0, 255.0, 255.0]), np.array([8.0, 69.0, 148.0])   # white → dark blue
DARK_CELL = 0.55            # shares above this get white text


def cell_image(counts: np.ndarray) -> np.ndarray:
    """RGBA cells, x-major as ImageItem wants them (x = predicted, y = actual)."""
    rows = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(rows, 1)
    rgb = EMPTY + (FULL - EMPTY) * share[..., None]
    rgba = np.concatenate([rgb, np.full(share.shape + (1,), 255.0)], axis=-1)
    return np.ascontiguousarray(rgba.astype(np.ubyte).transpose(1, 0, 2)), share


def short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def accuracy_title(base: str, outputs, n_train: int, n_test: int, matrix: bool) -> str:
    """Two short lines (one long one would widen the plot beyond its panel): what is shown
    — for the matrix, which rows, 'first 20,000 of 200,000' on a big file — and
    'accuracy: test 93.3 % · train 95.0 %'."""
    sets = [(what, counts, n) for what, counts, n in (("test", outputs.confusion_test, n_test),
                                                      ("train", outputs.confusion, n_train))
            if counts is not None]
    def rows(what, counts, n):
        counted = int(counts.sum())
        return f"{what} rows" if counted >= n else f"first {counted:,} of {n:,} {what} rows"
    if matrix:                          # the matrix shows the first set (test, if there is one)
        base = f"{base} ({rows(*sets[0])})"
    parts = [f"{what} {100 * accuracy(counts):.1f} %" +
             ("" if counts.sum() >= n or (matrix and i == 0) else f" (first {int(counts.sum()):,})")
             for i, (what, counts, n) in enumerate(sets)]
    return f"{base}<br>accuracy: " + " · ".join(parts)


class ConfusionMatrix:
    def __init__(self, plot_item: pg.PlotItem):
        self.item = plot_item
        self.image = pg.ImageItem()
        self.image.setVisible(False)
        plot_item.addItem(self.image)
        self.texts: list[list[pg.TextItem]] = []
        self.classes: list = []
        self._font = QFont()

    def set_classes(self, classes) -> tuple:
        """Lay out a k × k grid for these class names; returns the (x, y) view ranges."""
        self.clear()
        self.classes = [str(c) for c in classes]
        k = len(self.classes)
        self.image.setVisible(True)
        if k <= MAX_WRITTEN:
            self.texts = [[self._text(i, j) for j in range(k)] for i in range(k)]
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
        image, share = cell_image(np.asarray(counts))
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

    def clear(self):
        """Back to an ordinary plot: no cells, default ticks, y upwards."""
        self.image.clear()
        self.image.setVisible(False)
        for row in self.texts:
            for text in row:
                self.item.removeItem(text)
        self.texts, self.classes = [], []
        for side in ("bottom", "left"):
            self.item.getAxis(side).setTicks(None)
        self.item.getViewBox().invertY(False)

    def set_font_scale(self, scale: float):
        self._font.setPointSizeF(9 * scale)
        for row in self.texts:
            for text in row:
                text.setFont(self._font)
