"""Lecture mode's side panel: the current phase (title, sentence, its numbers), and beneath
it the chain rule of the last clicked item, the layer's activation curve and the gradient
check, each in a tab.

Samples are numbered as the lecture counts them, i = 1..n (the toolbar's "β of sample"
counts training rows from 1 too); the stepper and core take positions from 0.

The table of the phase's numbers folds away when an edge or a neuron is clicked: the graph
carries the same numbers, and in presentation mode the chain rule needs the height (its
values and product must not fall below the fold).  The "values" button unfolds it.

It reads everything from a core.phases.PhaseStepper (phases, explanations, activation
profiles) and from core.gradcheck results; it computes nothing itself.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QHBoxLayout,
                               QHeaderView, QLabel, QSpinBox, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableWidget, QTableWidgetItem, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from core.formula import number_text, rich

RICH_ROLE = Qt.UserRole + 1     # a cell's label as rich text (α<sub>H1</sub>), painted as such


class RichTextDelegate(QStyledItemDelegate):
    """Paints a cell's RICH_ROLE as Qt rich text: a table item on its own can only show
    α_H1 with a literal underscore."""

    def _document(self, option, index):
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(option.font)
        doc.setHtml(index.data(RICH_ROLE))
        return doc

    def paint(self, painter, option, index):
        if index.data(RICH_ROLE) is None:
            return super().paint(painter, option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.CE_ItemViewItem, opt, painter, opt.widget)
        box = style.subElementRect(QStyle.SE_ItemViewItemText, opt, opt.widget)
        doc = self._document(opt, index)
        painter.save()
        painter.translate(box.left(), box.top() + max(0.0, (box.height() - doc.size().height()) / 2))
        painter.setClipRect(0, 0, box.width(), box.height())
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option, index):
        if index.data(RICH_ROLE) is None:
            return super().sizeHint(option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        doc = self._document(opt, index)
        return QSize(int(doc.idealWidth()) + 8, int(doc.size().height()) + 4)

from .activation_view import ActivationView
from .derivation_panel import DerivationPanel
from .gradcheck_view import GradCheckView


class LecturePanel(QWidget):
    sample_changed = Signal(object)     # a position in the batch, or None for the whole batch

    def __init__(self, parent=None):
        super().__init__(parent)
        self._scale = 1.0
        self._explained = None          # the name last clicked (w17, H1), re-explained per step
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.one_sample = QCheckBox("one sample:")
        self.one_sample.setToolTip("Show one sample's values, or the whole batch (Σ as the "
                                   "lecture sums over the 10 houses)")
        self.sample_box = QSpinBox()
        self.sample_box.setMinimum(1)           # the lecture's i counts from 1
        self.sample_box.setEnabled(False)
        self.batch_note = QLabel("")
        self.values_button = QToolButton()
        self.values_button.setText("values")
        self.values_button.setCheckable(True)
        self.values_button.setChecked(True)
        self.values_button.setArrowType(Qt.DownArrow)
        self.values_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.values_button.setToolTip("Show or fold the table of this phase's values (it folds "
                                      "by itself when a chain rule is shown)")
        self.values_button.toggled.connect(self._show_values)
        self.values = QTableWidget(0, 2)
        self.values.setItemDelegateForColumn(0, RichTextDelegate(self.values))
        self.values.verticalHeader().setVisible(False)
        self.values.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.values.setSelectionMode(QAbstractItemView.NoSelection)
        self.values.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        for w in (self.one_sample, self.sample_box, self.values, self.values_button):
            w.setFocusPolicy(Qt.NoFocus)    # PageDown/arrows stay the transport's
        self.one_sample.toggled.connect(self._sample_toggled)
        self.sample_box.valueChanged.connect(self._sample_toggled)

        self.derivation = DerivationPanel()
        self.activation = ActivationView()
        self.gradcheck = GradCheckView()
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.NoFocus)
        self.tabs.addTab(self.derivation, "Chain rule")
        self.tabs.addTab(self.activation, "Activation")
        self.tabs.addTab(self.gradcheck, "Check derivatives")

        sample_row = QHBoxLayout()
        sample_row.addWidget(self.one_sample)
        sample_row.addWidget(self.sample_box)
        sample_row.addWidget(self.batch_note, 1)
        sample_row.addWidget(self.values_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addLayout(sample_row)
        layout.addWidget(self.values)
        layout.addWidget(self.tabs, 1)
        self.set_font_scale(1.0)

    # -- what the window calls ----------------------------------------------------------
    def sample(self):
        """The chosen position in the batch (from 0; the box shows the lecture's i = it + 1),
        or None for the whole batch."""
        return self.sample_box.value() - 1 if self.one_sample.isChecked() else None

    def show_step(self, stepper):
        """Show the stepper's current phase (call after next(), back(), resync())."""
        phase = stepper.phase
        self.sample_box.blockSignals(True)
        self.sample_box.setRange(1, max(1, phase.batch_size))
        self.sample_box.blockSignals(False)
        sample = self.sample()
        self.title.setText(f"<b>{rich(phase.title)}</b>  <small>(step {phase.step + 1}, "
                           f"phase {stepper.index + 1} of {stepper.count})</small>")
        self.description.setText(rich(phase.description))
        self._fill_values(phase, sample)
        if phase.kind in ("alpha", "beta"):
            profile = stepper.activation_profile(phase.level, sample)
            self.activation.show_profile(profile, phase.title.split(" of ", 1)[-1])
        if self._explained is not None:
            self.derivation.show_explanation(stepper.explain(self._explained, sample))

    def explain(self, stepper, name: str):
        """A click on an edge, bias or neuron: show its chain rule (w17, H1, O1...), with
        the table of values folded so the chain's numbers and product are in view."""
        self._explained = name
        self.values_button.setChecked(False)
        self.derivation.show_explanation(stepper.explain(name, self.sample()))
        self.tabs.setCurrentWidget(self.derivation)

    def set_font_scale(self, scale: float):
        self._scale = max(0.5, float(scale))
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * self._scale)
        for w in (self.description, self.one_sample, self.sample_box, self.batch_note,
                  self.values_button, self.values, self.tabs):
            w.setFont(font)
        title = QFont(font)
        title.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(title)
        self.derivation.set_font_scale(self._scale * 1.2)
        self.activation.set_font_scale(self._scale)
        self.gradcheck.set_font_scale(self._scale)

    # -- internals -----------------------------------------------------------------------
    def _show_values(self, on: bool):
        self.values_button.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.values.setVisible(on)
        if on:
            self._fit_values_height()

    def _sample_toggled(self, *_):
        self.sample_box.setEnabled(self.one_sample.isChecked())
        self.sample_changed.emit(self.sample())

    def _fill_values(self, phase, sample):
        if phase.kind == "update":
            headers = ("", "before", "∂E/∂w", "after")
            rows = [(label, number_text(o, 7), number_text(g, 5), number_text(n, 7))
                    for label, o, g, n in zip(phase.labels, phase.old, phase.gradient, phase.batch)]
            self.batch_note.setText("all weights at once")
        else:
            column = sample_heading(phase, sample) if sample is not None else phase.batch_label
            headers = ("", column)
            rows = [(label, number_text(v, 5)) for label, v in zip(phase.labels, phase.values(sample))]
            self.batch_note.setText(f"batch of {phase.batch_size}")
        self.values.setColumnCount(len(headers))
        self.values.setHorizontalHeaderLabels(headers)
        self.values.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setData(RICH_ROLE, rich(text))
                item.setTextAlignment(Qt.AlignVCenter | (Qt.AlignLeft if c == 0 else Qt.AlignRight))
                self.values.setItem(r, c, item)
        self._fit_values_height()

    def _fit_values_height(self):
        """As tall as its rows, up to a third of the panel: the rest is the chain rule's."""
        t = self.values
        t.resizeRowsToContents()
        rows = sum(t.rowHeight(r) for r in range(t.rowCount()))
        wanted = t.horizontalHeader().height() + rows + 2 * t.frameWidth() + 2
        t.setFixedHeight(min(wanted, max(120, self.height() // 3)))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_values_height()


def sample_heading(phase, sample: int) -> str:
    """'sample i = 4', and the training row (as the toolbar's β-of-sample box counts it)
    where a mini-batch's i is not the row's number."""
    i, row = sample + 1, int(phase.rows[sample]) + 1
    return f"sample i = {i}" + ("" if row == i else f" (row {row})")
