"""The network view's colour scales.

Every scale is fixed once chosen, so one colour means the same number in every frame and
in every layer: a weight scale that rescaled itself each frame would hide a weight's
growth, and a gradient scale normalised per layer would hide a vanishing first layer.

Edge scales put values into a small number of bins (the view draws one path per bin) and
give each bin a colour and a `strength` in [0, 1] (drawn as width, and as a glow at the
top).  Colours are orange (negative) ↔ grey ↔ blue (positive), safe for the common forms
of colour blindness and the TensorFlow Playground's convention.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QColor

ORANGE = (232, 113, 10)
BLUE = (24, 104, 178)
ZERO_GREY = (200, 200, 200)     # a weight of exactly zero: light, so it recedes
FAINT_GREY = (222, 222, 222)    # a gradient below the scale's floor
INPUT_BLUE = QColor(187, 216, 242)   # the lecture's figure draws the inputs blue
BIAS_GREY = QColor(190, 190, 190)    # ... and the biases grey
DEAD_MARK = QColor(40, 40, 40)
SATURATED_MARK = QColor(214, 39, 40)

# β fill: white → purple, a hue the edges do not use.
BETA_STOPS = ((0.0, (250, 249, 253)), (0.5, (158, 154, 200)), (1.0, (63, 0, 125)))

GLOW_STRENGTH = 0.9     # bins at or above this strength get a halo ("exploding glows")


def _lerp_rgb(a, b, t: float) -> tuple:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _ramp(stops, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(stops[:-1], stops[1:]):
        if t <= t1:
            return QColor(*_lerp_rgb(c0, c1, (t - t0) / (t1 - t0)))
    return QColor(*stops[-1][1])


def nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 3, 5 × 10^k that is ≥ x (a scale end a person can read)."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for step in (1, 2, 3, 5, 10):
        if step * power >= x * (1 - 1e-12):
            return step * power
    return 10 * power


def compact_number(value: float) -> str:
    """A legend's number, short enough to sit under a tick: 0.5, 20, 1500, 2·10⁴, 10²⁹³
    (never "2e+293", which runs into its neighbours)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    sign = "−" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        return sign + f"{magnitude:.4g}"
    exponent = math.floor(math.log10(magnitude))
    mantissa = f"{magnitude / 10.0 ** exponent:.2g}"
    if mantissa == "10":            # 9.96e4 rounds up to the next power
        mantissa, exponent = "1", exponent + 1
    power = superscript_power(exponent)
    return sign + (power if mantissa == "1" else f"{mantissa}·{power}")


def format_tick(value: float) -> str:
    """A signed scale's tick: +1.5, −3, 0."""
    return "0" if value == 0 else ("+" if value > 0 else "") + compact_number(value)


def superscript_power(exponent: int) -> str:
    digits = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return "1" if exponent == 0 else f"10{digits}"


class DivergingScale:
    """Signed values on [−limit, +limit], zero in the middle bin, saturating beyond."""
    signed_hues = False

    def __init__(self, limit: float, n_bins: int = 33):
        self.limit = float(limit)
        self.n_bins = n_bins | 1          # odd: zero gets a bin of its own
        self.centre = self.n_bins // 2
        self._colours = [self._colour_at(b) for b in range(self.n_bins)]

    def bin_of(self, values: np.ndarray) -> np.ndarray:
        t = np.clip(np.nan_to_num(np.asarray(values, float) / self.limit), -1.0, 1.0)
        return np.rint((t + 1.0) * self.centre).astype(np.intp)

    def strength(self, b: int) -> float:
        return abs(b - self.centre) / self.centre

    def colour(self, b: int) -> QColor:
        return QColor(self._colours[b])

    def _colour_at(self, b: int) -> QColor:
        t = (b - self.centre) / self.centre
        return QColor(*_lerp_rgb(ZERO_GREY, BLUE if t > 0 else ORANGE, abs(t)))

    def bar_bins(self) -> list[int]:
        """The bins along the legend bar, left (−limit) to right."""
        return list(range(self.n_bins))

    def ticks(self) -> list[tuple[float, str]]:
        """(fraction along the bar, label) for the legend."""
        lim = self.limit
        return [(0.0, format_tick(-lim)), (0.25, format_tick(-lim / 2)), (0.5, "0"),
                (0.75, format_tick(lim / 2)), (1.0, format_tick(lim))]


