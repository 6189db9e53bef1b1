"""The training thread: a worker on a QThread runs the Trainer in short slices and hands
the window immutable Frames (a Snapshot plus the history points since the last frame) at
most ~30 times a second.  The window draws the newest frame and drops the rest.

The GIL convoy (DESIGN.md) is what shapes this module.  Training a 2-5-1 network is
Python-bound, so a worker holds the GIL nearly all the time; every Qt call the GUI thread
makes releases the GIL and must win it back, and against a busy worker each win costs a
switch interval: a naive worker stalled the GUI thread for 700 ms.  Sleeping in the worker
only trades stall for speed.  Here the GUI thread has priority instead: the application
brackets every event it handles with GuiPriority (gui/app.py), and while the GUI thread is
inside an event the worker parks at its next checkpoint, at most one short batch
(~0.5 ms) later, so the GUI's Qt calls run uncontended.  As soon as the GUI goes back to
waiting for events, the worker carries on.  Training thus gets all the time the GUI does
not use, and the GUI never waits more than one batch.

The worker's loop has no event loop, so slots into it would never run (superqt's
GeneratorWorker): play / pause / stop are threading.Events, and everything else (step,
step back, reset, a new learning rate, an edited weight) is a command in a thread-safe
queue, run between slices.  Only the worker thread touches the Trainer.
"""
from __future__ import annotations

import atexit
import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from core.csv_dataset import confusion_matrix
from core.headless import default_log_every
from core.history import LOG_FIELDS

SLICE_SECONDS = 0.005        # training between looks at the command queue
BATCH_SECONDS = 0.0005       # training between checkpoints (the GUI's longest wait)
FRAME_SECONDS = 1 / 30       # frames are published at most this often ...
OUTPUT_SECONDS = 1 / 10      # ... and predictions for the output panel at most this often
GUI_WAIT_SECONDS = 0.1       # a worker waits at most this long for a busy GUI, then runs a batch
PARK_WAIT_SECONDS = 0.02     # the GUI waits at most this long for the worker to park
REWIND_STEPS = 500           # states kept for step back (at least 200 on big networks)
REWIND_BYTES = 256 << 20
OUTPUT_SAMPLES = 2000        # predictions shown for at most this many samples
CONFUSION_SAMPLES = 20000    # rows a classifier's confusion matrices count, per set
GRID = 64                    # decision-boundary grid (GRID × GRID points)
EARLY_EPOCHS = 100           # played flat out, every epoch up to here is logged

EPOCH, BATCH, SAMPLE = "epoch", "batch", "sample"
GRANULARITIES = (EPOCH, BATCH, SAMPLE)


class GuiPriority:
    """The GUI thread's claim on the interpreter.

    GUI thread: gui_enter() / gui_exit() around handling an event (nesting allowed).
    Worker thread: `with priority.running():` around training, calling checkpoint()
    between short batches.  Outside `running` the worker counts as parked."""

    def __init__(self):
        self._gui_idle = threading.Event()
        self._gui_idle.set()
        self._parked = threading.Event()
        self._parked.set()
        self._depth = 0
        self._entered = 0.0
        self.busy_seconds = 0.0         # time the GUI held priority (for the benchmark)

    # -- GUI thread ------------------------------------------------------------------
    def gui_enter(self):
        self._depth += 1
        if self._depth == 1:
            self._entered = time.perf_counter()
            self._gui_idle.clear()
            self._parked.wait(PARK_WAIT_SECONDS)

    def gui_exit(self):
        # The depth drops only after set(): an event sent from inside set() — a QObject the
        # garbage collector frees there sends its parent ChildRemoved at once — then nests,
        # instead of clearing the Event under the lock set() holds (a deadlock).
        if self._depth == 1:
            self._gui_idle.set()
            self.busy_seconds += time.perf_counter() - self._entered
        self._depth -= 1

    def __enter__(self):
        self.gui_enter()
        return self

    def __exit__(self, *exc):
        self.gui_exit()

    # -- worker thread ---------------------------------------------------------------
    def running(self):
        return _Running(self)

    def checkpoint(self, should_stop=None):
        # Mark "running" before looking at the GUI's flag: a GUI that starts an event
        # after the look then sees the worker running and waits one batch for it.
        while not self._gui_idle.is_set():
            self._parked.set()
            deadline = time.monotonic() + GUI_WAIT_SECONDS
            while not self._gui_idle.wait(0.01):
                if (should_stop is not None and should_stop()) or time.monotonic() > deadline:
                    self._parked.clear()
                    return
            self._parked.clear()


