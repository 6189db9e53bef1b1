"""Lecture mode in the window: the transport walks the phases of one training step (α, β,
the loss, δ, ∂E/∂w, the update) instead of whole steps, the graph lights up the neurons
being computed and carries the phase's numbers, and a click on an edge or a neuron writes
out its chain rule.  A dock holds the lecture panel: the phase in words, its values, and
tabs for the chain rule, the activation curve and the gradient check.

Threading.  A core.phases.PhaseStepper drives the Trainer, and only the worker thread
may touch the Trainer, so every move of the stepper (and the gradient check, and the
"break σ′" switch) runs on the worker through TrainingWorker.with_trainer.  The key press
does not wait for it: while the GUI thread handles an event the worker parks at its
checkpoint (GuiPriority), so waiting inside the handler would stall for the worker's
0.1 s timeout on every press.  Instead one command is in flight at a time, its answer
comes back as a queued signal, and presses that arrive meanwhile queue up (a clicker press
is never lost).  The GUI reads the stepper only when nothing is in flight, so it never
sees one half-moved.

Everything numeric comes from core (phases, explanations, profiles, the gradient check);
this module only chooses what to show where, and formats it.
"""
from __future__ import annotations

import traceback
from collections import deque

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel

from core.errors import BackpropLabError, ConfigError
from core.explain import Neuron, parse_target
from core.formula import number_text
from core.gradcheck import gradient_check
from core.phases import PhaseStepper

from .lecture_panel import LecturePanel

SHORTCUT = "L"
DOCK_SHARE = 0.36           # of the window's width, for the lecture panel
PRESENTING_DOCK_SHARE = 0.38    # in presentation mode: the chain rule's text is 1.6× larger
CHECK_SAMPLES = 64          # the gradient check differentiates E over at most this many samples
CHECK_MAX_PARAMS = 20000    # two passes per parameter: beyond this the check takes minutes
BROKEN_SUFFIX = " — σ′ broken on purpose"
BROKEN_STYLE = ("QLabel { background: #c62828; color: white; font-weight: bold; "
                "padding: 2px 8px; border-radius: 3px; }")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SYMBOLS = {"alpha": "α", "beta": "β", "delta": "δ"}


