"""Painting the network view: what one snapshot looks like in one layout.

A Frame is built once per snapshot (and per colour mode, highlight or size change), not
per paint: edges are put into the colour scale's bins and each bin becomes ONE
QPainterPath drawn with ONE cached pen, so a paint costs a few dozen drawPath calls
however many edges there are (one drawLine per edge with its own pen is what makes a
graph view crawl).  Nodes, texts and the legend are few and painted directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPainterPath, QPen,
                           QPolygonF)

from core.numbering import neuron_name

from . import colours
from .graph_layout import GraphLayout, Node

MAX_LABELLED_EDGES = 60     # w-number labels only where they can still be read
MIN_HEADER_PX = 10          # column titles smaller than this (or ¾ of their size) are shortened instead
DIM_OPACITY = 0.18          # lecture highlight: everything not emphasised
TEXT = QColor(30, 30, 30)
MUTED_TEXT = QColor(90, 90, 90)
PAGE = QColor(255, 255, 255)

MODE_TITLES = {
    "weight": "Edges: weight w (fixed scale, width ∝ |w|)",
    "gradient": "Edges: ∂E/∂w, one log scale for all layers",
    "update": "Edges: last update Δw (subtracted), log scale",
}


@dataclass
class Scales:
    """The fixed scales of one network, chosen once (network_view.choose_scales)."""
    edges: dict                 # mode → DivergingScale | LogMagnitudeScale
    betas: list                 # per level ≥ 1: BetaScale (index 0 unused: inputs)


@dataclass
class ViewState:
    sizes: tuple = ()
    activation_names: tuple = ()
    input_names: tuple = ()
    output_names: tuple = ()
    snapshot: object = None
    scales: Scales | None = None
    mode: str = "weight"
    show_labels: bool = False
    highlight_levels: frozenset | None = None
    highlight_units: frozenset = frozenset()
    hovered: tuple | None = None      # ("edge", index) or ("node", node id)
    # Lecture mode's forward pass: β not computed yet from this level on (None: all known).
    beta_unknown_from: int | None = None

    @property
    def highlighting(self) -> bool:
        return self.highlight_levels is not None or bool(self.highlight_units)

    def emphasised(self, node_id) -> bool:
        if not self.highlighting:
            return True
        kind, level, unit = node_id
        return level in (self.highlight_levels or ()) or (kind == "unit" and (level, unit) in self.highlight_units)

    def unit_label(self, level: int, unit: int) -> str:
        """The name drawn next to an input or output: the data's name if it has one."""
        names = self.input_names if level == 0 else self.output_names if level == len(self.sizes) - 1 else ()
        return names[unit] if unit < len(names) else ""


@dataclass
class EdgeGroup:
    path: QPainterPath
    pen: QPen
    glow: QPen | None


@dataclass
class NodeLook:
    node: Node
    brush: QBrush
    lines: tuple = ()           # text inside the node
    text_colour: QColor = field(default_factory=lambda: QColor(TEXT))
    dead: bool = False
    saturated: bool = False
    dimmed: bool = False


@dataclass
class Frame:
    edges: list = field(default_factory=list)          # EdgeGroup, drawn in order
    bands: list = field(default_factory=list)          # (QPolygonF, QBrush, fan QPainterPath, QPen)
    nodes: list = field(default_factory=list)          # NodeLook
    edge_rank: np.ndarray | None = None                # per edge row: its place in the drawing order
    edge_width: np.ndarray | None = None               # per edge row: its pen width


def edge_values(snapshot, mode: str) -> np.ndarray:
    return {"weight": snapshot.params, "gradient": snapshot.grads, "update": snapshot.update}[mode]


def max_edge_width(layout: GraphLayout) -> float:
    return float(np.clip(0.075 * layout.spacing, 2.5, 9.0))


