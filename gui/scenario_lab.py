"""The failure scenarios in the window: one toggle reruns a scenario with or without its
remedy from the same initial weights (the loss plot keeps the run before as a ghost), the
scenario's metric is measured on the worker while it trains, and the plot and colours
its diagnosis is read from are put in front when it loads.

The metric (core.metrics.measure) reads the Trainer, so it runs on the training thread
(worker.with_trainer), never on the GUI thread: at most every METRIC_SECONDS, only for a
frame not yet measured, and spaced so that it takes at most METRIC_SHARE of the worker's
time (noisy-minibatches trains a full-batch twin as long as the run, which grows).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from core.errors import BackpropLabError
from core.metrics import METRICS, measure

from .app import process_events_until

METRIC_SECONDS = 0.5            # a new measurement at most this often ...
METRIC_SHARE = 0.1              # ... and no more of the worker's time than this
POLL_MS = 200


def _measured(name: str):
    """The command the worker runs: (metric, epoch it was measured at, seconds it took)."""
    def command(trainer):
        start = time.perf_counter()
        metric = measure(name, trainer)
        return metric, trainer.epoch, time.perf_counter() - start
    return command


class ScenarioLab(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = window.narrative
        self.remedy_action = QAction("Remedy: rerun with the scenario's fix", window, checkable=True)
        self.remedy_action.setToolTip("Apply or remove the scenario's remedy and rerun from the "
                                      "same initial weights; the run before stays as a ghost")
        self.remedy_action.toggled.connect(self.set_remedy)
        self.panel.remedy_toggled.connect(self.set_remedy)
        window.training_menu.addSeparator()
        window.training_menu.addAction(self.remedy_action)
        self._busy = False
        self._metric_name = None
        self._pending = None            # (run id, Future) of a measurement on the worker
        self._measured_frame = None
        self._next_measurement = 0.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)

    # -- a scenario loads ------------------------------------------------------------------
    def scenario_loaded(self, scenario):
        """Called by the window once a scenario's run has started."""
        self._metric_name = scenario.name if scenario.name in METRICS else None
        self._pending = self._measured_frame = None
        self._next_measurement = 0.0
        if self._metric_name is None:
            self._timer.stop()          # nothing to measure: no wake-ups either
        else:
            self._timer.start(POLL_MS)
        self.panel.show_scenario(scenario, has_metric=self._metric_name is not None)
        self._show_remedy_state(scenario)
        if scenario.log_loss is not None:
            self.window.loss_plot.set_log_scale(scenario.log_loss)
        self.window.plots.emphasise(scenario.diagnostic_plot)

    def _show_remedy_state(self, scenario):
        """The menu item and the panel's button say whether this run has the remedy."""
        self.remedy_action.blockSignals(True)
        self.remedy_action.setChecked(scenario.remedy_applied)
        self.remedy_action.blockSignals(False)
        self.remedy_action.setEnabled(scenario.has_remedy)
        self.panel.show_remedy_state(scenario)

    # -- the remedy --------------------------------------------------------------------------
    def set_remedy(self, on: bool, epochs: int | None = None):
        """Rerun the scenario with (on) or without its remedy from the same initial weights.
        The run so far becomes the loss plot's ghost; a run that was playing plays on, a
        paused one is retrained as far as it got (as far as the scenario goes if it
        diverged), or `epochs` epochs if given.  Returns the retraining's Future, or None."""
        window, scenario = self.window, self.window.scenario
        on = bool(on)
        if self._busy:
            return None
        if not scenario.has_remedy or on == scenario.remedy_applied:
            self._show_remedy_state(scenario)
            return None
        self._busy = True
        try:
            playing = window.is_playing()
            window.pause()
            window.wait_until_drawn()
            frame = window.last_frame()
            trained = frame.snapshot.epoch if frame is not None else 0
            diverged = bool(frame is not None and frame.banner)
            before_epochs, before_losses = window.loss_plot.train_curve()
            try:
                window.load_scenario(scenario.name, seed=scenario.seed, remedy=on)
            except BackpropLabError as e:
                window.show_message(f"cannot rerun {scenario.name}: {e}")
                self._show_remedy_state(scenario)
                return None
            if trained:
                label = "without remedy" if on else "with remedy"
                if diverged:                # it leaves the plot within a few epochs: say why
                    label += f" (diverged at epoch {trained})"
                window.loss_plot.set_ghost(before_epochs, before_losses, label)
            if epochs is None and not playing and trained:
                epochs = max(trained, scenario.epochs) if diverged else trained
            if epochs:
                return window.run_epochs(epochs)
            if playing:
                window.play()
            return None
        finally:
            self._busy = False

    # -- the metric --------------------------------------------------------------------------
    def _poll(self):
        window = self.window
        if self._pending is not None:
            self._collect()
            return
        frame, worker = window.last_frame(), window.worker
        if (self._metric_name is None or frame is None or worker is None
                or frame is self._measured_frame or time.monotonic() < self._next_measurement):
            return
        self._measured_frame = frame
        if frame.snapshot.steps == 0:
            self.panel.show_metric(None)
            return
        self._pending = (frame.run_id, worker.with_trainer(_measured(self._metric_name)))

    def _collect(self):
        run_id, future = self._pending
        if not future.done():
            return
        self._pending = None
        frame = self.window.last_frame()
        if future.exception() is not None or frame is None or frame.run_id != run_id:
            return                      # a stopped worker's, or an earlier run's
        metric, epoch, seconds = future.result()
        self.panel.show_metric(metric, epoch)
        self._next_measurement = time.monotonic() + max(METRIC_SECONDS, seconds / METRIC_SHARE)

    def measure_now(self, timeout: float = 10.0) -> bool:
        """Measure the current state and show it (screenshots, tests); False on a timeout."""
        self.window.wait_until_drawn()
        finished = self._finish_pending(timeout)       # one already asked for an older frame
        self._next_measurement = 0.0
        self._measured_frame = None
        self._poll()
        finished = self._finish_pending(timeout) and finished
        process_events_until(lambda: False, 0.05)      # the panel lays out the new sentence
        return finished

    def _finish_pending(self, timeout: float) -> bool:
        finished = process_events_until(lambda: self._pending is None or self._pending[1].done(), timeout)
        if self._pending is not None:
            self._collect()
        return finished
