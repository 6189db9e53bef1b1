"""An axis whose tick labels never crowd: the plots' log axes, and linear axes at large
font sizes.

pyqtgraph's own log axis labels every 2..9 of a decade once the axis spans fewer than
three decades ("0.9 0.8 0.7 0.6 ..." stacked on a plot 150 px tall), and leaves the decades
at the ends of the range unlabelled.  TickAxis labels each decade it has room for (every
2nd, 5th, 10th... when they are many) and between two decades only as many of 2, 3, 5 as
stay a label's height apart, so a loss that spans one decade reads 1, 2, 3, 5, 10.  One
axis writes its decades one way: 0.001 … 1000, or (wider) 10⁻⁵ … 1 … 10³, not both.

On a linear axis pyqtgraph spaces the ticks by the axis length alone, not by the size of
their labels: in presentation mode a short plot stacked 0, 0.2, … 1.0 into each other.
TickAxis widens the spacing (to 1, 2 or 5 × 10^k) until the labels are apart again.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

# Candidate sets of labelled multiples between two decades, richest first.
MINOR_SETS = ((2, 3, 4, 5, 6, 7, 8, 9), (2, 3, 4, 5, 6, 8), (2, 3, 5), (2, 5), (3,), ())
DECADE_STEPS = (1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500)
LABEL_PITCH = 1.5           # the least distance between two labels' centres, in label extents
TICKED_DECADE_PX = 24       # a decade shorter than this gets no unlabelled 2..9 tick marks
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


PLAIN_DECADES = range(-3, 4)  # 0.001 .. 1000 read best written out


def power_text(exponent: int, powers: bool = False) -> str:
    """10^e as it reads best: 1, 10, 100, 1000 and 0.1, 0.01, 0.001; else (or on an axis
    that also has to write 10⁴ or 10⁻⁵: powers=True) as a power of ten."""
    if not powers and exponent in PLAIN_DECADES:
        return f"{10.0 ** exponent:.{max(0, -exponent)}f}"
    return "1" if exponent == 0 else "10" + str(exponent).translate(SUPERSCRIPT)


def log_label(position: float, powers: bool = False) -> str:
    """The label of a tick at log10 position `position`: a decade, or a multiple of one
    written out (0.003, 20; log_ticks labels multiples only where they can be)."""
    exponent = math.floor(position + 1e-9)
    multiple = int(round(10.0 ** (position - exponent)))
    if multiple in (1, 10):
        return power_text(exponent + (multiple == 10), powers)
    return f"{multiple * 10.0 ** exponent:.{max(0, -exponent)}f}"


def needs_powers(lo: float, hi: float) -> bool:
    """Whether an axis over log10 positions lo..hi writes its decades as powers of ten
    (all of them, not 0.001 beside 10⁻⁴)."""
    return math.floor(lo + 1e-9) < PLAIN_DECADES[0] or math.ceil(hi - 1e-9) > PLAIN_DECADES[-1]


def minor_multiples(decade_px: float, extent: float) -> tuple:
    """The richest set of multiples whose labels stay LABEL_PITCH extents apart within a
    decade `decade_px` pixels long (the decades themselves included)."""
    for multiples in MINOR_SETS:
        marks = np.log10([1, *multiples, 10])
        if np.min(np.diff(marks)) * decade_px >= LABEL_PITCH * extent:
            return multiples
    return ()


def decade_step(decade_px: float, extent: float) -> int:
    """Label every `step`-th decade, so that labels stay LABEL_PITCH extents apart."""
    for step in DECADE_STEPS:
        if step * decade_px >= LABEL_PITCH * extent:
            return step
    return DECADE_STEPS[-1]


def nice_step(least: float) -> float:
    """The smallest 1, 2 or 5 × 10^k that is at least `least`."""
    power = 10.0 ** math.floor(math.log10(least))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= least * (1 - 1e-9))


def log_ticks(lo: float, hi: float, size: float, extent: float) -> list:
    """pyqtgraph tick levels for a log axis showing log10 positions lo..hi over `size`
    pixels, with labels `extent` pixels long along the axis: [(spacing, labelled decades),
    (None, labelled multiples), (None, unlabelled tick marks)]."""
    decade_px = size / (hi - lo)
    step = decade_step(decade_px, extent)
    decades = range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)
    labelled = [float(e) for e in decades if e % step == 0]
    marks = [float(e) for e in decades if e % step]
    multiples = minor_multiples(decade_px, extent) if step == 1 and not needs_powers(lo, hi) else ()
    minor, unlabelled = [], []
    if step == 1:
        for e in range(math.floor(lo), math.ceil(hi)):
            for m in range(2, 10):
                position = e + math.log10(m)
                if lo - 1e-9 <= position <= hi + 1e-9:
                    (minor if m in multiples else unlabelled).append(position)
        if decade_px < TICKED_DECADE_PX:
            unlabelled = []
    return [(float(step), labelled), (None, minor), (None, marks + unlabelled)]


class TickAxis(pg.AxisItem):
    """pyqtgraph's AxisItem with TickAxis's log ticks (linear axes are pyqtgraph's)."""

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self._linear_style = {k: self.style[k] for k in ("textFillLimits", "maxTextLevel")}
        self._powers = False

    def setLogMode(self, *args, **kwargs):
        super().setLogMode(*args, **kwargs)
        if self.logMode:
            # The labels are spaced here (log_ticks): pyqtgraph's density check only has
            # to keep the unlabelled third level out.
            self.style.update(textFillLimits=[(0, 0.99)], maxTextLevel=1)
        else:
            self.style.update(self._linear_style)
        self.picture = None
        self.update()

    def _label_extent(self, widest: str = "0.001") -> float:
        """A label's length along the axis: its height on a vertical axis, on a horizontal
        one the width of `widest` and a space."""
        fm = QFontMetricsF(self.style["tickFont"] or self.font())
        if self.orientation in ("left", "right"):
            return fm.height() * 0.85       # pyqtgraph trims a label's box to about this
        return fm.horizontalAdvance(widest) + fm.horizontalAdvance(" ")

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if self.logMode or self._tickSpacing is not None or not levels or not span or size <= 0:
            return levels
        if not math.isfinite(span / size):
            return levels

        def apart(step: float) -> bool:
            """Labels at multiples of `step`, written as pyqtgraph writes them at that
            spacing, stay LABEL_PITCH label extents apart."""
            widest = max(self.tickStrings([minVal, maxVal], 1.0, step), key=len)
            return step * size / span >= LABEL_PITCH * self._label_extent(widest)

        # pyqtgraph labels a whole level or none of it, however close its labels come (in
        # a narrow plot the halves ran into each other: "-1.5-1.0-0.5"): both levels must
        # keep their labels apart.
        if all(apart(spacing) for spacing, _ in levels[:2]):
            return levels
        major = levels[0][0]
        while not apart(major):
            major = nice_step(major * 1.01)     # the next 1, 2, 5 × 10^k
        mantissa = round(major / 10.0 ** math.floor(math.log10(major)))
        minors = {1: (major / 5, major / 2), 2: (major / 4, major / 2)}.get(mantissa, (major / 5,))
        minor = next((m for m in minors if apart(m)), None)
        return [(major, 0)] + ([(minor, 0)] if minor is not None else [])

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        lo, hi = sorted((float(minVal), float(maxVal)))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 0 or size <= 0:
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        self._powers = needs_powers(lo, hi)
        return log_ticks(lo, hi, size, self._label_extent())

    def logTickStrings(self, values, scale, spacing):
        return [log_label(v, self._powers) for v in values]