@lru_cache(maxsize=64)
def edge_pens(scale, max_width: float, dimmed: bool) -> tuple:
    """(pen, glow pen or None) per bin: width grows with the bin's strength; the top of a
    log scale also gets a wide pale halo, so an exploding layer glows.  Caps are flat:
    round caps on a many-segment path made Qt's stroker some 50× slower."""
    pens = []
    for b in range(scale.n_bins):
        s = scale.strength(b)
        # On a log scale the faint end also fades towards the page, so a layer of
        # vanished gradients recedes.  Colours are blended with the page here rather than
        # drawn translucent: a translucent wide pen makes Qt stroke and fill the whole
        # many-times self-intersecting path, ~10× slower.
        fade = (0.35 + 0.65 * s if scale.signed_hues else 1.0) * (DIM_OPACITY if dimmed else 1.0)
        colour = _towards_page(scale.colour(b), fade)
        pen = QPen(colour, 0.7 + (max_width - 0.7) * s)
        pen.setCapStyle(Qt.FlatCap)
        glow = None
        if scale.signed_hues and s >= colours.GLOW_STRENGTH and not dimmed:
            glow = QPen(_towards_page(colour, 0.3), 2 * pen.widthF() + 5)
            glow.setCapStyle(Qt.FlatCap)
        pens.append((pen, glow))
    return tuple(pens)


def _towards_page(colour: QColor, amount: float) -> QColor:
    """`colour` at opacity `amount` over the page, as an opaque colour."""
    return QColor(*(round(255 + (c - 255) * amount) for c in (colour.red(), colour.green(), colour.blue())))


def _segments_path(x0, y0, x1, y1) -> QPainterPath:
    xs = np.empty(2 * x0.size)
    ys = np.empty(2 * x0.size)
    xs[0::2], xs[1::2], ys[0::2], ys[1::2] = x0, x1, y0, y1
    return pg.arrayToQPath(xs, ys, connect="pairs", finiteCheck=False)


def build_edges(layout: GraphLayout, state: ViewState, frame: Frame):
    scale = state.scales.edges[state.mode]
    bins = scale.bin_of(edge_values(state.snapshot, state.mode)[layout.edge_index])
    emphasised = np.array([state.emphasised(s) and state.emphasised(d)
                           for s, d in zip(layout.edge_src, layout.edge_dst)], bool) \
        if state.highlighting else np.ones(bins.size, bool)
    strength = np.array([scale.strength(b) for b in range(scale.n_bins)])
    # Draw dimmed before emphasised and faint before strong, so what matters is on top.
    key = emphasised * 2.0 + strength[bins]
    order = np.lexsort((bins, key))
    bins_sorted, emph_sorted = bins[order], emphasised[order]
    starts = np.flatnonzero(np.r_[True, (np.diff(bins_sorted) != 0) | (np.diff(emph_sorted) != 0)])
    width = max_edge_width(layout)
    for start, stop in zip(starts, np.r_[starts[1:], order.size]):
        rows = order[start:stop]
        b, emph = int(bins_sorted[start]), bool(emph_sorted[start])
        pen, glow = edge_pens(scale, width, not emph)[b]
        path = _segments_path(layout.edge_xy0[rows, 0], layout.edge_xy0[rows, 1],
                              layout.edge_xy1[rows, 0], layout.edge_xy1[rows, 1])
        frame.edges.append(EdgeGroup(path, pen, glow))
    frame.edge_rank = np.empty(order.size, np.intp)
    frame.edge_rank[order] = np.arange(order.size)
    pens = edge_pens(scale, width, False)
    frame.edge_width = np.array([pens[b][0].widthF() for b in range(scale.n_bins)])[bins]


