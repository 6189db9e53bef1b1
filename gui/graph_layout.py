"""Where the network view draws things, and what lies under a point.

A GraphLayout is pure geometry, computed once per structure and size (never per frame):
one column per level (0 = inputs .. L = outputs), the grey bias node "1" at the top of
the column below the layer it feeds (as in the lecture's figure), one straight edge per
drawn parameter, and for layers too wide to read (> MAX_FULL_LAYER units) only the first
SHOWN_HEAD units and the last, an ellipsis node "+N more" between them, and a faint band
standing for every edge that touches a unit not drawn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.numbering import layer_offsets

MAX_FULL_LAYER = 16
SHOWN_HEAD = 6
LABEL_T_CHOICES = np.linspace(0.22, 0.78, 29)   # where along its edges a layer's w-labels may sit
NAME_SHARE = 0.16           # of the width, at most, for the input names (and again for the outputs')


@dataclass(frozen=True)
class Node:
    kind: str               # "unit", "bias" or "ellipsis"
    level: int
    unit: int               # unit index; the bias node feeds level + 1; an ellipsis: -1
    x: float
    y: float
    r: float
    hidden: tuple = ()      # for an ellipsis: the units it stands for

    @property
    def id(self) -> tuple:
        return (self.kind, self.level, self.unit)


@dataclass(frozen=True)
class Band:
    layer: int              # weight layer (edges from level `layer` to `layer + 1`)
    polygon: np.ndarray     # (3, 2) triangle: an ellipsis node fanning to a column span
    fan: np.ndarray         # (k, 4) x0 y0 x1 y1: one faint line per shown node it joins
    edge_count: int


def visible_units(size: int) -> list[int]:
    if size <= MAX_FULL_LAYER:
        return list(range(size))
    return list(range(SHOWN_HEAD)) + [size - 1]


def metrics(font_scale: float, width: float) -> dict:
    """Pixel sizes of the text and strips around the graph, for one font scale.  A view
    narrower than the legend's one row puts the legend's marks on a second row."""
    s = font_scale
    rows = 1 if width >= 1150 * s else 2
    return {"label_px": 15 * s, "header_px": 16 * s, "legend_px": 14 * s, "legend_rows": rows,
            "header_h": 36 * s, "legend_h": (84 if rows == 1 else 112) * s, "margin": 18 * s}


class GraphLayout:
    def __init__(self, sizes, width: float, height: float, font_scale: float = 1.0,
                 input_names=None, output_names=None):
        self.sizes = tuple(int(s) for s in sizes)
        self.width, self.height = float(width), float(height)
        self.font_scale = float(font_scale)
        self.m = metrics(self.font_scale, self.width)
        self.offsets = layer_offsets(self.sizes)
        self.total_edges = self.offsets[-1]
        self.visible = [visible_units(n) for n in self.sizes]
        self._place_nodes(input_names or [], output_names or [])
        self._place_edges()
        self._place_bands()

    # -- nodes -----------------------------------------------------------------------
    def _slots(self, level: int) -> list[tuple[str, int]]:
        slots = [("bias", level)] if level < len(self.sizes) - 1 else []
        units = self.visible[level]
        slots += [("unit", u) for u in units[:-1]]
        if len(units) < self.sizes[level]:
            slots.append(("ellipsis", -1))
        return slots + [("unit", units[-1])]

    def _place_nodes(self, input_names, output_names):
        m, levels = self.m, len(self.sizes)
        slots = [self._slots(level) for level in range(levels)]
        top = m["header_h"] + m["margin"] * 0.5
        bottom = self.height - m["legend_h"] - m["margin"] * 0.5
        area_h = max(bottom - top, 10.0)
        self.spacing = area_h / max(len(s) for s in slots)
        r = min(0.36 * self.spacing, 40.0 * max(self.font_scale, 1.0))
        # Room for the input names on the left and the output names on the right.
        char_w = 0.56 * m["label_px"]
        # ... but never more than NAME_SHARE of the width each: long names are elided.
        left_text = min(max((len(n) for n in input_names), default=0) * char_w, NAME_SHARE * self.width)
        right_text = min(max((len(n) for n in output_names), default=0) * char_w, NAME_SHARE * self.width)
        left = m["margin"] + r + (left_text + 12 * self.font_scale if left_text else 0)
        right = self.width - m["margin"] - r - (right_text + 12 * self.font_scale if right_text else 0)
        self.column_gap = (right - left) / max(levels - 1, 1)
        self.radius = r = max(min(r, 0.16 * self.column_gap), 3.0)
        self.bias_radius = max(0.6 * r, 3.0)
        self.column_x = [left + i * self.column_gap for i in range(levels)] if levels > 1 \
            else [self.width / 2]
        self.nodes: list[Node] = []
        self.unit_nodes: dict[tuple[int, int], Node] = {}
        self.bias_nodes: dict[int, Node] = {}
        self.ellipsis_nodes: dict[int, Node] = {}
        for level, column in enumerate(slots):
            x = self.column_x[level]
            y0 = top + (area_h - len(column) * self.spacing) / 2 + self.spacing / 2
            for i, (kind, unit) in enumerate(column):
                y = y0 + i * self.spacing
                if kind == "unit":
                    node = Node("unit", level, unit, x, y, r)
                    self.unit_nodes[(level, unit)] = node
                elif kind == "bias":
                    node = Node("bias", level, -1, x, y, self.bias_radius)
                    self.bias_nodes[level] = node
                else:
                    shown = set(self.visible[level])
                    hidden = tuple(u for u in range(self.sizes[level]) if u not in shown)
                    node = Node("ellipsis", level, -1, x, y, r, hidden)
                    self.ellipsis_nodes[level] = node
                self.nodes.append(node)
        self._node_xy = np.array([(n.x, n.y) for n in self.nodes], float)
        self._node_r = np.array([n.r for n in self.nodes], float)

    # -- edges -----------------------------------------------------------------------
    def _place_edges(self):
        index, layer, src, dst, xy0, xy1 = [], [], [], [], [], []
        for l in range(len(self.sizes) - 1):
            fan_out = self.sizes[l + 1]
            sources = [(0, self.bias_nodes[l])] + [(u + 1, self.unit_nodes[(l, u)]) for u in self.visible[l]]
            for row, s in sources:
                for j in self.visible[l + 1]:
                    t = self.unit_nodes[(l + 1, j)]
                    index.append(self.offsets[l] + row * fan_out + j)
                    layer.append(l)
                    src.append(s.id)
                    dst.append(t.id)
                    xy0.append((s.x, s.y))
                    xy1.append((t.x, t.y))
        self.edge_index = np.array(index, np.intp)
        self.edge_layer = np.array(layer, np.intp)
        self.edge_src = src
        self.edge_dst = dst
        self.edge_xy0 = np.array(xy0, float).reshape(-1, 2)
        self.edge_xy1 = np.array(xy1, float).reshape(-1, 2)
        self.edge_label_xy = self._label_positions()
        self._row_of_index = {int(k): i for i, k in enumerate(self.edge_index)}

    def _label_positions(self) -> np.ndarray:
        """Per layer, the fraction along the edges where their labels are farthest apart
        (all of a layer's labels then share one x, so only their y spacing matters)."""
        xy = np.empty_like(self.edge_xy0)
        self.label_gap = []         # per layer: vertical room between neighbouring labels
        for l in range(len(self.sizes) - 1):
            rows = self.edge_layer == l
            y0, y1 = self.edge_xy0[rows, 1], self.edge_xy1[rows, 1]

            def closest_pair(t):
                ys = np.sort(y0 + t * (y1 - y0))
                return np.min(np.diff(ys)) if ys.size > 1 else np.inf

            gaps = np.array([closest_pair(t) for t in LABEL_T_CHOICES])
            # Among the near-best spacings prefer the middle of the edge.
            good = gaps >= 0.9 * gaps.max()
            best = np.flatnonzero(good)[np.argmin(np.abs(LABEL_T_CHOICES[good] - 0.5))]
            t = LABEL_T_CHOICES[best]
            self.label_gap.append(float(gaps[best]))
            xy[rows] = self.edge_xy0[rows] + t * (self.edge_xy1[rows] - self.edge_xy0[rows])
        return xy

    def _place_bands(self):
        self.bands: list[Band] = []
        for l in range(len(self.sizes) - 1):
            fan_in = self.sizes[l]
            x0, x1 = self.column_x[l], self.column_x[l + 1]
            targets = [self.unit_nodes[(l + 1, j)].y for j in self.visible[l + 1]]
            sources = [self.bias_nodes[l].y] + [self.unit_nodes[(l, u)].y for u in self.visible[l]]
            if l in self.ellipsis_nodes:       # hidden sources → every shown target
                e = self.ellipsis_nodes[l]
                count = len(e.hidden) * len(targets)
                fan = np.array([(e.x, e.y, x1, y) for y in targets])
                self.bands.append(Band(l, np.array([(e.x, e.y), (x1, min(targets)), (x1, max(targets))]),
                                       fan, count))
            if l + 1 in self.ellipsis_nodes:   # every source (shown or not) → hidden targets
                e = self.ellipsis_nodes[l + 1]
                count = (fan_in + 1) * len(e.hidden)
                fan = np.array([(x0, y, e.x, e.y) for y in sources])
                self.bands.append(Band(l, np.array([(x0, min(sources)), (x0, max(sources)), (e.x, e.y)]),
                                       fan, count))

    # -- counts and queries ----------------------------------------------------------
    @property
    def drawn_edge_count(self) -> int:
        return int(self.edge_index.size)

    @property
    def hidden_edge_count(self) -> int:
        return self.total_edges - self.drawn_edge_count

    def edge_segment(self, index: int):
        """((x0, y0), (x1, y1)) of the drawn edge for parameter `index`, or None."""
        row = self._row_of_index.get(int(index))
        if row is None:
            return None
        return tuple(self.edge_xy0[row]), tuple(self.edge_xy1[row])

    def node_at(self, x: float, y: float) -> Node | None:
        if not self.nodes:
            return None
        d = np.hypot(self._node_xy[:, 0] - x, self._node_xy[:, 1] - y) - self._node_r
        i = int(np.argmin(d))
        return self.nodes[i] if d[i] <= 1.0 else None

    def edges_near(self, x: float, y: float, tolerance: float):
        """(rows into the edge arrays, distances) of the drawn edges within `tolerance`
        pixels of (x, y), nearest first; none over a node (nodes are drawn on top)."""
        if self.edge_index.size == 0 or self.node_at(x, y) is not None:
            return np.empty(0, np.intp), np.empty(0)
        p0, d = self.edge_xy0, self.edge_xy1 - self.edge_xy0
        length2 = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
        t = np.clip(((x - p0[:, 0]) * d[:, 0] + (y - p0[:, 1]) * d[:, 1]) / length2, 0.0, 1.0)
        dist = np.hypot(p0[:, 0] + t * d[:, 0] - x, p0[:, 1] + t * d[:, 1] - y)
        rows = np.flatnonzero(dist <= tolerance)
        rows = rows[np.argsort(dist[rows], kind="stable")]
        return rows, dist[rows]
