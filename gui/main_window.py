"""The main window: the network in the middle, the narrative, loss and output panel on
the right, the diagnostic plots below, the controls on the left, the transport in the
toolbar and `Epoch N · loss` in the status bar.

The window never touches the Trainer while the worker runs: every change goes to the
worker as a command, and what comes back is a Frame.  Frames are mirrored into the
history as they arrive, but drawn only by a coalescing timer (≤ 30 a second, newest
frame only), and the plots repaint one per tick.
"""
from __future__ import annotations

import dataclasses
import math
import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QDockWidget, QHBoxLayout, QInputDialog,
                               QLabel, QMainWindow, QSpinBox, QSplitter,
                               QToolBar, QVBoxLayout, QWidget)

from core.errors import BackpropLabError
from core.network import Network
from core.optimizers import OptimizerConfig
from core.scenarios import load_scenario, scenario_names
from core.trainer import TrainConfig, Trainer

from . import scaled_style
from . import settings as stored
from .app import process_events_until
from .controls import (SPEEDS, ControlPanel, GranularityPicker, NetworkChoice, ShortcutPassthrough,
                       SpeedControl)
from .csv_actions import CSVActions, output_names
from .lecture_mode import LectureMode
from .lr_range_dock import LRRangeTool
from .network_view import NetworkView
from .plots import LossPlot, OutputPanel, PlotPanel, configure_pyqtgraph
from .scenario_lab import ScenarioLab
from .scenario_panel import ScenarioPanel
from .session_actions import SessionActions
from .worker import (EPOCH, FRAME_SECONDS, GuiPriority, HistoryMirror, OutputProbe, TrainingThread,
                     TrainingWorker)

PLOT_SECONDS = 1 / 15          # plots redraw at most this often (one plot per redraw)
PRESENTATION_SCALE = 1.6
ZOOM_STEP = 1.15
ZOOM_RANGE = (0.6, 3.0)
COLOUR_MODES = (("weight", "w", "the weights, on a fixed scale"),
                ("gradient", "∂E/∂w", "the gradient of the last step, one log scale for all layers"),
                ("update", "Δw", "the last update (what the step subtracted), log scale"))
BANNER_STYLE = ("QLabel { background: #c62828; color: white; font-weight: bold; "
                "padding: 2px 8px; border-radius: 3px; }")
TRANSPORT_KEYS = (Qt.Key_Space, Qt.Key_Right, Qt.Key_Left, Qt.Key_PageUp, Qt.Key_PageDown, Qt.Key_R)
UNLIMITED = (1 << 24) - 1           # Qt's QWIDGETSIZE_MAX: no maximum size


