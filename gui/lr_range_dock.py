"""The learning-rate range test in the window: pause, sweep η on the training thread
(core.lr_range.lr_range_test, which puts the Trainer back exactly as it was), draw the
curve in a dock (gui/lr_range_view.py), and "Use η = …" trains on at the suggested rate.

The sweep takes ~100 optimiser steps, so it runs as a worker command like any other: the
GUI thread never touches the Trainer and stays responsive while it runs.  Its result
comes back through a queued signal.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from core.lr_range import lr_range_test

from .lr_range_view import LRRangeView

DOCK_SIZE = (560, 420)


class LRRangeTool(QObject):
    _finished = Signal(object, object)      # (run id, Future), from the training thread

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = LRRangeView()
        self.view.rate_chosen.connect(self.use_rate)
        self.dock = QDockWidget("Learning-rate range test", window)
        self.dock.setObjectName("lr_range")
        self.dock.setWidget(self.view)
        window.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.setFloating(True)
        self.dock.hide()
        self.action = QAction("Learning-rate range test…", window)
        self.action.setToolTip("Sweep η from 1e-6 to 10 from the current weights, plot the loss "
                               "against η and suggest a rate; the weights are put back")
        self.action.triggered.connect(self.run)
        window.training_menu.addAction(self.action)
        window.narrative.range_test_requested.connect(self.run)
        self._finished.connect(self._show, Qt.QueuedConnection)
        window.font_scale_changed.connect(self.view.set_font_scale)
        self.running = False

    def run(self):
        """Pause and sweep from the current weights; returns the worker's Future (its
        result is the LRRangeResult), or None if a sweep is already running."""
        window, worker = self.window, self.window.worker
        frame = window.last_frame()
        if worker is None or frame is None or self.running:
            return None
        window.pause()
        self.running = True
        self.action.setEnabled(False)
        self.view.clear()
        self.view.caption.setText("Sweeping η from 10⁻⁶ to 10, one step per rate, "
                                  "from the current weights …")
        self._show_dock()
        future = worker.with_trainer(lr_range_test)
        run_id = frame.run_id
        future.add_done_callback(lambda f: self._finished.emit(run_id, f))
        return future

    def _show_dock(self):
        if self.dock.isFloating():
            frame = self.window.frameGeometry()
            self.dock.resize(*DOCK_SIZE)
            self.dock.move(frame.right() - DOCK_SIZE[0] - 40, frame.top() + 120)
        self.view.set_font_scale(self.window.font_scale())
        self.dock.show()
        self.dock.raise_()

    def _show(self, run_id, future):
        self.running = False
        self.action.setEnabled(True)
        frame = self.window.last_frame()
        if frame is None or frame.run_id != run_id:
            self.view.caption.setText("The network changed while the test ran: run it again.")
        elif future.exception() is not None:
            self.view.caption.setText(f"The range test could not run: {future.exception()}")
        else:
            self.view.show_result(future.result())

    def use_rate(self, rate: float):
        self.window.set_learning_rate(rate)
        self.window.show_message(f"learning rate η = {rate:.3g} (from the range test)")
