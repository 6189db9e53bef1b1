"""Values written onto the network graph: a plate beside each named neuron (α = 0.53,
δ = …) with a ring around the neuron, and a plate on each named edge (∂E/∂w17 = …,
old → new).

The network view paints whatever text it is handed (lecture mode hands it a phase's
numbers); this module only decides where the plates go.  Neighbouring neurons sit close
and a layer's edges cross, so plates are placed one by one where they overlap no neuron
and no plate placed before: a neuron's below, right, left or above it; an edge's in a
column at the left of the neuron it feeds (a layer's edges cross too much for their
values to sit on the lines), else on its line.  If a group of plates (a layer's) does
not fit, its text shrinks, down to a legible size; a group that cannot fit at all is left
out whole.  The placement is kept until the layout or the text changes: a paint only
draws it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from .graph_layout import GraphLayout

RING = QColor(0, 90, 200)               # the neurons being computed
PLATE_FILL = QColor(255, 255, 255, 240)
NEURON_BORDER = QColor(0, 90, 200)
EDGE_BORDER = QColor(110, 110, 110)
PLATE_TEXT = QColor(20, 20, 20)
MIN_PX = 11.0                           # smallest text a plate is written in (× the font scale)
SHRINK = 0.9                            # a group that does not fit tries again this much smaller
EDGE_T = np.round(np.arange(0.2, 0.801, 0.04), 2)   # where along its edge a plate may sit
GAP = 3.0                               # pixels kept free around a plate


@dataclass(frozen=True)
class Overlay:
    neuron_text: dict = field(default_factory=dict)     # (level, unit) → text
    edge_text: dict = field(default_factory=dict)       # parameter index (w_k: k − 1) → text

    def __bool__(self) -> bool:
        return bool(self.neuron_text or self.edge_text)


@dataclass(frozen=True)
class Plate:
    rect: QRectF
    text: str
    px: float
    neuron: bool


def _font(px: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(int(round(px)), 6))
    font.setBold(True)
    return font


def ring_width(layout: GraphLayout) -> float:
    return max(3.0, layout.radius / 8)


class _Placer:
    """Rectangles taken so far (neurons, plates); finds free room for the next plate."""

    def __init__(self, layout: GraphLayout):
        self.layout = layout
        m = layout.m
        self.bounds = (2.0, m["header_h"], layout.width - 2.0, layout.height - m["legend_h"] + 4)
        pad = ring_width(layout) + 1
        self.taken = np.array([(n.x - n.r - pad, n.y - n.r - pad, n.x + n.r + pad, n.y + n.r + pad)
                               for n in layout.nodes], float).reshape(-1, 4)

    def free(self, boxes: np.ndarray) -> np.ndarray:
        """For candidate boxes (k, 4) as x0 y0 x1 y1: inside the view and overlapping nothing."""
        x0, y0, x1, y1 = self.bounds
        inside = (boxes[:, 0] >= x0) & (boxes[:, 1] >= y0) & (boxes[:, 2] <= x1) & (boxes[:, 3] <= y1)
        t = self.taken
        overlap = ((boxes[:, None, 0] < t[None, :, 2] + GAP) & (boxes[:, None, 2] + GAP > t[None, :, 0]) &
                   (boxes[:, None, 1] < t[None, :, 3] + GAP) & (boxes[:, None, 3] + GAP > t[None, :, 1]))
        return inside & ~overlap.any(axis=1)

    def take(self, box):
        self.taken = np.vstack([self.taken, box])

    def place_group(self, items, px: float, neuron: bool) -> list[Plate]:
        """items: (text, candidates(w, h) -> boxes (k, 4) in order of preference).  The
        largest text, from `px` down to the smallest legible size, at which every plate
        finds room, on one line or else each broken in two; none if they do not all fit
        (a few values out of a layer's would only puzzle the class: the lecture panel
        lists them all)."""
        smallest = MIN_PX * max(1.0, self.layout.font_scale)
        px = max(px, smallest)
        while True:
            for texts in ([t for t, _ in items], [_two_lines(t) for t, _ in items]):
                plates = self._try(zip(texts, (c for _, c in items)), px, neuron)
                if plates is not None:
                    return plates
            if px <= smallest:
                return []
            px = max(smallest, px * SHRINK)

    def _try(self, items, px, neuron) -> list[Plate] | None:
        saved, plates = self.taken, []
        fm = QFontMetricsF(_font(px))
        for text, candidates in items:
            lines = text.split("\n")
            w = max(fm.horizontalAdvance(line) for line in lines) + 0.6 * fm.height()
            h = len(lines) * fm.lineSpacing() + 0.1 * fm.height()
            boxes = candidates(w, h)
            ok = np.flatnonzero(self.free(boxes))
            if ok.size == 0:
                self.taken = saved
                return None
            box = boxes[ok[0]]
            self.take(box)
            plates.append(Plate(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]), text, px, neuron))
        return plates


def _two_lines(text: str) -> str:
    """Broken at the space nearest its middle ("w18: −0.2052 → −0.2051" → "w18: −0.2052" over
    "→ −0.2051"): narrower, for a stack that is too wide on one line."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