def build_bands(layout: GraphLayout, state: ViewState) -> list:
    """A faint band (a light fill and a fan of dashed lines) per summarised fan of edges;
    its darkness follows the RMS strength, on the drawn edges' scale, of the edges it
    stands for, so a vanished layer's band fades like its drawn edges."""
    scale = state.scales.edges[state.mode]
    values = edge_values(state.snapshot, state.mode)
    bands = []
    for band in layout.bands:
        lo, hi = layout.offsets[band.layer], layout.offsets[band.layer + 1]
        block = np.nan_to_num(values[lo:hi])
        rms = float(np.sqrt(np.mean(block * block))) if block.size else 0.0
        s = scale.strength(int(scale.bin_of(np.array([rms]))[0]))
        dim = 1.0 if state.emphasised(("unit", band.layer, -1)) and state.emphasised(("unit", band.layer + 1, -1)) \
            else DIM_OPACITY
        fill = QBrush(QColor(100, 100, 120, int(255 * dim * (0.03 + 0.07 * s))))
        polygon = QPolygonF([QPointF(float(x), float(y)) for x, y in band.polygon])
        pen = QPen(QColor(100, 100, 120, int(255 * dim * (0.12 + 0.3 * s))), 1.0 + 0.8 * s, Qt.DashLine)
        pen.setCapStyle(Qt.FlatCap)
        fan = _segments_path(band.fan[:, 0], band.fan[:, 1], band.fan[:, 2], band.fan[:, 3])
        bands.append((polygon, fill, fan, pen))
    return bands


def _beta_text(beta: float) -> str:
    if not math.isfinite(beta):             # (a diverged run: never drawn, but never a crash)
        return "NaN" if math.isnan(beta) else ("∞" if beta > 0 else "−∞")
    if abs(beta) < 100:
        return f"{beta:.2f}"
    mantissa, exponent = f"{beta:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"        # 2e153: "2e+153" does not fit in a node


def node_text_px(layout: GraphLayout) -> float:
    return min(0.42 * layout.radius * max(layout.font_scale, 1.0), 0.6 * layout.radius)


def build_nodes(layout: GraphLayout, state: ViewState, frame: Frame):
    snap, text_px = state.snapshot, node_text_px(layout)
    two_lines, one_line = text_px >= 10, 0.55 * layout.radius >= 8
    for node in layout.nodes:
        dimmed = not state.emphasised(node.id)
        if node.kind == "bias":
            frame.nodes.append(NodeLook(node, QBrush(colours.BIAS_GREY), ("1",), TEXT, dimmed=dimmed))
            continue
        if node.kind == "ellipsis":
            lines = [f"+{len(node.hidden)} more"]
            if node.level > 0:
                dead = int(np.count_nonzero(snap.dead_units[node.level - 1][list(node.hidden)]))
                sat = int(np.count_nonzero(snap.saturated_units[node.level - 1][list(node.hidden)]))
                lines += [f"{dead} dead"] if dead else []
                lines += [f"{sat} saturated"] if sat else []
            frame.nodes.append(NodeLook(node, QBrush(QColor(245, 245, 245)), tuple(lines), TEXT, dimmed=dimmed))
            continue
        name = neuron_name(state.sizes, node.level, node.unit)
        if node.level == 0:
            look = NodeLook(node, QBrush(colours.INPUT_BLUE), (name,) if one_line else (), TEXT, dimmed=dimmed)
        elif state.beta_unknown_from is not None and node.level >= state.beta_unknown_from:
            # Not computed yet in this walk through the forward pass: no β to show (showing
            # the snapshot's would give the next phase's answer away).
            look = NodeLook(node, QBrush(QColor(255, 255, 255)), (name,) if two_lines else (),
                            TEXT, dimmed=dimmed)
        else:
            layer = node.level - 1
            beta = float(snap.sample_betas[layer][node.unit])
            scale = state.scales.betas[node.level]
            fill = scale.colour(int(scale.bin_of(np.array([beta]))[0]))
            dead = bool(snap.dead_units[layer][node.unit])
            if dead:        # β = 0 on every sample: the cross says it, the name stays legible
                lines = (name,) if two_lines else ()
            else:
                lines = (name, _beta_text(beta)) if two_lines else (_beta_text(beta),) if one_line else ()
            look = NodeLook(node, QBrush(fill), lines, colours.text_colour_on(fill), dead=dead,
                            saturated=bool(snap.saturated_units[layer][node.unit]), dimmed=dimmed)
        frame.nodes.append(look)