class MainWindow(QMainWindow):
    run_started = Signal()              # a new Trainer and worker (scenario, rebuild, ...)
    font_scale_changed = Signal(float)  # zoom or presentation mode changed the text size

    def __init__(self, scenario: str = "lecture-house-prices", seed: int | None = None, parent=None):
        super().__init__(parent)
        configure_pyqtgraph()
        self.setWindowTitle("Backprop Lab")
        self.settings = stored.open_settings()
        app = QApplication.instance()
        self.priority = getattr(app, "priority", None) or GuiPriority()
        # Asked before a reset throws training away; tests replace it.
        self.confirm_discard = self._ask_discard
        self._training: TrainingThread | None = None
        self._run_id = 0
        self._frame = None              # newest frame drawn
        self._pending = None            # newest frame not drawn yet
        self._outputs = None
        self._mirror = HistoryMirror(1)
        self._last_draw = 0.0
        self._last_plot = 0.0
        self._zoom = 1.0
        self._presenting = False
        self._compact_narrative = False     # presenting a failure scenario: verdict only
        self._before_presenting = None
        self._put_away = {}                 # mode → the window parts it hid
        self._shown_before_modes = {}       # part → shown before the first mode hid it
        self._base_font = QFont(self.font())
        self._build_widgets()
        self._build_actions()
        self._connect_controls()
        self.csv = CSVActions(self)
        self.sessions = SessionActions(self)
        self._restore_settings()
        self.lecture = LectureMode(self)
        self.scenario_lab = ScenarioLab(self)
        self.lr_range = LRRangeTool(self)
        self._apply_font_scale()            # the stored zoom, now every part exists
        self.load_scenario(scenario, seed)
        QApplication.instance().aboutToQuit.connect(self._stop_training)
        self.network_view.setFocus(Qt.OtherFocusReason)

    # -- construction --------------------------------------------------------------------
    def _build_widgets(self):
        self.network_view = NetworkView()
        self.narrative = ScenarioPanel()       # title, narrative, remedy toggle, metric
        self.loss_plot = LossPlot()
        self.output_panel = OutputPanel()
        self.plots = PlotPanel(self.loss_plot, self.output_panel)

        view_bar = QWidget()
        row = QHBoxLayout(view_bar)
        row.setContentsMargins(6, 2, 6, 2)
        self.colour_group = QActionGroup(self)
        self.colour_buttons = {}
        for mode, label, tip in COLOUR_MODES:
            action = QAction(label, self, checkable=True)
            action.setData(mode)
            action.setToolTip(f"Edges show {tip}")
            self.colour_group.addAction(action)
            self.colour_buttons[mode] = action
        colour_bar = QToolBar()
        colour_bar.setFocusPolicy(Qt.NoFocus)
        colour_bar.addWidget(QLabel("edges show: "))
        for action in self.colour_group.actions():
            colour_bar.addAction(action)
        row.addWidget(colour_bar)
        row.addStretch(1)
        self.labels_box = QCheckBox("w labels")
        self.labels_box.setFocusPolicy(Qt.NoFocus)
        row.addWidget(self.labels_box)
        row.addWidget(QLabel("β of sample"))
        self.sample_box = QSpinBox()
        self.sample_box.setRange(1, 1)
        row.addWidget(self.sample_box)
        network_panel = QWidget()
        column = QVBoxLayout(network_panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(view_bar)
        column.addWidget(self.network_view, 1)

        self.side = QSplitter(Qt.Vertical)
        self.side.addWidget(self.narrative)
        self.side.addWidget(self.loss_plot)
        self.side.addWidget(self.output_panel)
        self.side.setSizes([290, 250, 210])
        self.top = QSplitter(Qt.Horizontal)
        self.top.addWidget(network_panel)
        self.top.addWidget(self.side)
        self.top.setStretchFactor(0, 3)
        self.top.setStretchFactor(1, 2)
        self.top.setSizes([680, 400])
        self.centre = QSplitter(Qt.Vertical)
        self.centre.addWidget(self.top)
        self.centre.addWidget(self.plots)
        self.centre.setStretchFactor(0, 3)
        self.centre.setStretchFactor(1, 1)
        self.centre.setSizes([620, 200])
        self.setCentralWidget(self.centre)

        names = []
        for name in scenario_names():
            try:
                names.append((name, load_scenario(name).title))
            except Exception as e:          # a broken scenario file must not close the app
                names.append((name, f"cannot be loaded: {e}"))
        self.controls = ControlPanel(names)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.controls_dock)

        bar = self.statusBar()
        self.epoch_label = QLabel("Epoch 0")
        self.loss_label = QLabel("loss –")
        self.speed_label = QLabel("paused")
        self.banner = QLabel()
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(False)
        for label in (self.epoch_label, self.loss_label, self.speed_label):
            label.setMinimumWidth(90)
            bar.addWidget(label)
        for label in (self.epoch_label, self.loss_label):
            font = label.font()
            font.setBold(True)
            label.setFont(font)
        bar.addWidget(self.banner)
        # Messages get a label of their own: QStatusBar.showMessage would hide the epoch
        # and loss labels, which DESIGN.md says are always there.
        self.message_label = QLabel()
        bar.addWidget(self.message_label, 1)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message_label.clear)
        self.hover_label = QLabel()
        bar.addPermanentWidget(self.hover_label)

        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.timeout.connect(self._draw)

    def _action(self, text, slot, keys=(), checkable=False) -> QAction:
        action = QAction(text, self, checkable=checkable)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
            # Application-wide: plot and graphics views would otherwise swallow arrows.
            action.setShortcutContext(Qt.ApplicationShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self):
        self.play_action = self._action("▶ Play", self.toggle_play, ["Space"])
        self.step_action = self._action("Step →", self.step, ["Right", "PgDown"])
        self.back_action = self._action("← Step back", self.step_back, ["Left", "PgUp"])
        self.reset_action = self._action("⟲ Reset", self.reset, ["R"])
        self.presentation_action = self._action("Presentation mode", self.set_presentation, ["F11"],
                                                checkable=True)
        self.zoom_in_action = self._action("Zoom in", self.zoom_in, ["Ctrl+=", "Ctrl++"])
        self.zoom_out_action = self._action("Zoom out", self.zoom_out, ["Ctrl+-"])
        for action, tip in ((self.play_action, "Play / pause (Space)"),
                            (self.step_action, "One step (→ or PageDown)"),
                            (self.back_action, "Back one step, exactly (← or PageUp)"),
                            (self.reset_action, "Back to the initial weights (R)")):
            action.setToolTip(tip)
        bar = QToolBar("Transport")
        bar.setObjectName("transport")
        bar.setFocusPolicy(Qt.NoFocus)
        for action in (self.play_action, self.step_action, self.back_action, self.reset_action):
            bar.addAction(action)
        bar.addSeparator()
        self.granularity = GranularityPicker()
        bar.addWidget(self.granularity)
        self.speed = SpeedControl()
        bar.addWidget(self.speed)
        self.addToolBar(bar)
        self.transport_bar = bar

        view = self.view_menu = self.menuBar().addMenu("&View")
        self.show_controls_action = self.controls_dock.toggleViewAction()
        view.addAction(self.show_controls_action)
        self.show_plots_action = QAction("Diagnostic plots", self, checkable=True, checked=True)
        self.show_plots_action.toggled.connect(self.plots.setVisible)
        view.addAction(self.show_plots_action)
        self.show_narrative_action = QAction("Narrative", self, checkable=True, checked=True)
        self.show_narrative_action.toggled.connect(self.narrative.setVisible)
        view.addAction(self.show_narrative_action)
        view.addSeparator()
        for action in self.colour_group.actions():
            view.addAction(action)
        view.addSeparator()
        for action in (self.presentation_action, self.zoom_in_action, self.zoom_out_action):
            view.addAction(action)
        training = self.training_menu = self.menuBar().addMenu("&Training")
        for action in (self.play_action, self.step_action, self.back_action, self.reset_action):
            training.addAction(action)

    def _connect_controls(self):
        c = self.controls
        c.scenario.scenario_chosen.connect(self._scenario_chosen)
        c.architecture.rebuild_requested.connect(self._rebuild_requested)
        t = c.training
        t.lr_changed.connect(self.set_learning_rate)
        t.optimizer_changed.connect(lambda _: self._send_optimizer())
        t.batch_size_changed.connect(lambda b: self._send(lambda w: w.set_batch_size(b)))
        t.l2_changed.connect(lambda v: self._send(lambda w: w.set_l2(v)))
        t.clip_changed.connect(lambda v: self._send(lambda w: w.set_clip(v)))
        t.rejected.connect(self.show_message)
        self.speed.speed_changed.connect(lambda s: self._send(lambda w: w.set_speed(s)))
        self.granularity.granularity_changed.connect(lambda g: self._send(lambda w: w.set_granularity(g)))
        self.colour_group.triggered.connect(lambda a: self.set_colour_mode(a.data()))
        self.labels_box.toggled.connect(self.network_view.set_show_labels)
        self.sample_box.valueChanged.connect(lambda i: self._send(lambda w: w.set_sample(i - 1)))
        self.network_view.weight_edit_requested.connect(self._weight_clicked)
        self.network_view.hovered.connect(self.hover_label.setText)
        ShortcutPassthrough(TRANSPORT_KEYS, self).install_on(self)

    # -- what is trained -----------------------------------------------------------------
    def load_scenario(self, name: str, seed: int | None = None, remedy: bool = False):
        """Load a scenario, with its remedy if asked (raises ScenarioError for an unknown
        one), and start afresh."""
        self.use_scenario(load_scenario(name, seed=seed, remedy=remedy))
        self.settings.setValue("scenario", self.scenario.name)

    def use_scenario(self, scenario, trainer: Trainer | None = None):
        """Train on `scenario` (a bundled one, or a CSV file's "csv:<stem>") from its initial
        weights, or go on with `trainer` where it stands (a reopened session)."""
        self.scenario = scenario
        self.dataset = scenario.dataset
        c = self.controls
        c.scenario.show_scenario(scenario.name)
        c.title.setText(scenario.title)
        c.architecture.set_io(self.dataset)
        c.architecture.set_choice(_choice_of(scenario.network, scenario.config.loss))
        c.training.set_config(scenario.config, self.dataset.n_samples)
        self.loss_plot.set_ghost(None, None)
        self.set_colour_mode(scenario.colour_mode)
        self._start(scenario.network, scenario.config, trainer)
        self.scenario_lab.scenario_loaded(scenario)

    def _start(self, network: Network, config: TrainConfig, trainer: Trainer | None = None):
        d = self.dataset
        if trainer is None:
            trainer = Trainer(network, d.X, d.Y, config, d.X_test, d.Y_test, log_every=1)
        self._stop_training()               # only once the new trainer is sure to exist
        self._run_id += 1
        self._frame = self._pending = self._outputs = None
        self._mirror = HistoryMirror(network.n_layers)
        probe = OutputProbe(d)
        worker = TrainingWorker(trainer, probe, self.priority, run_id=self._run_id)
        worker.frame_ready.connect(self._on_frame)
        worker.notice.connect(self.show_message)
        self._built_choice = _choice_of(network, config.loss)
        self.network_view.set_network(network.sizes, network.activation_names,
                                      d.feature_names, output_names(d))
        self.plots.set_network(network.sizes, network.activation_names)
        self.output_panel.set_dataset(d, probe.grid_axes)
        self.sample_box.blockSignals(True)
        self.sample_box.setRange(1, d.n_samples)
        self.sample_box.setValue(1)
        self.sample_box.blockSignals(False)
        worker.set_speed(self.speed.speed())
        if self.granularity.granularity() != EPOCH:
            worker.set_granularity(self.granularity.granularity())
        self._training = TrainingThread(worker)
        self._update_play_action(False)
        self.run_started.emit()

    @property
    def worker(self) -> TrainingWorker | None:
        return self._training.worker if self._training else None

    def _stop_training(self):
        if self._training is not None:
            self._training.shutdown()
            self._training = None

    def training_thread_running(self) -> bool:
        return self._training is not None and self._training.is_running()

    def _has_training(self) -> bool:
        frame = self._pending or self._frame
        return frame is not None and frame.snapshot.steps > 0

    def _ask_discard(self, what: str) -> bool:
        """Before training is replaced (another scenario, network or data set): unsaved
        training gets Save / Discard / Cancel; training already in its session file is
        not lost, so nothing is asked."""
        return self.sessions.may_discard(what)

    def _scenario_chosen(self, name: str):
        if name != self.scenario.name and (not self._has_training() or
                                           self.confirm_discard(f"Loading “{name}”")):
            try:
                self.load_scenario(name)
                return
            except BackpropLabError as e:
                self.show_message(str(e))
        self.controls.scenario.show_scenario(self.scenario.name)

    def _rebuild_requested(self, choice: NetworkChoice):
        if not self._has_training() or self.confirm_discard("Building the new network"):
            try:
                self.rebuild(choice)
                return
            except BackpropLabError as e:       # e.g. a loss that does not fit the output
                self.show_message(f"cannot build that network: {e}")
        self.controls.architecture.set_choice(self._built_choice)

    def rebuild(self, choice: NetworkChoice):
        """A new network from the architecture editor; training settings carry over."""
        d = self.dataset
        sizes = [d.X.shape[1], *choice.hidden, d.n_outputs]
        network = Network(sizes, list(choice.activations), init=choice.init, seed=choice.seed)
        batch = self.controls.training.batch_size.value() or None
        config = dataclasses.replace(self.scenario.config, loss=choice.loss, batch_size=batch,
                                     optimizer=self._optimizer_config(), seed=choice.seed)
        self._start(network, config)

    def _optimizer_config(self) -> OptimizerConfig:
        """The scenario's optimiser settings with the controls' choices on top."""
        t = self.controls.training
        return dataclasses.replace(self.scenario.config.optimizer, name=t.optimizer.currentText(),
                                   lr=t.lr.value(), l2=t.l2.value() or 0.0, clip=t.clip.value())

    # -- sending to the worker -----------------------------------------------------------
    def _send(self, order):
        """Give the running worker an order (a refused one comes back as its notice)."""
        worker = self.worker
        return None if worker is None else order(worker)

    def set_learning_rate(self, lr: float):
        self.controls.training.lr.set_value(lr)
        self._send(lambda w: w.set_learning_rate(lr))

    def _send_optimizer(self):
        config = self._optimizer_config()
        self._send(lambda w: w.set_optimizer(config))

    # -- transport -----------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self.worker is not None and self.worker.is_playing

    def play(self):
        if self.worker is not None:
            self.network_view.set_editing_enabled(False)
            self.worker.play()
            self._update_play_action(True)

    def pause(self):
        if self.worker is not None:
            self.worker.pause()
            self._update_play_action(False)

    def toggle_play(self):
        self.pause() if self.is_playing() else self.play()

    def step(self):
        if self.lecture.is_active():        # lecture mode: the transport walks phases
            return self.lecture.next_phase()
        self._update_play_action(False)
        return self._send(lambda w: w.step())

    def step_back(self):
        if self.lecture.is_active():
            return self.lecture.previous_phase()
        self._update_play_action(False)
        return self._send(lambda w: w.step_back())

    def reset(self):
        if self.lecture.is_active():
            return self.lecture.reset()
        self._update_play_action(False)
        return self._send(lambda w: w.reset())

    def run_epochs(self, epochs: int, wait: bool = False):
        """Train `epochs` epochs on the worker; with wait=True, return once they are drawn."""
        future = self._send(lambda w: w.run_epochs(epochs))
        if wait and future is not None:
            process_events_until(future.done, timeout=24 * 3600)
            future.result()
        return future

    def set_granularity(self, unit: str):
        self.granularity.set_granularity(unit)

    def set_speed(self, steps_per_second):
        self.speed.set_index(SPEEDS.index(steps_per_second))

    def _update_play_action(self, playing: bool):
        self.play_action.setText("‖ Pause" if playing else "▶ Play")

    def wait_until_drawn(self, timeout: float = 10.0) -> bool:
        """Process events until every frame sent so far is drawn (screenshots, tests)."""
        worker = self.worker
        if worker is None:
            return True
        marker = worker.submit(lambda: None)
        ok = process_events_until(marker.done, timeout)
        QApplication.instance().processEvents()     # the frames queued before the marker
        self._draw_now()
        return ok

    def _draw_now(self):
        self._draw_timer.stop()
        if self._pending is not None:
            self._draw()
        self.plots.refresh_all(self._mirror, self._outputs)
        # The network view coalesces snapshots on its own timer (≤ 30 a second).
        process_events_until(lambda: False, 0.1)

    # -- frames --------------------------------------------------------------------------
    def _on_frame(self, frame):
        if frame.run_id != self._run_id:
            return                          # from a worker already replaced
        self.network_view.prime_scales(frame.snapshot)     # a run's first frame fixes them
        self._mirror.apply(frame)
        if frame.outputs is not None:
            self._outputs = frame.outputs
        self.plots.mark_dirty(frame.outputs is not None)
        self._pending = frame
        self._schedule_draw()

    def _schedule_draw(self):
        if not self._draw_timer.isActive():
            wait = max(0.0, FRAME_SECONDS - (time.perf_counter() - self._last_draw))
            self._draw_timer.start(int(wait * 1000))

    def _draw(self):
        now = self._last_draw = time.perf_counter()
        frame, self._pending = self._pending, None
        if frame is not None:
            self._frame = frame
            self._show_status(frame)
            self.network_view.set_snapshot(frame.snapshot)
            self.network_view.set_editing_enabled(not frame.playing)
            self._update_play_action(frame.playing)
        if now - self._last_plot >= PLOT_SECONDS and self.plots.has_dirty():
            self._last_plot = now
            self.plots.refresh_next(self._mirror, self._outputs)
        if self.plots.has_dirty() or self._pending is not None:
            self._schedule_draw()

    def _show_status(self, frame):
        s = frame.snapshot
        text = f"Epoch {s.epoch}"
        if s.batch_in_epoch:
            text += f" (+{s.batch_in_epoch} batch{'es' if s.batch_in_epoch > 1 else ''})"
        self.epoch_label.setText(text)
        self.loss_label.setText(f"loss {frame.loss_now:.6g}")   # E at the weights drawn
        self.speed_label.setText(f"{frame.epochs_per_second:,.0f} epochs/s" if frame.playing else "paused")
        self.banner.setText(frame.banner or "")
        self.banner.setVisible(bool(frame.banner))

    def status_text(self) -> str:
        """What the status bar says, e.g. "Epoch 120 · loss 0.5123 · paused"."""
        parts = [self.epoch_label.text(), self.loss_label.text(), self.speed_label.text()]
        if self.banner.isVisible() or self.banner.text():
            parts.append(self.banner.text())
        return " · ".join(p for p in parts if p)

    def show_message(self, text: str, ms: int = 8000):
        """A message beside the epoch and loss for `ms` milliseconds."""
        self.message_label.setText(text)
        self._message_timer.start(ms)

    def message_text(self) -> str:
        return self.message_label.text()

    def last_frame(self):
        return self._pending or self._frame

    # -- editing weights -----------------------------------------------------------------
    def _weight_clicked(self, index: int):
        if self.is_playing() or self._frame is None:
            return
        current = self._frame.snapshot.params[index]
        text, ok = QInputDialog.getText(self, "Edit weight", f"New value for w{index + 1} "
                                        f"(now {current:.6g}):", text=f"{current:.6g}")
        if ok:
            self.edit_weight(index, text)

    def edit_weight(self, index: int, text: str):
        """Set w_{index+1} to the number in `text`; anything else is refused with a message."""
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            self.show_message(f"'{text}' is not a number: w{index + 1} kept")
            return None
        self.pause()
        return self._send(lambda w: w.edit_weight(index, value))

    # -- view options ----------------------------------------------------------------------
    def set_colour_mode(self, mode: str):
        self.network_view.set_colour_mode(mode)
        self.colour_buttons[mode].setChecked(True)

    def set_presentation(self, on: bool):
        """F11: full screen, large fonts; the network, the loss, the outputs and the plot
        the scenario's diagnosis is read from (if it is not the loss) stay."""
        on = bool(on)
        if on == self._presenting:
            return
        self._presenting = on
        self.presentation_action.setChecked(on)
        if on:
            self._before_presenting = (self.plots.isHidden(), self.isFullScreen(),
                                       None if self.side.isHidden() else self.top.sizes(),
                                       self.centre.sizes())
            diagnostic = self.plots.diagnostic(self.scenario.diagnostic_plot)
            # A failure scenario keeps its verdict and Remedy button in front of the class
            # (the narrative text is for reading at the desk); other scenarios lose the panel.
            n = self.narrative
            self._compact_narrative = n.has_metric() and not n.isHidden()
            story = [n.text, n.range_button] if self._compact_narrative else [n]
            self.put_away("presentation", [self.controls_dock] + story +
                          ([self.plots] if diagnostic is None else []))
            if diagnostic is not None:
                self.plots.show_only(diagnostic)
                self.plots.show()
            self.showFullScreen()
            if not self.side.isHidden():
                width = sum(self.top.sizes())
                self.top.setSizes([int(0.62 * width), width - int(0.62 * width)])   # the network first
            if diagnostic is not None:      # tall enough for its axis labels at presentation size
                height = sum(self.centre.sizes())
                self.centre.setSizes([height - int(0.3 * height), int(0.3 * height)])
        else:
            if self._compact_narrative:
                self.narrative.setMaximumHeight(UNLIMITED)
            plots_hidden, full, top, centre = self._before_presenting
            self.bring_back("presentation")
            self.plots.show_only(None)
            if plots_hidden:
                self.plots.hide()
            if top is not None and not self.side.isHidden():    # (lecture mode may hide it)
                self.top.setSizes(top)
            if min(centre) > 0 and not self.plots.isHidden():
                self.centre.setSizes(centre)
            if not full:
                self.showNormal()
        self._apply_font_scale()
        if on and self._compact_narrative:
            # Only the buttons and the verdict: the loss and the outputs get the rest.
            self.narrative.setMaximumHeight(self.narrative.layout().sizeHint().height())

    def put_away(self, mode: str, parts):
        """Hide `parts` while `mode` ("presentation", "lecture") is on.  Modes overlap in
        any order: a part comes back only when no mode holds it any more, and only if it
        was shown when the first of them put it away."""
        for part in parts:
            if not self._holding(part):
                self._shown_before_modes[part] = not part.isHidden()
            part.hide()
        self._put_away[mode] = self._put_away.get(mode, []) + [p for p in parts if p not in self._put_away.get(mode, [])]

    def bring_back(self, mode: str):
        """Undo put_away(mode) for the parts no other mode holds."""
        for part in self._put_away.pop(mode, []):
            if not self._holding(part) and self._shown_before_modes.pop(part, False):
                part.show()

    def _holding(self, part) -> bool:
        return any(part in parts for parts in self._put_away.values())

    def is_presenting(self) -> bool:
        return self._presenting

    def zoom_in(self):
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self):
        self.set_zoom(self._zoom / ZOOM_STEP)

    def set_zoom(self, zoom: float):
        self._zoom = min(max(zoom, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        self.settings.setValue("view/zoom", self._zoom)
        self._apply_font_scale()

    def font_scale(self) -> float:
        return self._zoom * (PRESENTATION_SCALE if self._presenting else 1.0)

    def _apply_font_scale(self):
        scale = self.font_scale()
        font = QFont(self._base_font)
        font.setPointSizeF(self._base_font.pointSizeF() * scale)
        self.setFont(font)
        scaled_style.apply_scale(scale)     # check boxes, sliders, icons
        # A widget with a style sheet of its own (the diverged banner, the verdict badge)
        # keeps the font it had when the sheet was set: give it the new size directly.
        for widget in self.findChildren(QWidget):
            if widget.styleSheet():
                styled = QFont(widget.font())
                styled.setPointSizeF(font.pointSizeF())
                widget.setFont(styled)
        self.network_view.set_font_scale(scale)
        self.plots.set_font_scale(scale)
        self.font_scale_changed.emit(scale)

    # -- settings ------------------------------------------------------------------------
    def _restore_settings(self):
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1440, 900)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        for key, splitter in (("top", self.top), ("side", self.side), ("centre", self.centre)):
            value = s.value(f"window/splitter_{key}")
            if value is not None:
                splitter.restoreState(value)
        self.labels_box.setChecked(stored.read(s, "view/show_labels", True))
        self.network_view.set_show_labels(self.labels_box.isChecked())
        self.loss_plot.set_log_scale(stored.read(s, "view/log_loss", False))
        self.speed.set_index(stored.read(s, "transport/speed", len(SPEEDS) - 1))
        self.granularity.set_granularity(stored.read(s, "transport/granularity", EPOCH))
        self._zoom = min(max(stored.read(s, "view/zoom", 1.0), ZOOM_RANGE[0]), ZOOM_RANGE[1])

    def _save_settings(self):
        s = self.settings
        if not self._presenting:
            s.setValue("window/geometry", self.saveGeometry())
            s.setValue("window/state", self.saveState())
        for key, splitter in (("top", self.top), ("side", self.side), ("centre", self.centre)):
            s.setValue(f"window/splitter_{key}", splitter.saveState())
        s.setValue("view/show_labels", self.labels_box.isChecked())
        s.setValue("view/log_loss", self.loss_plot.is_log_scale())
        s.setValue("transport/speed", self.speed.slider.value())
        s.setValue("transport/granularity", self.granularity.granularity())
        s.setValue("view/zoom", self._zoom)
        s.sync()

    # -- Qt events -------------------------------------------------------------------------
    def closeEvent(self, event):
        # The user closing the window asks about unsaved training; close() from code does not.
        if event.spontaneous() and not self.sessions.close_requested():
            event.ignore()
            return
        self._save_settings()
        self._draw_timer.stop()
        self.csv.shutdown()                 # a CSV still loading, before the training thread
        self._stop_training()
        self.sessions.closed()              # a clean quit leaves no recovery copy
        scaled_style.apply_scale(1.0)       # the style is the application's, not the window's
        super().closeEvent(event)

    def event(self, event):
        if event.type() == QEvent.WindowStateChange and self._presenting and not self.isFullScreen():
            self.set_presentation(False)    # left full screen by other means (Esc, the WM)
        return super().event(event)


def _choice_of(network: Network, loss: str) -> NetworkChoice:
    return NetworkChoice(hidden=tuple(network.sizes[1:-1]), activations=tuple(network.activation_names),
                         init=network.init, loss=loss, seed=int(network.seed))