# -- what the graph shows for a phase ------------------------------------------------------
def overlay_texts(phase, sample, sizes) -> tuple[dict, dict]:
    """({(level, unit): text}, {parameter index: text}) for the graph: the phase's values
    for one sample (a position in the batch, from 0; written as the lecture's i, from 1) or
    for the whole batch (sample=None)."""
    kind = phase.kind
    if kind == "update":
        return {}, {k: f"w{k + 1}: {a} → {b}"
                    for k, (a, b) in enumerate(map(old_and_new, phase.old, phase.batch))}
    if kind == "loss":
        name = "E" if sample is None else f"E{str(sample + 1).translate(SUBSCRIPT)}"
        output = (phase.level, sizes[phase.level] // 2)
        return {output: f"{name} = {number_text(phase.values(sample)[0])}"}, {}
    if kind == "gradient":
        top = "∂E" if sample is None else f"∂E{str(sample + 1).translate(SUBSCRIPT)}"
        return {}, {k: f"{top}/∂w{k + 1} = {number_text(v, 3)}"
                    for k, v in phase.param_values(sample).items()}
    symbol = SYMBOLS[kind]
    if sample is None:          # α and β are averaged over the batch, δ summed (phases.py)
        symbol = f"Σ {symbol}" if kind == "delta" else f"mean {symbol}"
    return {key: f"{symbol} = {number_text(v)}" for key, v in phase.neuron_values(sample).items()}, {}


def old_and_new(old: float, new: float) -> tuple[str, str]:
    """Both values to the same decimal place, the first at which the change shows (from 3
    to 8 decimals; significant digits where a value is too small or large for decimals)."""
    if not all(1e-3 <= abs(v) < 1e4 for v in (old, new)):
        for digits in range(3, 9):
            a, b = number_text(old, digits), number_text(new, digits)
            if a != b:
                break
        return a, b
    for decimals in range(3, 9):
        a, b = (f"{v:.{decimals}f}".replace("-", "−") for v in (old, new))
        if a != b:
            break
    return a, b


def layer_title(sizes, level: int) -> str:
    last = len(sizes) - 1
    if level == last:
        return "the output layer"
    return "the hidden layer" if last == 2 else f"hidden layer {level}"


def highlighted_levels(highlight) -> set:
    """The computed neurons' levels, and both ends of the edges that take part."""
    return set(highlight.levels) | set(highlight.layers) | {l + 1 for l in highlight.layers}


# -- the trainer as the stepper left it -------------------------------------------------------
def fingerprint(trainer):
    return trainer.steps, trainer.batch_size, trainer.net.params.copy()


def same_fingerprint(a, b) -> bool:
    return a is not None and b is not None and a[:2] == b[:2] and np.array_equal(a[2], b[2])


class LectureMode(QObject):
    # (generation, future, on_done, on_error) from the worker thread: delivered queued
    _answered = Signal(object, object, object, object)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = window.network_view
        self._active = False
        self._stepper = None
        self._fingerprint = None        # the trainer as the stepper's last command left it
        self._generation = 0            # bumped with every new worker: older answers are dropped
        self._queue = deque()
        self._in_flight = False
        self._dirty = False
        self._explain_next = None
        self._broken = False
        self._dock_share = DOCK_SHARE
        self._build()
        self._answered.connect(self._on_answer)
        window.installEventFilter(self)

    def _build(self):
        w = self.window
        self.panel = LecturePanel()
        self.dock = QDockWidget("Lecture", w)
        self.dock.setObjectName("lecture")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        w.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.action = QAction("Lecture mode", w, checkable=True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setShortcutContext(Qt.ApplicationShortcut)
        self.action.setToolTip(f"Lecture mode ({SHORTCUT}): → / PageDown and ← / PageUp walk the "
                               "phases of one training step; click an edge or a neuron for its "
                               "chain rule")
        self.action.toggled.connect(self.set_active)
        w.addAction(self.action)
        w.view_menu.addSeparator()
        w.view_menu.addAction(self.action)
        w.transport_bar.addSeparator()
        w.transport_bar.addAction(self.action)
        self.broken_label = QLabel("σ′ BROKEN on purpose: the gradients are wrong")
        self.broken_label.setStyleSheet(BROKEN_STYLE)
        self.broken_label.setVisible(False)
        w.statusBar().addPermanentWidget(self.broken_label)
        self._normal_texts = {a: (a.text(), a.toolTip()) for a in (w.step_action, w.back_action, w.play_action)}

        g = self.panel.gradcheck
        for widget in (g.run_button, g.broken_box):
            widget.setFocusPolicy(Qt.NoFocus)       # Space and the arrows stay the transport's
        g.run_requested.connect(self.run_gradient_check)
        g.broken_toggled.connect(self.set_broken_derivative)
        self.panel.sample_changed.connect(self._sample_changed)
        self.view.explain_requested.connect(self.explain)
        w.run_started.connect(self._run_started)
        w.font_scale_changed.connect(self.panel.set_font_scale)
        w.presentation_action.toggled.connect(self._presentation_toggled)
        self.panel.set_font_scale(w.font_scale())

    # -- entering and leaving --------------------------------------------------------------
    def is_active(self) -> bool:
        return self._active

    def stepper(self):
        """The PhaseStepper (read it only while is_idle())."""
        return self._stepper

    def is_idle(self) -> bool:
        return not self._in_flight and not self._queue

    def set_active(self, on: bool):
        on = bool(on)
        self.action.setChecked(on)
        if on == self._active:
            return
        self._active = on
        w = self.window
        w.play_action.setEnabled(not on)
        self.view.set_explaining_enabled(on)
        if on:
            w.pause()
            # The lecture panel takes the place of the loss and output plots and of the
            # controls (View → Controls brings them back): the graph keeps its width, and
            # the class looks at one network and one derivation.
            w.put_away("lecture", (w.side, w.controls_dock))    # (presentation mode may hold them too)
            self.dock.show()
            # Wide enough for a chain rule of five factors at presentation size.
            self._dock_share = self._default_share()
            self._fit_dock()
            w.step_action.setText("Phase →")
            w.step_action.setToolTip("Next phase of the step (→ or PageDown)")
            w.back_action.setText("← Phase back")
            w.back_action.setToolTip("Previous phase, exactly (← or PageUp)")
            w.play_action.setToolTip(f"Leave lecture mode ({SHORTCUT}) to play")
            self._stepper_command(lambda s: s.resync(), replan=True)
        else:
            self._queue.clear()
            self.dock.hide()
            w.bring_back("lecture")
            for action, (text, tip) in self._normal_texts.items():
                action.setText(text)
                action.setToolTip(tip)
            self.view.set_highlight(None)
            self.view.set_overlay()
            self.view.set_beta_unknown_from(None)

    def _default_share(self) -> float:
        return PRESENTING_DOCK_SHARE if self.window.is_presenting() else DOCK_SHARE

    def _presentation_toggled(self, _on):
        QTimer.singleShot(0, self, self._refit_dock)    # once the window has its new size

    def _refit_dock(self):
        self._dock_share = self._default_share()
        self._fit_dock()

    def _fit_dock(self):
        if self._active and not self.dock.isFloating():
            w = self.window
            w.resizeDocks([self.dock], [int(self._dock_share * w.width())], Qt.Horizontal)

    def eventFilter(self, watched, event):
        """The lecture panel keeps its share of the window when the window is resized: F11
        after L (or full screen arriving after L) otherwise left it at its old width, and
        the extra width went to the graph while the chain rule wrapped into the fold."""
        if (watched is self.window and event.type() == QEvent.Resize and self._active
                and not self.dock.isFloating() and event.oldSize().width() > 0):
            share = self.dock.width() / event.oldSize().width()
            if 0.1 <= share <= 0.8:         # (not a dock shown but not yet laid out)
                self._dock_share = share
            QTimer.singleShot(0, self, self._fit_dock)
        return False

    # -- the transport -------------------------------------------------------------------------
    def next_phase(self):
        self._stepper_command(lambda s: s.next())

    def previous_phase(self):
        self._stepper_command(lambda s: s.back())

    def reset(self):
        """R in lecture mode: the initial weights, at the first phase of the first step."""
        self._queue.clear()
        if self.window.worker is not None:
            self.window.worker.reset()
        self._stepper_command(lambda s: s.resync(), replan=True)

    def _stepper_command(self, move, replan: bool = False):
        """move(stepper) on the worker (replan: the move plans the step afresh anyway).
        If the trainer changed behind the stepper's back (an edited weight, a new batch
        size) the step is planned afresh instead, and the lecturer told so."""
        def run(trainer):
            stepper, expected = self._stepper, self._fingerprint
            fresh = stepper is None or stepper.trainer is not trainer
            if fresh:
                stepper = PhaseStepper(trainer)
            elif not same_fingerprint(expected, fingerprint(trainer)):
                stepper.resync()
                fresh = True
            else:
                move(stepper)
            return stepper, fingerprint(trainer), fresh and expected is not None and not replan
        self._submit(run, self._moved, self._stepper_failed)

    def _moved(self, answer):
        self._stepper, self._fingerprint, replanned = answer
        if replanned:
            self.window.show_message("The network changed outside lecture mode: this step "
                                     "starts again from its first phase")
        self._dirty = True

    def _stepper_failed(self, error):
        if self._stepper is None:       # could not even plan a step (e.g. it diverged)
            self.set_active(False)

    # -- clicks, the sample, the activation curve ------------------------------------------
    def explain(self, name: str):
        """A click on an edge or a neuron: its chain rule in the derivation panel, and its
        layer on the activation curve."""
        if not self._active:
            return
        self._explain_next = name
        self._dirty = True
        self._render_when_idle()

    def _explain_now(self, name: str):
        s = self._stepper
        try:
            target = parse_target(self._sizes(), name)
            self.panel.explain(s, name)
        except BackpropLabError as e:
            self.window.show_message(str(e))
            return
        self._show_activation(target.level if isinstance(target, Neuron) else target.layer + 1)

    def _sample_changed(self, sample):
        if sample is not None and self._stepper is not None and self.is_idle():
            self.window.sample_box.setValue(int(self._stepper.rows[sample]) + 1)
        self._dirty = True
        self._render_when_idle()

    def _show_activation(self, level: int):
        if level >= 1:
            profile = self._stepper.activation_profile(level, self.panel.sample())
            self.panel.activation.show_profile(profile, layer_title(self._sizes(), level))

    def _sizes(self):
        return self.window.network_view.state.sizes

    # -- drawing the current phase -------------------------------------------------------------
    def _render_when_idle(self):
        if self._dirty and self.is_idle() and self._active and self._stepper is not None:
            self._dirty = False
            self._render()

    def _render(self):
        s = self._stepper
        phase, sample = s.phase, self.panel.sample()
        self.panel.show_step(s)
        self.view.set_highlight(levels=highlighted_levels(phase.highlight), units=phase.highlight.units)
        self.view.set_overlay(*overlay_texts(phase, sample, self._sizes()))
        # Forward phases: β is known only up to the layer just computed.
        unknown = {"alpha": phase.level, "beta": (phase.level or 0) + 1}.get(phase.kind)
        self.view.set_beta_unknown_from(unknown)
        if phase.level is not None and phase.kind not in ("alpha", "beta"):    # those: show_step
            self._show_activation(phase.level)
        if self._explain_next is not None:
            name, self._explain_next = self._explain_next, None
            self._explain_now(name)

    # -- checking the derivatives ----------------------------------------------------------------
    def run_gradient_check(self):
        self.panel.gradcheck.summary.setText("Checking every parameter against finite differences …")
        self._submit(_check, self._checked)

    def _checked(self, answer):
        result, used, total = answer
        g = self.panel.gradcheck
        g.show_result(result)
        if used < total:
            g.summary.setText(f"{g.summary.text()}<br/>(E over the first {used} of {total} samples)")
        self.panel.tabs.setCurrentWidget(g)

    def set_broken_derivative(self, broken: bool):
        """The teaching switch: every sigmoid's derivative drops its (1 − β) factor, for
        training too.  The check reruns at once, and the phases are computed again."""
        def toggle(trainer):
            if "sigmoid" not in trainer.net.activation_names:
                raise ConfigError("this network has no sigmoid layer: there is no σ′ to break")
            trainer.net.set_broken_sigmoid_derivative(broken)
            answer = _check(trainer)
            if broken and answer[0].passed:     # the switch would claim a breakage there is not
                trainer.net.set_broken_sigmoid_derivative(False)
                raise ConfigError("breaking σ′ changes no gradient of this network: no backward "
                                  "pass here uses it (a sigmoid output with cross-entropy has "
                                  "δ = β − t)")
            stepper = self._stepper
            if stepper is not None and stepper.trainer is trainer and stepper.phase.kind != "update":
                index = stepper.index
                stepper.resync()
                for _ in range(index):
                    stepper.next()
            return answer

        def done(answer):
            self._show_broken(broken)
            self._checked(answer)
            self._dirty = True
        self._submit(toggle, done, lambda e: self._show_broken(self._broken))

    def is_broken(self) -> bool:
        return self._broken

    def _show_broken(self, broken: bool):
        self._broken = bool(broken)
        self.panel.gradcheck.set_broken(self._broken)
        self.broken_label.setVisible(self._broken)
        title = self.window.windowTitle().replace(BROKEN_SUFFIX, "")
        self.window.setWindowTitle(title + (BROKEN_SUFFIX if self._broken else ""))

    # -- a new trainer ---------------------------------------------------------------------------
    def _run_started(self):
        self._generation += 1
        self._queue.clear()
        self._in_flight = False
        self._stepper = self._fingerprint = None
        self._show_broken(False)            # a new network has the true derivative
        g = self.panel.gradcheck
        g.table.setRowCount(0)
        g.summary.setText("Press “Run check” to compare the analytic gradients with finite differences.")
        if self._active:
            self._stepper_command(lambda s: s.resync(), replan=True)

    # -- the worker ------------------------------------------------------------------------------
    def _submit(self, command, on_done, on_error=None):
        """command(trainer) on the worker thread; on_done(result) or on_error(exception)
        back on the GUI thread, in order."""
        self._queue.append((command, on_done, on_error))
        self._pump()

    def _pump(self):
        if self._in_flight or not self._queue:
            return
        worker = self.window.worker
        if worker is None:
            self._queue.clear()
            return
        command, on_done, on_error = self._queue.popleft()
        self._in_flight = True
        generation = self._generation
        future = worker.with_trainer(command)
        future.add_done_callback(lambda f: self._answered.emit(generation, f, on_done, on_error))

    def _on_answer(self, generation, future, on_done, on_error):
        if generation != self._generation:
            return                          # from a worker already replaced
        self._in_flight = False
        error = future.exception()
        if error is None:
            on_done(future.result())
        else:
            # The worker's notice already put the message in the status bar.
            if not isinstance(error, BackpropLabError):
                traceback.print_exception(error)
            if on_error is not None:
                on_error(error)
        self._pump()
        self._render_when_idle()


def _check(trainer):
    """The gradient check on the worker: (result, samples used, samples in the data)."""
    net, n = trainer.net, trainer.X.shape[0]
    if net.n_params > CHECK_MAX_PARAMS:
        raise ConfigError(f"{net.n_params} parameters are too many to check one at a time "
                          f"(the check is for networks up to {CHECK_MAX_PARAMS})")
    used = min(n, CHECK_SAMPLES)
    return gradient_check(net, trainer.X[:used], trainer.Y[:used], trainer.loss_fn), used, n