def build_frame(layout: GraphLayout, state: ViewState) -> Frame:
    frame = Frame()
    if state.snapshot is None or state.scales is None:
        return frame
    build_edges(layout, state, frame)
    frame.bands = build_bands(layout, state)
    build_nodes(layout, state, frame)
    return frame


# -- painting ----------------------------------------------------------------------------
def _font(px: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(int(round(px)), 6))
    font.setBold(bold)
    return font


def paint_frame(painter: QPainter, layout: GraphLayout, state: ViewState, frame: Frame,
                smooth_edges: bool = True):
    """The whole picture.  smooth_edges=False draws the edges without antialiasing (~8×
    cheaper for hundreds of edges): for frames that will be replaced within milliseconds."""
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    _paint_headers(painter, layout, state)
    painter.setPen(Qt.NoPen)
    painter.setRenderHint(QPainter.Antialiasing, False)    # a faint fill: AA would cost ~10×
    for polygon, fill, _, _ in frame.bands:
        painter.setBrush(fill)
        painter.drawPolygon(polygon)
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setBrush(Qt.NoBrush)
    for _, _, fan, pen in frame.bands:
        painter.setPen(pen)
        painter.drawPath(fan)
    painter.setRenderHint(QPainter.Antialiasing, smooth_edges)
    for group in frame.edges:       # halos first, all of them: a glow under crisp lines
        if group.glow is not None:
            painter.setPen(group.glow)
            painter.drawPath(group.path)
    for group in frame.edges:
        painter.setPen(group.pen)
        painter.drawPath(group.path)
    painter.setRenderHint(QPainter.Antialiasing, True)
    _paint_hovered_edge(painter, layout, state)
    if state.show_labels and layout.drawn_edge_count <= MAX_LABELLED_EDGES and frame.nodes:
        _paint_edge_labels(painter, layout, state)
    _paint_nodes(painter, layout, state, frame)
    _paint_unit_names(painter, layout, state)
    if state.scales is not None:
        paint_legend(painter, layout, state)


def header_titles(sizes, activation_names, detail: int) -> list[str]:
    """Column titles, from most detailed (0: "Hidden 3 (10) · sigmoid") through 1 ("H3 (10)")
    to 2 ("H3"): a deep net's columns are too close for the long ones."""
    last = len(sizes) - 1
    titles = []
    for level in range(last + 1):
        kind = "Inputs" if level == 0 else "Output" if level == last else \
            "Hidden" if last == 2 else f"Hidden {level}"
        short = "x" if level == 0 else "O" if level == last else "H" if last == 2 else f"H{level}"
        act = activation_names[level - 1] if 0 < level <= len(activation_names) else ""
        titles.append((f"{kind} ({sizes[level]})" + (f" · {act}" if act else ""),
                       f"{short} ({sizes[level]})", short)[detail])
    return titles


def header_placement(layout: GraphLayout, activation_names) -> tuple[QFont, list]:
    """(font, [(rect, title)]) for the column titles: the most detailed titles that fit at a
    readable size, each centred over its column but kept inside the view, and no two
    closer than a space.  The shortest titles shrink as far as they must."""
    m = layout.m
    lo, hi = m["margin"] * 0.5, layout.width - m["margin"] * 0.5
    for detail in range(3):
        titles = header_titles(layout.sizes, activation_names, detail)
        px = m["header_px"]
        while True:
            font = _font(px, bold=True)
            fm = QFontMetricsF(font)
            rects, right = [], -float("inf")
            for x, title in zip(layout.column_x, titles):
                w = fm.horizontalAdvance(title) + 4
                left = min(max(x - w / 2, lo), hi - w)
                rects.append((QRectF(left, 4, w, m["header_h"]), title))
            fits = all(a.right() + fm.horizontalAdvance(" ") <= b.left()
                       for (a, _), (b, _) in zip(rects[:-1], rects[1:]))
            smallest = max(MIN_HEADER_PX, 0.75 * m["header_px"]) if detail < 2 else 6
            if fits or px * 0.9 < smallest:
                break
            px *= 0.9
        if fits:
            break
    return font, rects


