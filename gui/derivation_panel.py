"""The derivation panel: the chain rule of one parameter or neuron, as core/explain.py
wrote it (Qt rich text), at a size a lecture hall can read.

The panel holds no mathematics: it shows `Explanation.to_html()` and only decides the
layout — how many factors fit on one row, and how large the text can be while the chain,
its values, its product and the engine's verdict (`Explanation.head_html()`) stay in view:
a lecturer must not scroll in front of a class.  The text shrinks, from the size asked
for down to MIN_FIT of it, only as far as that needs.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QTextDocument, QTextOption
from PySide6.QtWidgets import QFrame, QTextBrowser

BASE_POINT_SIZE = 11.0
SAMPLE_TABLE_SHARE = 0.75       # of the panel's text size, for the table of samples
MIN_FIT = 0.7                   # the text shrinks to fit the height down to this share, no further
FIT_STEP = 0.9                  # ... in steps of this factor
PLACEHOLDER = ("<p><i>Click an edge, a bias or a neuron to see its chain rule "
               "with the current numbers.</i></p>")


class DerivationPanel(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.setOpenLinks(False)
        self.setFocusPolicy(Qt.NoFocus)      # the transport keys stay with the window
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        # Always there, so the width the layout is fitted to does not change when a long
        # explanation brings the bar in (which would fit the layout again, and again).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        # Break lines between words only: a narrow table column otherwise split its
        # numbers ("0.112" over "7"); a table too wide for the panel scrolls instead.
        self.setWordWrapMode(QTextOption.WordWrap)
        self._explanation = None
        self._scale = 1.0               # asked for
        self._fitted = 1.0              # shown: smaller where the chain would not fit
        self._per_row = None
        # A timer owned by the panel dies with it (a bare singleShot could outlive it).
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.timeout.connect(self._relayout)
        self._apply_font()
        self.setHtml(PLACEHOLDER)

    # -- what the window calls ----------------------------------------------------------
    def show_explanation(self, explanation):
        """Show an `core.explain.Explanation` (None clears the panel)."""
        self._explanation = explanation
        self._per_row = None
        self._render()

    def explanation(self):
        return self._explanation

    def set_font_scale(self, scale: float):
        """1.0 on a desk; 2.0 or more in presentation mode."""
        self._scale = max(0.5, float(scale))
        self._apply_font()
        self._per_row = None
        self._render()

    def font_scale(self) -> float:
        """The scale asked for (shown_scale() is the one the current chain fits at)."""
        return self._scale

    def shown_scale(self) -> float:
        return self._fitted

    # -- layout --------------------------------------------------------------------------
    def _font(self, scale: float) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(BASE_POINT_SIZE * scale)
        return font

    def _apply_font(self, scale: float | None = None):
        self._fitted = self._scale if scale is None else scale
        font = self._font(self._fitted)
        self.setFont(font)
        self.document().setDefaultFont(font)
        # The per-sample table (the bordered one) is the chain's evidence, not the chain:
        # a size smaller, so its columns, the product last, fit beside the graph.
        self.document().setDefaultStyleSheet(
            f'table[border="1"] td, table[border="1"] th {{ font-size: {SAMPLE_TABLE_SHARE * font.pointSizeF():.1f}pt; }}')

    def _render(self):
        e = self._explanation
        if e is None:
            self._apply_font()
            self.setHtml(PLACEHOLDER)
            return
        if self._per_row is None:
            scale, self._per_row = self._fit(e)
            if scale != self._fitted:
                self._apply_font(scale)
        self.setHtml(e.to_html(factors_per_row=self._per_row))

    def _fit(self, e) -> tuple[float, int]:
        """(text scale, factors per row): the largest scale, from the one asked for down to
        MIN_FIT of it, at which the head of the explanation fits the panel's height."""
        width = self.viewport().width()
        height = self.viewport().height()
        scale = self._scale
        while True:
            font = self._font(scale)
            per_row = self._factors_per_row(e, font, width)
            if self._head_height(e, font, width, per_row) <= height or \
                    scale * FIT_STEP < MIN_FIT * self._scale:
                return scale, per_row
            scale *= FIT_STEP

    def _probe(self, font) -> QTextDocument:
        probe = QTextDocument()
        probe.setDefaultFont(font)
        probe.setDocumentMargin(self.document().documentMargin())
        probe.setDefaultTextOption(self.document().defaultTextOption())
        return probe

    def _factors_per_row(self, e, font, width) -> int:
        """The most factors per row whose chain fits the width unwrapped: a chain should not
        be squeezed or scroll sideways in front of a class."""
        available = width - 2 * self.document().documentMargin()
        probe = self._probe(font)
        probe.setTextWidth(1e6)          # natural widths: nothing wraps
        for per_row in range(len(e.factors), 1, -1):
            probe.setHtml(e.chain_html(factors_per_row=per_row))
            layout = probe.documentLayout()
            widest = max((layout.frameBoundingRect(f).width()
                          for f in probe.rootFrame().childFrames()), default=0.0)
            if widest <= available:
                return per_row
        return 1

    def _head_height(self, e, font, width, per_row) -> float:
        probe = self._probe(font)
        probe.setTextWidth(width)
        probe.setHtml(e.head_html(factors_per_row=per_row))
        return probe.size().height()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._explanation is not None and event.oldSize() != event.size():
            # Later, not now: this may be the scroll bar appearing in the middle of setHtml.
            self._relayout_timer.start(0)

    def _relayout(self):
        if self._explanation is None:
            return
        scale, per_row = self._fit(self._explanation)
        if (scale, per_row) != (self._fitted, self._per_row):
            self._per_row = None
            self._render()
