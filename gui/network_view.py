"""The network graph: neurons in columns, every edge coloured by its weight, gradient or
last update on a fixed scale, neurons filled by β of the shown sample.

The view only draws what it is handed (a core Snapshot) and holds no maths.  set_snapshot
is cheap: it keeps the newest snapshot and a single-shot timer turns it into a picture at
most MAX_FPS times a second, so a fast worker never queues paints (older snapshots are
simply dropped).  Geometry (GraphLayout) is computed once per structure and size; a
Frame (binned edge paths, node looks) once per snapshot; a paint only replays it.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QFrame, QGraphicsObject, QGraphicsScene, QGraphicsView, QToolTip

from core.numbering import layer_offsets, neuron_name, param_ref

from . import colours
from .graph_layout import GraphLayout, Node
from .graph_overlay import Overlay, PlateCache, paint_overlay
from .graph_paint import (Frame, Scales, ViewState, build_frame, edge_pens, edge_values, max_edge_width,
                          paint_frame)

MAX_FPS = 30
# While snapshots stream in (training), a net with more drawn edges than this paints its
# edges without antialiasing, which costs ~8× less; SETTLE_MS after the last snapshot it
# is painted once more, smoothly, for the eye to rest on.
ROUGH_EDGE_COUNT = 250
SETTLE_MS = 250
COLOUR_MODES = ("weight", "gradient", "update")
GRADIENT_DECADES = (-8, 2)      # |∂E/∂w| from 1e-8 (vanished) to 1e2 (exploding)
UPDATE_DECADES = (-10, 0)
BOUNDED = ("sigmoid", "softmax", "tanh")   # activations whose β scale is their own range       # |Δw| = η·|∂E/∂w| typically sits a few decades lower


def _finite_abs(values) -> np.ndarray:
    values = np.abs(np.asarray(values, float))
    return values[np.isfinite(values)]


def choose_scales(snapshot) -> Scales:
    """The network's fixed scales, chosen once from its first snapshot (the initial
    weights: the window hands each run's first frame over through prime_scales, even when
    it draws a later one first): the weight scale ends at a round number just above the
    initial |w| of the layer with the largest weights (its 95th percentile: per layer, so a
    wide first layer cannot drown the others; a percentile, so a few odd weights cannot
    either).  A pytorch-initialised net with |w| ≈ 0.04 is then not all grey, and growth
    shows as saturation.  The β scale of unbounded activations likewise ends just above the
    initial β; a β that grows beyond it saturates (its value is in the node and the hover),
    and β that fall to a third of it narrow it (shrink_beta_scales)."""
    offsets = layer_offsets(snapshot.sizes)
    typical = [float(np.quantile(w, 0.95)) if w.size else 0.0
               for w in (_finite_abs(snapshot.params[a:b]) for a, b in zip(offsets[:-1], offsets[1:]))]
    limit = colours.nice_ceil(max(typical))
    beta_max = unbounded_beta_limit(snapshot)
    edges = {
        "weight": colours.DivergingScale(limit),
        "gradient": colours.LogMagnitudeScale(*GRADIENT_DECADES),
        "update": colours.LogMagnitudeScale(*UPDATE_DECADES),
    }
    betas = [None] + [colours.beta_scale(a, beta_max) for a in snapshot.activation_names]
    return Scales(edges, betas)


def unbounded_beta_limit(snapshot) -> float:
    """A round number just above the largest |β| of the unbounded activations (ReLU,
    leaky ReLU, linear) in `snapshot`, and at least 1."""
    unbounded = [_finite_abs(b) for b, a in zip(snapshot.sample_betas, snapshot.activation_names)
                 if a not in BOUNDED]
    return colours.nice_ceil(max([1.0] + [1.25 * float(b.max()) for b in unbounded if b.size]))


def shrink_beta_scales(scales: Scales, snapshot) -> Scales:
    """The β scale of unbounded activations, narrowed once every |β| has fallen to a third
    of it or less.  Growth still shows as saturation against the fixed scale; but a network
    that starts with huge β and is then tamed (the exploding-gradients remedy: β ≈ 10³ at
    the start, mostly < 10 and at most ~200 after 200 clipped epochs) would otherwise be
    drawn nearly all white.  The factor 3 of slack keeps the scale from following every
    frame: it changes a handful of times in a run, never back and forth."""
    current = max((scale.hi for scale, a in zip(scales.betas[1:], snapshot.activation_names)
                   if a not in BOUNDED), default=None)
    if current is None or not all(np.isfinite(b).all() for b in snapshot.sample_betas):
        return scales               # a diverged frame says nothing about the scale
    limit = unbounded_beta_limit(snapshot)
    if limit > current / 3:
        return scales
    betas = [None] + [colours.beta_scale(a, limit) for a in snapshot.activation_names]
    return Scales(scales.edges, betas)


class GraphItem(QGraphicsObject):
    """The whole picture as one item with an exact bounding rect (the view's size)."""

    def __init__(self, view: "NetworkView"):
        super().__init__()
        self.view = view
        self.state = view.state
        self.layout: GraphLayout | None = None
        self.frame = Frame()
        self.smooth_edges = True
        self.last_build_seconds = 0.0
        self.last_paint_seconds = 0.0

    def boundingRect(self) -> QRectF:
        if self.layout is None:
            return QRectF()
        return QRectF(0, 0, self.layout.width, self.layout.height)

    def relayout(self, layout: GraphLayout | None):
        self.prepareGeometryChange()
        self.layout = layout
        self.rebuild()

    def rebuild(self):
        t0 = time.perf_counter()
        self.frame = build_frame(self.layout, self.state) if self.layout is not None else Frame()
        self.last_build_seconds = time.perf_counter() - t0
        self.update()

    def paint(self, painter: QPainter, option=None, widget=None):
        if self.layout is None:
            return
        t0 = time.perf_counter()
        paint_frame(painter, self.layout, self.state, self.frame, self.smooth_edges)
        paint_overlay(painter, self.layout, self.view.overlay, self.view.plate_cache)
        self.last_paint_seconds = time.perf_counter() - t0

    # -- inspection (tests, and the numbers a lecturer may want to read off) -------------
    def edge_pen(self, index: int):
        """The pen edge `index` is drawn with, or None if it is not drawn individually."""
        if self.layout is None or self.state.scales is None or self.state.snapshot is None:
            return None
        rows = np.flatnonzero(self.layout.edge_index == index)
        if rows.size == 0:
            return None
        scale = self.state.scales.edges[self.state.mode]
        b = int(scale.bin_of(np.array([edge_values(self.state.snapshot, self.state.mode)[index]]))[0])
        return edge_pens(scale, max_edge_width(self.layout), False)[b][0]

    def marked_units(self) -> dict:
        """(level, unit) of the drawn neurons carrying a dead or a saturated mark."""
        looks = self.frame.nodes
        return {"dead": [(n.node.level, n.node.unit) for n in looks if n.dead],
                "saturated": [(n.node.level, n.node.unit) for n in looks if n.saturated]}


class NetworkView(QGraphicsView):
    weight_edit_requested = Signal(int)
    explain_requested = Signal(str)     # "w17", "H1", "x1": a click while explaining is enabled
    hovered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = ViewState()
        self._first_scales = None   # the scales of the run as it started (reset shows them)
        self.overlay = Overlay()
        self.plate_cache = PlateCache()
        self._font_scale = 1.0
        self._editing = False
        self._explaining = False
        self._pending = None
        self._last_applied = 0.0
        self._hover_text = ""
        self._image_layout: GraphLayout | None = None
        self.setScene(QGraphicsScene(self))
        self.graph_item = GraphItem(self)
        self.scene().addItem(self.graph_item)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setBackgroundBrush(Qt.white)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(240, 180)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._apply_pending)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.timeout.connect(self._paint_smoothly)

    # -- structure and data ------------------------------------------------------------
    def set_network(self, sizes, activation_names, input_names=None, output_names=None):
        s = self.state
        s.sizes = tuple(int(n) for n in sizes)
        s.activation_names = tuple(activation_names)
        s.input_names = tuple(input_names or ())
        s.output_names = tuple(output_names or ())
        s.snapshot = None
        s.scales = None             # chosen afresh from this network's first snapshot
        self._first_scales = None
        s.hovered = None
        self._pending = None
        self._timer.stop()
        self._relayout()

    def set_snapshot(self, snapshot):
        self._pending = snapshot
        if not self._timer.isActive():
            wait = max(0.0, 1.0 / MAX_FPS - (time.perf_counter() - self._last_applied))
            self._timer.start(int(wait * 1000))

    def prime_scales(self, snapshot):
        """Choose the network's fixed colour scales from `snapshot` unless they are chosen:
        the window hands over each run's first (initial) frame here, so a run that is
        already far along (or diverged) when it is first drawn keeps scales that fit the
        network as it started."""
        if self.state.scales is None and self.state.sizes and tuple(snapshot.sizes) == self.state.sizes:
            self.state.scales = self._first_scales = choose_scales(snapshot)

    def _apply_pending(self):
        snapshot, self._pending = self._pending, None
        if snapshot is None:
            return
        s = self.state
        if tuple(snapshot.sizes) != s.sizes or tuple(snapshot.activation_names) != s.activation_names:
            same_shape = tuple(snapshot.sizes) == s.sizes
            self.set_network(snapshot.sizes, snapshot.activation_names,
                             s.input_names if same_shape else None, s.output_names if same_shape else None)
        if s.scales is None:
            s.scales = self._first_scales = choose_scales(snapshot)
        elif snapshot.steps == 0 and self._first_scales is not None:
            s.scales = self._first_scales       # reset: the picture it started with
        else:
            s.scales = shrink_beta_scales(s.scales, snapshot)
        s.snapshot = snapshot
        now = time.perf_counter()
        streaming = now - self._last_applied < SETTLE_MS / 1000
        self._last_applied = now
        item = self.graph_item
        item.smooth_edges = not (streaming and self.drawn_edge_count() > ROUGH_EDGE_COUNT)
        if not item.smooth_edges:
            self._settle.start(SETTLE_MS)
        item.rebuild()

    def _paint_smoothly(self):
        self.graph_item.smooth_edges = True
        self.graph_item.update()

    # -- options ---------------------------------------------------------------------
    def set_colour_mode(self, mode):
        if mode not in COLOUR_MODES:
            raise ValueError(f"colour mode must be one of {', '.join(COLOUR_MODES)}, not {mode!r}")
        self.state.mode = mode
        self.graph_item.rebuild()

    def set_editing_enabled(self, enabled: bool):
        self._editing = bool(enabled)
        if not self._editing:
            self.viewport().unsetCursor()

    def set_explaining_enabled(self, enabled: bool):
        """Clicks ask for an explanation (explain_requested) instead of a weight edit."""
        self._explaining = bool(enabled)
        if not self._explaining:
            self.viewport().unsetCursor()

    def set_overlay(self, neuron_text=None, edge_text=None):
        """Text written onto the graph: {(level, unit): "α = 0.53"} beside neurons (ringed),
        {parameter index: "∂E/∂w17 = …"} on edges.  None or {} clears."""
        self.overlay = Overlay(dict(neuron_text or {}), dict(edge_text or {}))
        self.graph_item.update()

    def set_show_labels(self, show: bool):
        self.state.show_labels = bool(show)
        self.graph_item.update()

    def set_font_scale(self, scale: float):
        self._font_scale = float(min(max(scale, 0.5), 4.0))
        self._relayout()

    def set_beta_unknown_from(self, level: int | None):
        """Lecture mode: neurons from `level` on are drawn without β (not computed yet)."""
        if self.state.beta_unknown_from != level:
            self.state.beta_unknown_from = level
            self.graph_item.rebuild()

    def set_highlight(self, levels=None, units=None):
        self.state.highlight_levels = None if levels is None else frozenset(int(l) for l in levels)
        self.state.highlight_units = frozenset((int(l), int(u)) for l, u in (units or ()))
        self.graph_item.rebuild()

    # -- queries ---------------------------------------------------------------------
    def drawn_edge_count(self) -> int:
        layout = self.graph_item.layout
        return layout.drawn_edge_count if layout is not None else 0

    def hidden_edge_count(self) -> int:
        layout = self.graph_item.layout
        return layout.hidden_edge_count if layout is not None else 0

    def edge_at(self, scene_pos) -> int | None:
        layout = self.graph_item.layout
        if layout is None:
            return None
        rows, dist = layout.edges_near(scene_pos.x(), scene_pos.y(), max(5.0, 0.5 * max_edge_width(layout)))
        if rows.size == 0:
            return None
        frame = self.graph_item.frame
        if frame.edge_rank is not None:
            # Where edges cross, the one drawn on top of the point is the one under it.
            covering = rows[dist <= frame.edge_width[rows] / 2 + 1.0]
            if covering.size:
                return int(layout.edge_index[covering[np.argmax(frame.edge_rank[covering])]])
        return int(layout.edge_index[rows[0]])

    def last_redraw_seconds(self) -> float:
        item = self.graph_item
        return item.last_build_seconds + item.last_paint_seconds

    def render_to_image(self, width, height) -> QImage:
        """The graph as it would look in a width × height view (with the newest snapshot)."""
        if self._pending is not None:
            self._timer.stop()
            self._apply_pending()
        image = QImage(int(width), int(height), QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.white)
        if not self.state.sizes:
            return image
        layout = self._layout_for(int(width), int(height))
        t0 = time.perf_counter()
        frame = build_frame(layout, self.state) if layout is not self.graph_item.layout else self.graph_item.frame
        painter = QPainter(image)
        try:
            paint_frame(painter, layout, self.state, frame)
            paint_overlay(painter, layout, self.overlay)
        finally:
            painter.end()
        self.graph_item.last_build_seconds = 0.0
        self.graph_item.last_paint_seconds = time.perf_counter() - t0
        return image

    # -- layout ----------------------------------------------------------------------
    def _new_layout(self, width, height) -> GraphLayout:
        s = self.state
        return GraphLayout(s.sizes, width, height, self._font_scale, s.input_names, s.output_names)

    def _layout_for(self, width, height) -> GraphLayout:
        current = self.graph_item.layout
        for layout in (current, self._image_layout):
            if layout is not None and (layout.width, layout.height, layout.font_scale, layout.sizes) == \
                    (width, height, self._font_scale, self.state.sizes):
                return layout
        self._image_layout = self._new_layout(width, height)
        return self._image_layout

    def _relayout(self):
        self._image_layout = None
        viewport = self.viewport()
        w, h = max(viewport.width(), 1), max(viewport.height(), 1)
        self.scene().setSceneRect(0, 0, w, h)
        self.graph_item.relayout(self._new_layout(w, h) if self.state.sizes else None)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._relayout()

    # -- mouse and keys ----------------------------------------------------------------
    def mouseMoveEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        target, text = self._item_under(pos)
        if target != self.state.hovered:
            self.state.hovered = target
            self.graph_item.update()
        if (self._editing and target and target[0] == "edge") or \
                (self._explaining and self._explainable(target)):
            self.viewport().setCursor(Qt.PointingHandCursor)
        else:
            self.viewport().unsetCursor()
        self._set_hover_text(text, event.globalPosition().toPoint())
        super().mouseMoveEvent(event)

    def leaveEvent(self, event):
        self.state.hovered = None
        self.graph_item.update()
        self._set_hover_text("", None)
        super().leaveEvent(event)

    def mousePressEvent(self, event):
        if self._explaining and event.button() == Qt.LeftButton:
            target, _ = self._item_under(self.mapToScene(event.position().toPoint()))
            name = self._explainable(target)
            if name:
                self.explain_requested.emit(name)
                event.accept()
                return
        if self._editing and event.button() == Qt.LeftButton:
            index = self.edge_at(self.mapToScene(event.position().toPoint()))
            if index is not None:
                self.weight_edit_requested.emit(index)
                event.accept()
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event):
        # Nothing here to scroll: let Space, arrows and PageUp/PageDown (a lecture clicker)
        # reach the window instead of being eaten by QAbstractScrollArea.
        event.ignore()

    def _set_hover_text(self, text: str, global_pos):
        if text == self._hover_text:
            return
        self._hover_text = text
        if text and global_pos is not None:
            QToolTip.showText(global_pos, text, self.viewport())
        else:
            QToolTip.hideText()
        self.hovered.emit(text)

    def _explainable(self, target) -> str | None:
        """The lecture's name of a clicked edge (w17) or neuron (H1, x1); bias and
        ellipsis nodes stand for several things and name none."""
        if not target:
            return None
        if target[0] == "edge":
            return f"w{target[1] + 1}"
        kind, level, unit = target[1]
        return neuron_name(self.state.sizes, level, unit) if kind == "unit" else None

    def _item_under(self, pos: QPointF):
        """(("node", id) or ("edge", index) or None, text for the status bar)."""
        layout = self.graph_item.layout
        if layout is None:
            return None, ""
        node = layout.node_at(pos.x(), pos.y())
        if node is not None:
            return ("node", node.id), describe_node(self.state, layout, node)
        index = self.edge_at(pos)
        if index is not None:
            return ("edge", index), describe_edge(self.state, index)
        return None, ""