def _paint_headers(painter, layout, state):
    font, rects = header_placement(layout, state.activation_names)
    painter.setFont(font)
    painter.setPen(TEXT)
    for rect, title in rects:
        painter.drawText(rect, Qt.AlignCenter, title)


def _paint_hovered_edge(painter, layout, state):
    if not state.hovered or state.hovered[0] != "edge":
        return
    segment = layout.edge_segment(state.hovered[1])
    if segment is None:
        return
    (x0, y0), (x1, y1) = segment
    pen = QPen(QColor(20, 20, 20, 200), max_edge_width(layout) * 0.5 + 2.5)
    pen.setStyle(Qt.DashLine)
    painter.setPen(pen)
    painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))


def _paint_edge_labels(painter, layout, state):
    wanted = float(np.clip(0.36 * layout.radius, 11, 16)) * layout.font_scale
    # No bigger than the room between neighbouring labels of a layer, or they overlap.
    fonts = [_font(max(min(wanted, 0.78 * gap), 8)) for gap in layout.label_gap]
    for index, (x, y), src, dst, layer in zip(layout.edge_index, layout.edge_label_xy, layout.edge_src,
                                              layout.edge_dst, layout.edge_layer):
        painter.setFont(fonts[layer])
        fm = QFontMetricsF(fonts[layer])
        text = f"w{index + 1}"
        w, h = fm.horizontalAdvance(text) + 6, fm.height() + 1
        rect = QRectF(x - w / 2, y - h / 2, w, h)
        painter.setOpacity(1.0 if state.emphasised(src) and state.emphasised(dst) else DIM_OPACITY)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(MUTED_TEXT)
        painter.drawText(rect, Qt.AlignCenter, text)
    painter.setOpacity(1.0)


def _paint_nodes(painter, layout, state, frame):
    text_px = node_text_px(layout)
    outline = QPen(QColor(70, 70, 70), max(1.0, layout.radius / 18))
    for look in frame.nodes:
        node = look.node
        centre = QPointF(node.x, node.y)
        if look.dimmed:     # an opaque page-coloured disc first: dimmed, not see-through
            painter.setOpacity(1.0)
            painter.setPen(Qt.NoPen)
            painter.setBrush(PAGE)
            painter.drawEllipse(centre, node.r, node.r)
            painter.setOpacity(DIM_OPACITY + 0.1)
        painter.setBrush(look.brush)
        painter.setPen(outline)
        if node.kind == "ellipsis":
            _paint_ellipsis(painter, layout, look, text_px)
            painter.setOpacity(1.0)
            continue
        painter.drawEllipse(centre, node.r, node.r)
        if look.saturated:
            painter.setBrush(Qt.NoBrush)
            painter.setPen(QPen(colours.SATURATED_MARK, max(3.0, node.r / 6)))
            painter.drawEllipse(centre, node.r + node.r / 10 + 1, node.r + node.r / 10 + 1)
        if look.dead:       # under the text, so the name and β stay readable
            painter.setPen(QPen(colours.DEAD_MARK, max(2.5, node.r / 7), Qt.SolidLine, Qt.RoundCap))
            d = node.r * 0.72
            painter.drawLine(QPointF(node.x - d, node.y - d), QPointF(node.x + d, node.y + d))
            painter.drawLine(QPointF(node.x - d, node.y + d), QPointF(node.x + d, node.y - d))
        if look.lines:
            if node.kind == "bias":
                px = 0.9 * node.r
            elif len(look.lines) == 1 and not look.dead:    # β alone: as big as fits
                px = 0.55 * node.r
            else:
                px = text_px
            _paint_centred_lines(painter, node, look.lines, px, look.text_colour, halo=look.dead)
        if state.hovered == ("node", node.id):
            painter.setBrush(Qt.NoBrush)
            painter.setPen(QPen(QColor(20, 20, 20), 2, Qt.DashLine))
            painter.drawEllipse(centre, node.r + 4, node.r + 4)
        painter.setOpacity(1.0)