class LogMagnitudeScale:
    """|value| on one log10 scale from 10^lo to 10^hi, the same for every layer; the sign
    picks the hue (orange −, blue +).  Below 10^lo an edge is faint grey and thin."""
    signed_hues = True

    def __init__(self, lo: int, hi: int, levels: int = 16):
        self.lo, self.hi, self.levels = lo, hi, levels
        self.n_bins = 2 * levels          # [negative levels..., positive levels...]
        self._colours = [self._colour_at(b) for b in range(self.n_bins)]

    def level_of(self, values: np.ndarray) -> np.ndarray:
        mag = np.abs(np.nan_to_num(np.asarray(values, float)))
        with np.errstate(divide="ignore"):
            s = (np.log10(mag) - self.lo) / (self.hi - self.lo)
        return np.rint(np.clip(np.nan_to_num(s, neginf=0.0), 0.0, 1.0) * (self.levels - 1)).astype(np.intp)

    def bin_of(self, values: np.ndarray) -> np.ndarray:
        positive = np.asarray(values) >= 0
        return self.level_of(values) + np.where(positive, self.levels, 0)

    def strength(self, b: int) -> float:
        return (b % self.levels) / (self.levels - 1)

    def colour(self, b: int) -> QColor:
        return QColor(self._colours[b])

    def _colour_at(self, b: int) -> QColor:
        hue = BLUE if b >= self.levels else ORANGE
        # Lightness carries the magnitude: the first decades stay close to the page colour.
        return QColor(*_lerp_rgb(FAINT_GREY, hue, self.strength(b) ** 1.3))

    def bar_bins(self, positive: bool = True) -> list[int]:
        """The bins along one row of the legend bar, 10^lo (left) to 10^hi."""
        return [level + (self.levels if positive else 0) for level in range(self.levels)]

    def ticks(self) -> list[tuple[float, str]]:
        span = self.hi - self.lo
        step = 2 if span > 6 else 1
        return [((e - self.lo) / span, superscript_power(e)) for e in range(self.lo, self.hi + 1, step)]


class BetaScale:
    """Neuron fill: β on the activation's own range, light (low) to dark purple (high)."""
    signed_hues = False

    def __init__(self, lo: float, hi: float, label: str, n_bins: int = 32):
        self.lo, self.hi, self.label, self.n_bins = lo, hi, label, n_bins
        self._colours = [_ramp(BETA_STOPS, b / (n_bins - 1)) for b in range(n_bins)]

    def bin_of(self, values: np.ndarray) -> np.ndarray:
        t = (np.nan_to_num(np.asarray(values, float)) - self.lo) / (self.hi - self.lo)
        return np.rint(np.clip(t, 0.0, 1.0) * (self.n_bins - 1)).astype(np.intp)

    def colour(self, b: int) -> QColor:
        return QColor(self._colours[b])

    def bar_bins(self) -> list[int]:
        return list(range(self.n_bins))

    def ticks(self) -> list[tuple[float, str]]:
        mid = (self.lo + self.hi) / 2
        return [(t, compact_number(v)) for t, v in ((0.0, self.lo), (0.5, mid), (1.0, self.hi))]

    def key(self) -> tuple:
        return (self.lo, self.hi, self.label)


def beta_scale(activation: str, unbounded_max: float) -> BetaScale:
    """The fill scale for one activation: its range where it has one, else [0 or −max, max]
    with `max` chosen once per network."""
    if activation in ("sigmoid", "softmax"):
        return BetaScale(0.0, 1.0, f"β {activation}")
    if activation == "tanh":
        return BetaScale(-1.0, 1.0, "β tanh")
    if activation in ("relu", "leaky_relu"):
        return BetaScale(0.0, unbounded_max, f"β {activation}")
    return BetaScale(-unbounded_max, unbounded_max, f"β {activation}")


def text_colour_on(fill: QColor) -> QColor:
    """Black or white, whichever reads better on `fill`."""
    luma = 0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue()
    return QColor(20, 20, 20) if luma > 140 else QColor(255, 255, 255)
