"""The scenario panel beside the network: the scenario's title and narrative for the
lecturer, its remedy (described, and a toggle that applies it), and its metric's verdict
and sentence (core.metrics) as the run goes.

It shows what it is handed (a core Scenario, a core PathologyMetric) and decides nothing:
the toggle and the range-test button only emit; gui/scenario_lab.py acts on them.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextBrowser,
                               QVBoxLayout, QWidget)

# The metric's verdicts: red as the diverged banner, green when healthy, grey undecided.
VERDICT_LOOKS = {
    "failure": ("#c62828", "failure shows"),
    "healthy": ("#2e7d32", "healthy"),
    "unclear": ("#757575", "not decided yet"),
}
BADGE_PADDING = 6
BADGE_STYLE = ("QLabel {{ background: {colour}; color: white; font-weight: bold; "
               f"padding: 1px {BADGE_PADDING}px; border-radius: 3px; }}}}")


def narrative_html(scenario) -> str:
    """Title, narrative, and the remedy: what it changes, and whether it is applied."""
    text = f"<h3>{escape(scenario.title)}</h3><p>{escape(scenario.narrative)}</p>"
    if scenario.remedy_description:
        state = ("applied: this run trains with it" if scenario.remedy_applied else
                 "not applied — the Remedy button below reruns with it")
        text += (f"<p><b>Remedy</b> <i>({state})</i><b>:</b> "
                 f"{escape(scenario.remedy_description)}</p>")
    return text


class ScenarioPanel(QWidget):
    remedy_toggled = Signal(bool)
    range_test_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._badge_colour = None           # set with the first verdict
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setFocusPolicy(Qt.NoFocus)        # PageDown/arrows stay the transport's
        self.remedy_button = QPushButton("Remedy")
        self.remedy_button.setCheckable(True)
        self.remedy_button.setEnabled(False)
        self.remedy_button.toggled.connect(self.remedy_toggled)
        self.range_button = QPushButton("η range test…")
        self.range_button.setToolTip("Learning-rate range test from the current weights "
                                     "(they are put back afterwards)")
        self.range_button.clicked.connect(self.range_test_requested)
        for button in (self.remedy_button, self.range_button):
            button.setFocusPolicy(Qt.NoFocus)
        self.badge = QLabel()
        self.badge.setAlignment(Qt.AlignCenter)
        self.badge.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.sentence = QLabel()            # what is measured, at which epoch, and the sentence
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.RichText)
        self.sentence.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.sentence.installEventFilter(self)

        buttons = QHBoxLayout()
        buttons.addWidget(self.remedy_button)
        buttons.addWidget(self.range_button)
        buttons.addStretch(1)
        self.metric_box = QFrame()
        self.metric_box.setFrameShape(QFrame.StyledPanel)
        # The verdict keeps its room; the narrative above scrolls when space is short.
        self.metric_box.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        metric = QHBoxLayout(self.metric_box)
        metric.setContentsMargins(6, 4, 6, 4)
        metric.addWidget(self.badge, 0, Qt.AlignTop)
        metric.addWidget(self.sentence, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.metric_box)
        self.setMinimumWidth(200)
        self.metric_box.setVisible(False)

    def has_metric(self) -> bool:
        return not self.metric_box.isHidden()

    def show_scenario(self, scenario, has_metric: bool):
        """A newly loaded scenario: its text, its remedy's state, an empty metric."""
        self.text.setHtml(narrative_html(scenario))
        self.show_remedy_state(scenario)
        self.metric_box.setVisible(has_metric)
        self.show_metric(None)

    def show_remedy_state(self, scenario):
        """The toggle shows whether this run has the remedy (without emitting)."""
        button = self.remedy_button
        button.blockSignals(True)
        button.setChecked(scenario.remedy_applied)
        button.blockSignals(False)
        button.setEnabled(scenario.has_remedy)
        button.setText("Remedy: on" if scenario.remedy_applied else "Remedy: off")
        if not scenario.has_remedy:
            button.setToolTip("This scenario has no remedy")
        else:
            button.setToolTip("Rerun from the same initial weights "
                              + ("without the remedy" if scenario.remedy_applied else "with the remedy"))

    def show_metric(self, metric, epoch: int | None = None):
        """A core.metrics.PathologyMetric of the run at `epoch`; None: nothing measured yet."""
        if metric is None:
            colour, word = VERDICT_LOOKS["unclear"]
            self._show_badge("metric", colour)
            self.sentence.setText("Train, and the scenario's metric is measured here.")
            self._fit_sentence()
            return
        colour, word = VERDICT_LOOKS[metric.verdict]
        self._show_badge(word, colour)
        self.badge.setToolTip(f"The scenario's metric: {metric.quantity}")
        when = "" if epoch is None else f"<span style='color:#555555'>Epoch {epoch}:</span> "
        self.sentence.setText(when + escape(metric.sentence[:1].upper() + metric.sentence[1:]))
        self._fit_sentence()

    def _show_badge(self, word: str, colour: str):
        self._badge_colour = colour
        self.badge.setText(word)
        self.badge.setStyleSheet(BADGE_STYLE.format(colour=colour))
        # A style sheet's padding is not always in the size hint yet: room for it explicitly.
        bold = self.badge.font()
        bold.setBold(True)
        self.badge.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(word) + 2 * BADGE_PADDING + 4)

    def _fit_sentence(self):
        """A wrapped label's minimum height is one line: ask for all of its lines, so the
        narrative above (which scrolls) gives way instead of the verdict."""
        height = self.sentence.heightForWidth(self.sentence.width())
        if height > 0:
            self.sentence.setMinimumHeight(height)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange and self._badge_colour:   # zoom, presentation mode
            self._show_badge(self.badge.text(), self._badge_colour)
            self._fit_sentence()

    def eventFilter(self, watched, event):
        if watched is self.sentence and event.type() == QEvent.Resize:
            self._fit_sentence()            # e.g. a wider badge took some of its width
        return super().eventFilter(watched, event)

    def verdict_text(self) -> str:
        """What the metric box says, as plain text (tests, screen readers)."""
        doc = QTextDocument()
        doc.setHtml(self.sentence.text())
        return f"{self.badge.text()} · {doc.toPlainText()}"