def _paint_centred_lines(painter, node, lines, px, colour, halo=False):
    font = _font(px, bold=True)
    fm = QFontMetricsF(font)
    widest = max(fm.horizontalAdvance(line) for line in lines)
    if widest > 1.8 * node.r:       # a long number shrinks to stay inside its circle
        font = _font(px * 1.8 * node.r / widest, bold=True)
        fm = QFontMetricsF(font)
    painter.setFont(font)
    h = fm.height()
    top = node.y - h * len(lines) / 2
    for i, line in enumerate(lines):
        rect = QRectF(node.x - node.r, top + i * h, 2 * node.r, h)
        if halo:            # a light plate behind text that sits on a mark
            w = fm.horizontalAdvance(line) + 4
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(255, 255, 255, 210))
            painter.drawRoundedRect(QRectF(node.x - w / 2, rect.top() + 1, w, h - 2), 3, 3)
        painter.setPen(colour)
        painter.drawText(rect, Qt.AlignCenter, line)


def _paint_ellipsis(painter, layout, look, text_px):
    node = look.node
    font = _font(max(text_px * 0.9, 9))
    fm = QFontMetricsF(font)
    w = max(2 * node.r, max(fm.horizontalAdvance(t) for t in look.lines) + 12)
    h = max(1.6 * node.r, fm.height() * len(look.lines) + 8)
    rect = QRectF(node.x - w / 2, node.y - h / 2, w, h)
    painter.setPen(QPen(QColor(120, 120, 120), 1, Qt.DashLine))
    painter.drawRoundedRect(rect, 8, 8)
    painter.setFont(font)
    painter.setPen(TEXT)
    painter.drawText(rect, Qt.AlignCenter, "\n".join(look.lines))


def _paint_unit_names(painter, layout, state):
    """The data's names beside the inputs (left) and outputs (right), no taller than the
    room between two neurons (x1 and x2 ran into each other at presentation size)."""
    font = _font(min(layout.m["label_px"], max(0.8 * layout.spacing, 7)))
    painter.setFont(font)
    painter.setPen(TEXT)
    fm = QFontMetricsF(font)
    h = fm.height()
    last = len(layout.sizes) - 1
    for (level, unit), node in layout.unit_nodes.items():
        if level not in (0, last):
            continue
        text = state.unit_label(level, unit)
        if not text:
            continue
        gap = node.r + 8 * layout.font_scale
        painter.setOpacity(1.0 if state.emphasised(node.id) else DIM_OPACITY + 0.1)
        if level == 0:
            rect = QRectF(0, node.y - h / 2, node.x - gap, h)
            align = Qt.AlignRight | Qt.AlignVCenter
        else:
            rect = QRectF(node.x + gap, node.y - h / 2, layout.width - node.x - gap, h)
            align = Qt.AlignLeft | Qt.AlignVCenter
        # A name longer than its room (graph_layout.NAME_SHARE) shrinks a little, then ends
        # in "…" (the hover has it whole).
        wide = fm.horizontalAdvance(text)
        if wide > rect.width():
            small = _font(font.pixelSize() * max(rect.width() / wide, 0.75))
            painter.setFont(small)
            text = QFontMetricsF(small).elidedText(text, Qt.ElideRight, rect.width())
        painter.drawText(rect, align, text)
        painter.setFont(font)
    painter.setOpacity(1.0)