class _Running:
    def __init__(self, priority: GuiPriority):
        self.priority = priority

    def __enter__(self):
        self.priority._parked.clear()
        self.priority.checkpoint()

    def __exit__(self, *exc):
        self.priority._parked.set()


@dataclass(frozen=True)
class Outputs:
    """Network outputs for the output panel, in the data's original units."""
    predicted: np.ndarray               # (n, K) for the first OUTPUT_SAMPLES training samples
    predicted_test: np.ndarray | None
    grid: np.ndarray | None             # (GRID, GRID, K) β over the input plane (2-D inputs)
    # Classification: counts[actual, predicted] on the first CONFUSION_SAMPLES rows.
    confusion: np.ndarray | None = None
    confusion_test: np.ndarray | None = None


@dataclass(frozen=True)
class Frame:
    run_id: int
    snapshot: object                    # core.trainer.Snapshot
    loss_from: int                      # position in the loss series where these points go
    loss_epochs: np.ndarray
    loss_values: np.ndarray
    log_from: int
    log_epochs: np.ndarray
    logs: dict                          # LOG_FIELDS → array (new logged epochs[, layers])
    outputs: Outputs | None             # None: unchanged since the last frame that had them
    loss_now: float                     # before any step: E at the initial weights
    playing: bool
    epochs_per_second: float
    rewind_depth: int
    learning_rate: float
    batch_size: int
    banner: str | None                  # why training stopped (divergence), else None


class OutputProbe:
    """What the output panel needs from the network, evaluated on the worker thread."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.X = dataset.X[:OUTPUT_SAMPLES]
        Xt = dataset.X_test
        self.X_test = None if Xt is None or not len(Xt) else Xt[:OUTPUT_SAMPLES]
        self.grid_points = self.grid_axes = None
        if dataset.task == "classification" and dataset.X.shape[1] == 2:
            self.grid_axes = grid_axes(dataset.X)
            gx, gy = np.meshgrid(*self.grid_axes)
            self.grid_points = np.c_[gx.ravel(), gy.ravel()]
        self.counted = []                   # (X, class indices) per set, for the confusion matrices
        if dataset.task == "classification":
            for X, Y in ((dataset.X, dataset.Y), (Xt, dataset.Y_test)):
                if X is not None and len(X):
                    self.counted.append((X[:CONFUSION_SAMPLES], Y[:CONFUSION_SAMPLES]))

    def evaluate(self, net) -> Outputs:
        with np.errstate(over="ignore", invalid="ignore"):
            predicted = self._original(net.predict(self.X))
            test = None if self.X_test is None else self._original(net.predict(self.X_test))
            grid = None
            if self.grid_points is not None:
                grid = net.predict(self.grid_points).reshape(GRID, GRID, -1)
            counts = [confusion_matrix(net.predict(X), Y, len(self.dataset.classes)) for X, Y in self.counted]
        return Outputs(predicted, test, grid, *counts)

    def _original(self, y):
        return self.dataset.y_to_original(y) if self.dataset.task == "regression" else y


def grid_axes(X) -> tuple[np.ndarray, np.ndarray]:
    """The decision-boundary grid's x and y coordinates: the data's range plus a margin."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    return (np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID),
            np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID))


def _nice_log_every(epochs_per_second: float, epoch: int) -> int:
    """Every epoch for the first EARLY_EPOCHS (where vanishing and exploding gradients
    show), then diagnostics ~50 times a second at most: 1, 10, 100, ... epochs apart."""
    if epochs_per_second <= 50 or epoch < EARLY_EPOCHS:
        return 1
    return 10 ** math.ceil(math.log10(epochs_per_second / 50))


