"""Lecture mode's side panel: the current phase (title, sentence, its numbers), and beneath
it the chain rule of the last clicked item, the layer's activation curve and the gradient
check, each in a tab.

It reads everything from a core.phases.PhaseStepper (phases, explanations, activation
profiles) and from core.gradcheck results; it computes nothing itself.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from core.formula import number_text, rich

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
        self.sample_box.setEnabled(False)
        self.batch_note = QLabel("")
        self.values = QTableWidget(0, 2)
        self.values.verticalHeader().setVisible(False)
        self.values.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.values.setSelectionMode(QAbstractItemView.NoSelection)
        self.values.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        for w in (self.one_sample, self.sample_box, self.values):
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addLayout(sample_row)
        layout.addWidget(self.values)
        layout.addWidget(self.tabs, 1)
        self.set_font_scale(1.0)

    # -- what the window calls ----------------------------------------------------------
    def sample(self):
        """The chosen position in the batch, or None for the whole batch."""
        return self.sample_box.value() if self.one_sample.isChecked() else None

    def show_step(self, stepper):
        """Show the stepper's current phase (call after next(), back(), resync())."""
        phase = stepper.phase
        self.sample_box.blockSignals(True)
        self.sample_box.setRange(0, max(0, phase.batch_size - 1))
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
        """A click on an edge, bias or neuron: show its chain rule (w17, H1, O1...)."""
        self._explained = name
        self.derivation.show_explanation(stepper.explain(name, self.sample()))
        self.tabs.setCurrentWidget(self.derivation)

    def set_font_scale(self, scale: float):
        self._scale = max(0.5, float(scale))
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * self._scale)
        for w in (self.description, self.one_sample, self.sample_box, self.batch_note,
                  self.values, self.tabs):
            w.setFont(font)
        title = QFont(font)
        title.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(title)
        self.derivation.set_font_scale(self._scale * 1.2)
        self.activation.set_font_scale(self._scale)
        self.gradcheck.set_font_scale(self._scale)

    # -- internals -----------------------------------------------------------------------
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
            column = (f"sample {sample} (row {int(phase.rows[sample])})" if sample is not None
                      else phase.batch_label)
            headers = ("", column)
            rows = [(label, number_text(v, 5)) for label, v in zip(phase.labels, phase.values(sample))]
            self.batch_note.setText(f"batch of {phase.batch_size}")
        self.values.setColumnCount(len(headers))
        self.values.setHorizontalHeaderLabels(headers)
        self.values.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
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