# -- legend ------------------------------------------------------------------------------
def distinct_beta_scales(state: ViewState) -> list:
    seen, out = set(), []
    for scale in state.scales.betas[1:]:
        if scale.key() not in seen:
            seen.add(scale.key())
            out.append(scale)
    return out


def _legend_marks(state: ViewState) -> list:
    acts = set(state.activation_names)
    marks = [("input", "input"), ("bias", "bias (constant 1)")]
    if "relu" in acts:      # core.diagnostics marks dead ReLUs only: a leaky one always passes some
        marks.append(("dead", "dead (β ≤ 0 on every sample)"))
    if acts & {"sigmoid", "tanh"}:
        marks.append(("saturated", "saturated (f′(α) ≈ 0)"))
    return marks


def paint_legend(painter: QPainter, layout: GraphLayout, state: ViewState):
    """A strip along the bottom: the edge scale, the β fill scale(s), then the marks (on a
    second row in a narrow view)."""
    m, s = layout.m, layout.font_scale
    font = _font(m["legend_px"])
    fm = QFontMetricsF(font)
    top = layout.height - m["legend_h"] + 10 * s
    gap = 32 * s
    edge_scale = state.scales.edges[state.mode]
    pens = edge_pens(edge_scale, max_edge_width(layout), False)
    items = [(MODE_TITLES[state.mode], 320 * s, edge_scale)]
    items += [(f"Neuron fill: {b.label}", 170 * s, b) for b in distinct_beta_scales(state)]
    widths = [max(bar_w, fm.horizontalAdvance(title)) for title, bar_w, _ in items]
    marks = _legend_marks(state)
    mark_w = [1.5 * fm.height() + 8 * s + fm.horizontalAdvance(text) for _, text in marks]
    scales_w = sum(widths) + gap * (len(items) - 1)
    marks_w = sum(mark_w) + 18 * s * (len(marks) - 1)
    one_row = m["legend_rows"] == 1
    needed = scales_w + gap + marks_w if one_row else max(scales_w, marks_w)
    x = m["margin"]
    painter.save()
    painter.setPen(QPen(QColor(225, 225, 225), 1))
    painter.drawLine(QPointF(x, top - 8 * s), QPointF(layout.width - x, top - 8 * s))
    if needed > layout.width - 2 * x:     # still too narrow: shrink the legend rather than clip it
        k = (layout.width - 2 * x) / needed
        painter.translate(x, top)
        painter.scale(k, k)
        painter.translate(-x, -top)
    painter.setFont(font)
    bar_top = top + fm.height() + 3 * s
    bar_h = 14 * s
    for (title, bar_w, scale), width in zip(items, widths):
        painter.setPen(TEXT)
        painter.drawText(QPointF(x, top + fm.ascent()), title)
        bounds = (x, x + width)
        if scale is not edge_scale:
            _bar(painter, x, bar_top, bar_w, bar_h, [scale.colour(b) for b in scale.bar_bins()])
            _ticks(painter, fm, x, bar_top + bar_h, bar_w, scale.ticks(), bounds)
        elif scale.signed_hues:
            _signed_log_bar(painter, fm, x, bar_top, bar_w, bar_h, scale, pens, bounds)
        else:       # the legend shows exactly the pens' colours
            _bar(painter, x, bar_top, bar_w, bar_h, [pens[b][0].color() for b in scale.bar_bins()])
            _ticks(painter, fm, x, bar_top + bar_h, bar_w, scale.ticks(), bounds)
        x += width + gap
    if one_row:
        marks_y = bar_top + bar_h / 2
    else:
        x, marks_y = m["margin"], bar_top + bar_h + 4 + 2.1 * fm.height()
    for (kind, text), width in zip(marks, mark_w):
        _legend_mark(painter, fm, x, marks_y, kind, text, s)
        x += width + 18 * s
    painter.restore()