class TrainingWorker(QObject):
    frame_ready = Signal(object)
    notice = Signal(str)                # a refused command or a step back with nothing kept
    finished = Signal()

    def __init__(self, trainer, probe: OutputProbe, priority: GuiPriority, run_id: int = 0):
        super().__init__()
        self._trainer = trainer
        self._probe = probe
        self._priority = priority
        self.run_id = run_id
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._playing = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # Worker-thread state from here on.
        self._initial = trainer.state()
        state_bytes = 4 * trainer.net.params.nbytes + 8 * trainer.n    # + the sample order
        self._rewind = deque(maxlen=max(200, min(REWIND_STEPS, REWIND_BYTES // state_bytes)))
        self._needs_push = True
        self._slice_start = self._initial
        self._speed = None                  # steps per second; None = as fast as possible
        self._granularity = EPOCH
        self._user_batch_size = trainer.config.batch_size
        self._sample = 0
        self._banner = None
        self._units = 1                     # units per batch at full speed (adapted)
        self._rate_start = (0.0, 0)
        self._sent_loss = (0, 1)            # (points sent, series stride when sent)
        self._sent_logs = 0
        self._last_frame = -1.0
        self._frame_interval = FRAME_SECONDS
        self._last_outputs = -1.0
        self._dirty = False
        self._shown_playing = False         # what the last frame told the window
        self._eps = 0.0
        self._eps_mark = (time.perf_counter(), trainer.epoch)

    # -- controls: safe from any thread ------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing.is_set()

    def play(self):
        self._playing.set()
        self._wake.set()

    def pause(self):
        self._playing.clear()
        self._wake.set()

    def stop(self):
        self._stop.set()
        self._playing.clear()
        self._wake.set()

    def submit(self, command) -> Future:
        """Run command() on the worker thread between slices; the Future gets its result
        (or its exception, e.g. a ConfigError for a bad setting)."""
        future = Future()
        self._commands.put((command, future))
        self._wake.set()
        return future

    def step(self) -> Future:
        self.pause()
        return self.submit(self._step)

    def step_back(self) -> Future:
        self.pause()
        return self.submit(self._step_back)

    def reset(self) -> Future:
        self.pause()
        return self.submit(self._reset)

    def run_epochs(self, epochs: int) -> Future:
        """Train `epochs` epochs in one go (e.g. before a screenshot)."""
        self.pause()
        return self.submit(lambda: self._run_epochs(epochs))

    def set_speed(self, steps_per_second) -> Future:
        return self.submit(lambda: self._set_speed(steps_per_second))

    def set_granularity(self, unit: str) -> Future:
        if unit not in GRANULARITIES:
            raise ValueError(f"step granularity must be one of {GRANULARITIES}, not {unit!r}")
        return self.submit(lambda: self._set_granularity(unit))

    def set_sample(self, sample: int) -> Future:
        return self.submit(lambda: self._set_sample(sample))

    def set_learning_rate(self, lr: float) -> Future:
        return self._setting(lambda t: t.set_learning_rate(lr))

    def set_l2(self, l2: float) -> Future:
        return self._setting(lambda t: t.set_l2(l2))

    def set_clip(self, clip) -> Future:
        return self._setting(lambda t: t.set_clip(clip))

    def set_optimizer(self, config) -> Future:
        return self._setting(lambda t: t.set_optimizer(config))

    def set_batch_size(self, batch_size) -> Future:
        return self.submit(lambda: self._set_batch_size(batch_size))

    def edit_weight(self, index: int, value: float) -> Future:
        return self.submit(lambda: self._edit_weight(index, value))

    def with_trainer(self, command) -> Future:
        """Run command(trainer) on the worker thread, for code that drives the Trainer
        itself (lecture mode's PhaseStepper).  A step it takes is kept for step back like
        any other and published; a step it undoes leaves the step-back history too."""
        def run():
            t = self._trainer
            before = t.state()
            result = command(t)
            if t.steps != before.steps:
                if t.steps > before.steps:
                    self._rewind.append(before)
                elif self._rewind and self._rewind[-1].steps == t.steps:
                    self._rewind.pop()
                self._publish()
            return result
        return self.submit(run)

    def _setting(self, change) -> Future:
        def apply():
            change(self._trainer)
            self._publish()
        return self.submit(apply)

    # -- the loop (worker thread) ------------------------------------------------------
    def work(self):
        try:
            with self._priority.running():
                self._publish()
            while not self._stopping():
                self._wake.clear()
                self._run_commands()
                if self._playing.is_set():
                    self._play_a_slice()
                else:
                    now = time.perf_counter()
                    self._eps_mark = (now, self._trainer.epoch)
                    if self._speed:             # the first step comes as soon as play is pressed
                        self._rate_start = (now - 1 / self._speed, 0)
                    # Publish what was trained and not yet shown, and in any case once
                    # after a pause: the window must learn that play stopped (at a set
                    # speed every step was already shown, so nothing else would tell it).
                    if self._dirty or self._shown_playing:
                        with self._priority.running():
                            self._publish()
                    self._wake.wait(0.25)
        finally:
            self._fail_pending_commands()
            self.finished.emit()

    def _stopping(self) -> bool:
        return self._stop.is_set() or QThread.currentThread().isInterruptionRequested()

    def _run_commands(self):
        while True:
            try:
                command, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with self._priority.running():
                    result = command()
            except Exception as e:          # handed to whoever waits on the future
                future.set_exception(e)
                self.notice.emit(str(e))
            else:
                future.set_result(result)

    def _fail_pending_commands(self):
        while True:
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the training thread has stopped"))

    def _play_a_slice(self):
        if self._speed is None:
            with self._priority.running():
                self._train_flat_out()
        else:
            self._train_at_rate()
        if self._trainer.diverged:
            with self._priority.running():
                self._stop_at_last_finite_state()
        now = time.perf_counter()
        self._measure_speed(now)
        if self._dirty and now - self._last_frame >= self._frame_interval:
            with self._priority.running():
                self._publish()

    def _train_flat_out(self):
        t = self._trainer
        before = self._before_advancing()
        if t.log_every == 1:                # just started: guess until measured
            t.log_every = _nice_log_every(self._eps or 5000, t.epoch)
        deadline = time.perf_counter() + SLICE_SECONDS
        priority = self._priority
        while not t.diverged:
            t0 = time.perf_counter()
            self._run_units(self._units)
            elapsed = time.perf_counter() - t0
            # As many units as fit in BATCH_SECONDS, growing at most twofold at a time.
            self._units = max(1, min(2 * self._units, int(self._units * BATCH_SECONDS / max(elapsed, 1e-7))))
            self._dirty = True
            if time.perf_counter() >= deadline or self._stop.is_set():
                break
            priority.checkpoint(self._stop.is_set)
        self._slice_start = before

    def _run_units(self, count: int):
        t = self._trainer
        if t.batches_per_epoch == 1 and t.batch_in_epoch == 0:
            t.run_epochs(count)             # the lecture's full-batch loop, fastest path
        else:
            t.run_batches(count)

    def _train_at_rate(self):
        now = time.perf_counter()
        start, done = self._rate_start
        due = int((now - start) * self._speed) - done
        if due <= 0:
            self._wake.wait(min(0.25, (done + 1) / self._speed - (now - start)))
            return
        if due > max(2, self._speed):       # fell far behind (a long pause in the GUI): drop the debt
            self._rate_start = (now - 1 / self._speed, 0)
            due = 1
        deadline = now + SLICE_SECONDS
        with self._priority.running():
            before = self._before_advancing()
            for _ in range(due):
                self._step_unit()
                self._rate_start = (self._rate_start[0], self._rate_start[1] + 1)
                self._dirty = True
                if self._trainer.diverged or time.perf_counter() > deadline:
                    break
                self._priority.checkpoint(self._stop.is_set)
        self._slice_start = before

    def _step_unit(self):
        if self._granularity == EPOCH:
            self._trainer.run_epochs(1)
        else:
            self._trainer.run_batches(1)

    def _before_advancing(self):
        """Remember the shown state for step back (once per shown frame) and return the
        state to replay from should this stretch of training diverge."""
        state = self._trainer.state()
        if self._needs_push:
            self._rewind.append(state)
            self._needs_push = False
        if self._banner:
            self._banner = None
        return state

    def _stop_at_last_finite_state(self):
        """Replay the slice from its start one unit at a time and stop just before the
        step that diverged: the drawing then shows the last finite state, with its
        gradients and last update (no NaN reaches the view), and training is paused."""
        t = self._trainer
        epoch, reason = t.diverged_epoch, t.diverged_reason
        t.restore(self._slice_start)
        # Log every replayed epoch: a run that blows up within a few epochs of a slice
        # (exploding gradients) would otherwise leave its plots a single point.
        t.log_every = 1
        earlier = None
        while True:
            state = t.state()
            self._run_units(1)
            if t.diverged:
                t.restore(state)
                break
            earlier = state
            self._priority.checkpoint()
        # A step that made the loss infinite started from weights that are finite yet
        # overflow the forward pass (α, β, the outputs): one state further back, then.
        if earlier is not None and not self._forward_is_finite():
            t.restore(earlier)
        self._playing.clear()
        self._banner = (f"diverged at epoch {epoch}: {reason} — "
                        "try a lower learning rate or clipping")
        self._dirty = True
        self._publish()

    def _forward_is_finite(self) -> bool:
        t = self._trainer
        with np.errstate(all="ignore"):
            loss, betas = t.evaluate(t.X, t.Y)
            return math.isfinite(loss) and all(np.isfinite(b).all() for b in betas)

    def _measure_speed(self, now: float):
        t0, e0 = self._eps_mark
        if now - t0 >= 0.5:
            self._eps = max(0.0, (self._trainer.epoch - e0) / (now - t0))
            self._eps_mark = (now, self._trainer.epoch)
            if self._speed is None:
                self._trainer.log_every = _nice_log_every(self._eps, self._trainer.epoch)

    # -- commands (worker thread) ------------------------------------------------------
    def _step(self):
        self._slice_start = self._before_advancing()
        self._trainer.log_every = 1
        self._step_unit()
        if self._trainer.diverged:
            self._stop_at_last_finite_state()
        else:
            self._publish()

    def _run_epochs(self, epochs: int):
        self._slice_start = self._before_advancing()
        self._trainer.log_every = default_log_every(epochs)
        self._trainer.run_epochs(epochs, should_stop=self._stop.is_set)
        if self._trainer.diverged:
            self._stop_at_last_finite_state()
        else:
            self._publish()
        return self._trainer.epoch

    def _step_back(self) -> bool:
        if not self._rewind:
            self.notice.emit("nothing to step back to: this is the oldest state kept")
            return False
        self._restore(self._rewind.pop())
        return True

    def _reset(self):
        self._rewind.clear()
        self._restore(self._initial)

    def _restore(self, state):
        self._trainer.restore(state)
        self._banner = None
        self._eps_mark = (time.perf_counter(), self._trainer.epoch)
        self._needs_push = True
        self._publish()

    def _set_speed(self, steps_per_second):
        self._speed = None if steps_per_second is None else float(steps_per_second)
        self._rate_start = (time.perf_counter(), 0)
        if self._speed is not None:
            self._trainer.log_every = 1

    def _set_granularity(self, unit: str):
        self._granularity = unit
        # A sample step is one optimiser step on one sample: train with batch size 1
        # (from the next epoch boundary if an epoch of bigger batches is half done).
        self._trainer.set_batch_size(1 if unit == SAMPLE else self._user_batch_size)
        self._publish()

    def _set_batch_size(self, batch_size):
        self._user_batch_size = batch_size
        if self._granularity != SAMPLE:
            self._trainer.set_batch_size(batch_size)
        self._publish()

    def _set_sample(self, sample: int):
        self._sample = int(sample)
        self._publish()

    def _edit_weight(self, index: int, value: float):
        t = self._trainer
        if not 0 <= index < t.net.n_params or not math.isfinite(value):
            raise ValueError(f"cannot set w{index + 1} to {value!r}")
        self._before_advancing()
        params = t.net.params.copy()
        params[index] = value
        t.net.set_params(params)
        self._publish()

    # -- frames ------------------------------------------------------------------------
    def _publish(self):
        t = self._trainer
        now = time.perf_counter()
        series = t.history.loss
        sent, stride = self._sent_loss
        start = 0 if series.stride != stride else min(sent, len(series))
        loss_epochs, loss_values = series.arrays(start)
        self._sent_loss = (len(series), series.stride)
        h = t.history
        log_from = min(self._sent_logs, len(h.log_epochs))
        logs = {k: np.array(h.logs[k][log_from:], dtype=float) for k in LOG_FIELDS}
        self._sent_logs = len(h.log_epochs)
        outputs = None
        if now - self._last_outputs >= OUTPUT_SECONDS or not self._playing.is_set():
            outputs = self._probe.evaluate(t.net)
            self._last_outputs = now
        snapshot = t.snapshot(self._sample)
        loss_now = snapshot.loss
        if t.steps == 0:                    # untrained: E at the initial weights
            with np.errstate(over="ignore", invalid="ignore"):
                loss_now = float(t.evaluate(t.X, t.Y)[0])
        frame = Frame(
            run_id=self.run_id, snapshot=snapshot, loss_from=start, loss_epochs=loss_epochs,
            loss_values=loss_values, log_from=log_from,
            log_epochs=np.array(h.log_epochs[log_from:], dtype=np.int64), logs=logs,
            outputs=outputs, loss_now=loss_now, playing=self._playing.is_set(),
            epochs_per_second=self._eps if self._playing.is_set() else 0.0,
            rewind_depth=len(self._rewind), learning_rate=t.config.optimizer.lr,
            batch_size=t.batch_size, banner=self._banner)
        self._last_frame = now
        # A big network's snapshot (diagnostics on up to 4096 samples) is not free: keep
        # publishing under a fifth of the worker's time.
        self._frame_interval = max(FRAME_SECONDS, 5 * (time.perf_counter() - now))
        self._dirty = False
        self._shown_playing = frame.playing
        self._needs_push = True
        self.frame_ready.emit(frame)


class TrainingThread:
    """A worker and the QThread it runs on: started on creation, stopped by shutdown()
    (DESIGN.md: requestInterruption → stop flag → quit → wait)."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.work)
        worker.finished.connect(self.thread.quit)
        self.thread.start()
        # A QThread destroyed while running aborts the process: stop it even if the
        # program ends without closing the window (an exception in a script, a test).
        atexit.register(self.shutdown)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        atexit.unregister(self.shutdown)
        self.worker.stop()
        self.thread.requestInterruption()
        self.thread.quit()
        return self.thread.wait(timeout_ms)

    def is_running(self) -> bool:
        return self.thread.isRunning()


class _Column:
    """A growing float array (amortised appends; truncation for step back)."""

    def __init__(self, width: int | None = None, dtype=float):
        shape = (256,) if width is None else (256, width)
        self.data = np.empty(shape, dtype)
        self.n = 0

    def put(self, start: int, values: np.ndarray):
        start = min(start, self.n)
        end = start + len(values)
        if end > len(self.data):
            grown = np.empty((max(end, 2 * len(self.data)),) + self.data.shape[1:], self.data.dtype)
            grown[:start] = self.data[:start]
            self.data = grown
        if len(values):
            self.data[start:end] = values
        self.n = end

    def view(self) -> np.ndarray:
        return self.data[:self.n]


class HistoryMirror:
    """The GUI thread's copy of the trainer's history, fed by Frames."""

    def __init__(self, n_layers: int):
        self.loss_epochs = _Column(dtype=np.int64)
        self.loss = _Column()
        self.log_epochs = _Column(dtype=np.int64)
        self.logs = {k: _Column(None if k in ("loss", "test_loss") else n_layers) for k in LOG_FIELDS}

    def apply(self, frame: Frame):
        self.loss_epochs.put(frame.loss_from, frame.loss_epochs)
        self.loss.put(frame.loss_from, frame.loss_values)
        self.log_epochs.put(frame.log_from, frame.log_epochs)
        for k, column in self.logs.items():
            column.put(frame.log_from, frame.logs[k])
