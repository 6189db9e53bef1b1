"""A plot legend that sits between the title and the plot, never on the curves.

pyqtgraph anchors its legend inside the plot, where it hides whatever curve runs under it
(a dead fraction near 1.0, the 1e-3 guide's label) and, in a narrow plot, is cut off at
the left.  LegendRow is the same LegendItem (its .items, addItem, removeItem) placed in
the PlotItem's own grid, in the row of the (unused) top axis, with as many entries per
line as the plot's width holds.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsWidget, QSizePolicy

ENTRY_PADDING = 14          # px between one entry's label and the next entry's sample
SAMPLE_GAP = 5              # px between an entry's line sample and its label


class LegendRow(pg.LegendItem):
    def __init__(self, label_size: str = "8pt"):
        super().__init__(offset=None, frame=False, labelTextSize=label_size, verSpacing=-4)
        # Laid out, not floating: it scales with the plot (exports) like the axes do.
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Ignored)     # the plot's width, not the entries'
        policy.setVerticalPolicy(QSizePolicy.Fixed)
        self.setSizePolicy(policy)
        self.setMinimumWidth(0)     # or the entries' width would widen the plot past its view
        self._spacer = QGraphicsWidget(self)
        self._spacer.setMaximumHeight(0)

    @classmethod
    def install(cls, plot_item, label_size: str = "8pt") -> "LegendRow":
        legend = cls(label_size)
        top = plot_item.getAxis("top")
        plot_item.layout.removeItem(top)    # hidden and unused: its row is the legend's
        plot_item.layout.addItem(legend, 1, 1)
        plot_item.legend = legend
        return legend

    def entry_widths(self) -> list[float]:
        return [sample.preferredWidth() + SAMPLE_GAP + label.preferredWidth() + ENTRY_PADDING
                for sample, label in self.items]

    def columns_for(self, width: float) -> int:
        """The most entries per line whose columns fit in `width` pixels."""
        widths = self.entry_widths()
        for columns in range(max(len(widths), 1), 1, -1):
            if sum(max(widths[c::columns]) for c in range(columns)) <= width:
                return columns
        return 1

    def reflow(self, force: bool = False):
        """Lay the entries out again for the current width (force: also when the number
        per line stays, e.g. after an entry was removed or the text size changed)."""
        columns = self.columns_for(self.geometry().width())
        if force or columns != self.columnCount:
            grid = self.layout
            for i in range(grid.count() - 1, -1, -1):
                grid.removeAt(i)
            for column in range(max(grid.columnCount(), 2 * columns + 1)):
                grid.setColumnStretchFactor(column, 0)
                grid.setColumnSpacing(column, ENTRY_PADDING if column % 2 else SAMPLE_GAP)
            self.columnCount = columns
            for k, (sample, label) in enumerate(self.items):
                row, column = divmod(k, columns)
                grid.addItem(sample, row, 2 * column, alignment=Qt.AlignVCenter)
                grid.addItem(label, row, 2 * column + 1)
            # The space left over goes to an empty last column: entries stay side by side
            # from the left instead of spreading over the whole width.
            grid.addItem(self._spacer, 0, 2 * columns)
            grid.setColumnStretchFactor(2 * columns, 1)
            self.updateSize()

    # -- LegendItem overrides ----------------------------------------------------------
    def updateSize(self):
        # LegendItem sizes itself to its entries; here the PlotItem's grid sizes it.
        self.layout.invalidate()
        self.updateGeometry()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.reflow()

    def addItem(self, item, name):
        super().addItem(item, name)
        self.reflow(force=True)

    def removeItem(self, item):
        super().removeItem(item)
        self.reflow(force=True)