def place_tick_labels(ticks, x: float, width: float, label_width, bounds, gap: float) -> list:
    """[(tick x, label left, label)] for a bar's ticks: each label centred under its tick
    but kept inside `bounds` (its legend item, so it never runs into the next one), and a
    label that would touch one already placed left out (the ends are placed first)."""
    placed = []
    order = sorted(range(len(ticks)), key=lambda i: (0 if i in (0, len(ticks) - 1) else 1, i))
    for i in order:
        t, label = ticks[i]
        tx, w = x + t * width, label_width(label)
        left = min(max(tx - w / 2, bounds[0]), bounds[1] - w)
        if all(left + w + gap <= other or other_right + gap <= left for _, other, other_right, _ in placed):
            placed.append((tx, left, left + w, label))
    return [(tx, left, label) for tx, left, _, label in sorted(placed)]


def _ticks(painter, fm, x, y, width, ticks, bounds):
    painter.setPen(TEXT)
    for t, _ in ticks:
        tx = x + t * width
        painter.drawLine(QPointF(tx, y), QPointF(tx, y + 4))
    for _, left, label in place_tick_labels(ticks, x, width, fm.horizontalAdvance, bounds,
                                             fm.horizontalAdvance(" ")):
        painter.drawText(QPointF(left, y + 4 + fm.ascent()), label)


def _bar(painter, x, y, width, height, colours):
    """One rectangle in equal steps of `colours` (a gradient with hard stops: one fill)."""
    gradient = QLinearGradient(x, 0, x + width, 0)
    n = len(colours)
    for i, colour in enumerate(colours):
        gradient.setColorAt(i / n, colour)
        gradient.setColorAt(min((i + 1) / n - 1e-6, 1.0), colour)
    painter.setBrush(QBrush(gradient))
    painter.setPen(QPen(QColor(120, 120, 120), 1))
    painter.drawRect(QRectF(x, y, width, height))
    painter.setBrush(Qt.NoBrush)


def _signed_log_bar(painter, fm, x, y, width, height, scale, pens, bounds):
    """Two half-height bars on one |value| axis: blue for +, orange for −."""
    sign_w = fm.horizontalAdvance("−") + 6
    half = height * 0.75
    painter.setPen(TEXT)
    for row, (sign, positive) in enumerate((("+", True), ("−", False))):
        painter.setPen(TEXT)
        painter.drawText(QRectF(x, y + row * half, sign_w, half), Qt.AlignCenter, sign)
        _bar(painter, x + sign_w, y + row * half, width - sign_w, half,
             [pens[b][0].color() for b in scale.bar_bins(positive)])
    _ticks(painter, fm, x + sign_w, y + 2 * half, width - sign_w, scale.ticks(), bounds)


def _legend_mark(painter, fm, x, cy, kind, text, s):
    r = 0.75 * fm.height()
    centre = QPointF(x + r, cy)
    painter.setPen(QPen(QColor(70, 70, 70), 1))
    painter.setBrush({"input": colours.INPUT_BLUE, "bias": colours.BIAS_GREY}.get(kind, QColor(236, 233, 245)))
    painter.drawEllipse(centre, r, r)
    if kind == "dead":
        painter.setPen(QPen(colours.DEAD_MARK, 2.5 * s, Qt.SolidLine, Qt.RoundCap))
        d = r * 0.72
        painter.drawLine(QPointF(centre.x() - d, cy - d), QPointF(centre.x() + d, cy + d))
        painter.drawLine(QPointF(centre.x() - d, cy + d), QPointF(centre.x() + d, cy - d))
    elif kind == "saturated":
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(colours.SATURATED_MARK, 3.5 * s))
        painter.drawEllipse(centre, r + 1.5 * s, r + 1.5 * s)
    elif kind == "bias":
        painter.setPen(TEXT)
        painter.drawText(QRectF(centre.x() - r, cy - r, 2 * r, 2 * r), Qt.AlignCenter, "1")
    painter.setPen(TEXT)
    painter.drawText(QPointF(x + 2 * r + 8 * s, cy + fm.ascent() / 2 - 2 * s), text)