# -- hover texts: the lecture's names and the numbers behind a colour ----------------------
def _num(x: float) -> str:
    return f"{x:.4g}"


def _unit_title(state: ViewState, level: int, unit: int) -> str:
    name = neuron_name(state.sizes, level, unit)
    label = state.unit_label(level, unit)
    return f"{name} ({label})" if label else name


def describe_edge(state: ViewState, index: int) -> str:
    ref = param_ref(state.sizes, index)
    source = "bias 1" if ref.is_bias else _unit_title(state, ref.layer, ref.row - 1)
    target = _unit_title(state, ref.layer + 1, ref.unit)
    text = f"{ref.name}: {source} → {target}"
    snap = state.snapshot
    if snap is not None:
        text += (f"   w = {_num(snap.params[index])}   ∂E/∂w = {_num(snap.grads[index])}"
                 f"   last Δw = {_num(snap.update[index])}")
    return text


def describe_node(state: ViewState, layout: GraphLayout, node: Node) -> str:
    sizes, snap = state.sizes, state.snapshot
    if node.kind == "bias":
        first = layer_offsets(sizes)[node.level]
        fed = "the outputs" if node.level + 1 == len(sizes) - 1 else f"layer {node.level + 1}"
        return (f"bias input 1 → {fed}: its weights w{first + 1}..w{first + sizes[node.level + 1]} "
                f"are the biases")
    if node.kind == "ellipsis":
        first, last = node.hidden[0], node.hidden[-1]
        band = sum(b.edge_count for b in layout.bands if node.level in (b.layer, b.layer + 1))
        return (f"+{len(node.hidden)} more units ({neuron_name(sizes, node.level, first)} … "
                f"{neuron_name(sizes, node.level, last)}) not drawn; their {band} edges are the faint band")
    title = _unit_title(state, node.level, node.unit)
    if node.level == 0:
        return f"{title}: input"
    layer = node.level - 1
    text = f"{title} · {state.activation_names[layer]}"
    if snap is not None:
        text += (f"   α = {_num(snap.sample_alphas[layer][node.unit])}"
                 f"   β = {_num(snap.sample_betas[layer][node.unit])}")
        if snap.sample_deltas:
            text += f"   δ = ∂E/∂α = {_num(snap.sample_deltas[layer][node.unit])}"
        text += f"   (sample {snap.sample + 1})"
        # Its bias: the weight from the bias node, first row of the layer's [b; W] block.
        bias = layer_offsets(sizes)[layer] + node.unit
        text += (f"   · bias w{bias + 1} = {_num(snap.params[bias])}   ∂E/∂w = {_num(snap.grads[bias])}"
                 f"   last Δw = {_num(snap.update[bias])}")
        if snap.dead_units[layer][node.unit]:
            text += "   · dead: β ≤ 0 for every sample"
        if snap.saturated_units[layer][node.unit]:
            text += "   · saturated: f′(α) ≈ 0 on most samples"
    return text
