"""The lecture's "check your derivatives!" as a view: a table of every parameter with its
analytic gradient, its central-difference estimate and their relative error, the worst row
highlighted, pass or fail in words and colour.

The view computes nothing: "Run check" and the "break σ′" switch are signals; the window
runs core.gradcheck.gradient_check and hands the result to `show_result`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.formula import number_text

FAILED_ROW = QColor("#fde0dc")
WORST_FAILED = QColor("#f28b82")
WORST_PASSED = QColor("#fff3b0")    # the worst of a passing check: still worth a look
PASS_COLOUR, FAIL_COLOUR = "#1a7f37", "#c62828"
# Two lines each: on one line the headers were wider than their columns and were cut.
HEADERS = ("w", "analytic\n∂E/∂w", "central\ndifference", "relative\nerror")


class GradCheckView(QWidget):
    run_requested = Signal()
    broken_toggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._result = None
        self.run_button = QPushButton("Run check")
        self.run_button.setToolTip("Compare every analytic gradient with (E(w + h) − E(w − h)) / 2h")
        self.run_button.clicked.connect(self.run_requested)
        # Short, and on a row of its own: beside the button, at presentation size, it made
        # the lecture panel 660 px wide at the least, and the dock took that from the graph.
        self.broken_box = QCheckBox("break σ′: drop its (1 − β)")
        self.broken_box.setToolTip("For teaching: the derivative of σ loses its (1 − β) factor, "
                                   "in training too; the check must then fail")
        self.broken_box.toggled.connect(self.broken_toggled)
        self.summary = QLabel("Press “Run check” to compare the analytic gradients with "
                              "finite differences.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.setFocusPolicy(Qt.NoFocus)   # arrow keys stay the transport's
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)   # w17: the numbers get the room

        controls = QHBoxLayout()
        controls.addWidget(self.run_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.broken_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    # -- what the window calls ----------------------------------------------------------
    def show_result(self, result):
        """Fill the table from a core.gradcheck.GradCheckResult."""
        self._result = result
        worst = result.worst
        self.table.setRowCount(len(result.names))
        for row, (name, analytic, numeric, rel) in enumerate(result.rows()):
            failed = rel >= result.threshold
            cells = (name, number_text(analytic, 8), number_text(numeric, 8), f"{rel:.1e}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignVCenter | (Qt.AlignLeft if col == 0 else Qt.AlignRight))
                if row == worst:
                    item.setBackground(QBrush(WORST_PASSED if result.passed else WORST_FAILED))
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                elif failed:
                    item.setBackground(QBrush(FAILED_ROW))
                self.table.setItem(row, col, item)
        self.table.scrollToItem(self.table.item(worst, 0), QAbstractItemView.PositionAtCenter)
        colour = PASS_COLOUR if result.passed else FAIL_COLOUR
        broken = " — σ′ is broken on purpose" if result.broken_derivative else ""
        self.summary.setText(f'<span style="color:{colour}"><b>{result.summary()}</b></span>{broken}')

    def result(self):
        return self._result

    def worst_row(self) -> int | None:
        return None if self._result is None else self._result.worst

    def set_broken(self, broken: bool):
        """Show the switch's state without emitting broken_toggled (the window's own echo)."""
        self.broken_box.blockSignals(True)
        self.broken_box.setChecked(bool(broken))
        self.broken_box.blockSignals(False)

    def set_font_scale(self, scale: float):
        font = QFont(self.font())
        font.setPointSizeF(QFont().pointSizeF() * max(0.5, float(scale)))
        self.setFont(font)
        self.table.resizeRowsToContents()