def place_plates(layout: GraphLayout, overlay: Overlay) -> list[Plate]:
    placer = _Placer(layout)
    plates = []
    k = ring_width(layout) + 2 + GAP        # clear of a neuron's own box (see _Placer)
    last = len(layout.sizes) - 1
    neurons = [(layout.unit_nodes[(int(l), int(u))], text) for (l, u), text in overlay.neuron_text.items()
               if (int(l), int(u)) in layout.unit_nodes]
    if neurons:
        def around(node):
            def candidates(w, h):
                x, y, r = node.x, node.y, node.r + k
                below = (x - w / 2, y + r, x + w / 2, y + r + h)
                right = (x + r, y - h / 2, x + r + w, y + h / 2)
                left = (x - r - w, y - h / 2, x - r, y + h / 2)
                above = (x - w / 2, y - r - h, x + w / 2, y - r)
                # An output's name is written on its right.
                order = (below, left, above, right) if node.level == last else (below, right, left, above)
                return np.array(order)
            return candidates
        px = min(max(0.7 * layout.radius, 14.0), 34.0 * max(layout.font_scale, 1.0))
        plates += placer.place_group([(text, around(node)) for node, text in neurons], px, True)
    rows = {int(k): i for i, k in enumerate(layout.edge_index)}
    edges = [(rows[int(k)], int(k), text) for k, text in overlay.edge_text.items() if int(k) in rows]
    for layer in sorted({int(layout.edge_layer[r]) for r, _, _ in edges}):
        items = []
        targets = {}
        for row, index, text in sorted((e for e in edges if layout.edge_layer[e[0]] == layer), key=lambda e: e[1]):
            targets.setdefault(layout.edge_dst[row], []).append((row, text))
        for target, stack in targets.items():
            node = layout.unit_nodes[target[1:]]
            for place, (row, text) in enumerate(stack):
                items.append((text, _stacked(layout, node, k, place, len(stack), row)))
        px = min(max(0.5 * layout.radius, 14.0), 26.0 * max(layout.font_scale, 1.0))
        plates += placer.place_group(items, px, False)
    return plates


def _stacked(layout, node, k, place, count, row):
    """An edge's plate in a column at the left of the neuron the edge feeds, in the order
    of its inputs (bias first, as α_H1 = w1 + x1·w6 + x2·w11 is written); else on the edge
    itself, near where its w-label sits."""
    (x0, y0), (x1, y1) = layout.edge_xy0[row], layout.edge_xy1[row]
    t_label = (layout.edge_label_xy[row, 0] - x0) / (x1 - x0) if x1 != x0 else 0.5
    ts = EDGE_T[np.argsort(np.abs(EDGE_T - t_label), kind="stable")]
    cx, cy = x0 + ts * (x1 - x0), y0 + ts * (y1 - y0)

    def candidates(w, h):
        step = h + GAP + 1
        top = node.y - count * step / 2 + place * step
        right = node.x - node.r - k
        column = np.array([(right - w, top, right, top + h)])
        on_edge = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        return np.vstack([column, on_edge])
    return candidates


def paint_overlay(painter: QPainter, layout: GraphLayout, overlay: Overlay, cache: "PlateCache | None" = None):
    """Rings around the overlay's neurons, then its plates (placed afresh unless `cache`
    holds them)."""
    if not overlay:
        return
    plates = (cache or PlateCache()).plates(layout, overlay)
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    ring = QPen(RING, ring_width(layout))
    painter.setPen(ring)
    painter.setBrush(Qt.NoBrush)
    for level, unit in overlay.neuron_text:
        node = layout.unit_nodes.get((int(level), int(unit)))
        if node is not None:
            painter.drawEllipse(node.x - node.r - ring.widthF(), node.y - node.r - ring.widthF(),
                                2 * (node.r + ring.widthF()), 2 * (node.r + ring.widthF()))
    for plate in plates:
        font = _font(plate.px)
        h = plate.rect.height()
        painter.setPen(QPen(NEURON_BORDER if plate.neuron else EDGE_BORDER, max(1.0, h / 14)))
        painter.setBrush(PLATE_FILL)
        painter.drawRoundedRect(plate.rect, 0.25 * h, 0.25 * h)
        painter.setFont(font)
        painter.setPen(PLATE_TEXT)
        painter.drawText(plate.rect, Qt.AlignCenter, plate.text)
    painter.restore()


class PlateCache:
    """The newest placement, kept while the layout and the overlay stay the same."""

    def __init__(self):
        self._key = None
        self._plates = []

    def plates(self, layout: GraphLayout, overlay: Overlay) -> list[Plate]:
        if self._key is None or self._key[0] is not layout or self._key[1] is not overlay:
            self._key = (layout, overlay)
            self._plates = place_plates(layout, overlay) if overlay else []
        return self._plates
