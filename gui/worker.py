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
import dataclasses
import math
import queue
import threading
import time
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
EXACT_LOSS_ROWS = 20_000      # the status bar's loss: E at the drawn weights up to this size
REWIND_BYTES = 256 << 20     # step back's checkpoints together take at most this much ...
REWIND_CHECKPOINTS = 512     # ... and number at most this many (thinning looks at each)
MIN_CHECKPOINTS = 4          # kept whatever their size: the initial state, an edit's before and after, one
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
    loss_now: float                     # E at the drawn weights (≤ EXACT_LOSS_ROWS samples),
                                        # else the last epoch's loss
    playing: bool
    epochs_per_second: float
    rewind_depth: int                   # states step back can go to (0: it has nothing to go back to)
    learning_rate: float
    batch_size: int
    banner: str | None                  # why training stopped (divergence), else None


@dataclass
class _Checkpoint:
    """A state on the path training took, which step back restores exactly or replays
    forward from.  The path is cut into segments: a segment has no jump in it (a weight
    edit, an exact step back) and one setting of what shapes training (`key`: learning
    rate, L2, clipping, optimiser, batch size, ...), so training from one of its checkpoints
    retraces it bit for bit."""
    state: object                       # core.trainer.TrainerState
    segment: int
    key: tuple
    batch_size: int | None              # the trainer's batch size then, and the one asked
    asked_batch_size: int | None        # for (a change waits for the next epoch)
    nbytes: int


def _state_bytes(state) -> int:
    arrays = (state.params, state.grad, state.order, state.rng[1], *state.optimizer.values())
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def _asked_batch_size(trainer):
    # The Trainer keeps a batch size that waits for the next epoch to itself; read it the
    # way core/export_code.py and core/session.py do.
    return trainer.next_batch_size


def _least_needed(steps: np.ndarray) -> int:
    """Which checkpoint to give up when over budget, given each one's optimiser step count
    (oldest first): the one whose neighbours are closest compared with how long ago they
    were (the gap it would leave, over that gap's age).  The first (the initial state) and
    the newest two (an edit's before and after) are never chosen.  What stays is roughly
    log-spaced: dense just behind the present, sparse far back, so a fixed budget reaches
    ever further back."""
    gap = steps[2:-1] - steps[:-3]
    age = steps[-1] - steps[2:-1] + 1.0
    return 1 + int(np.argmin(gap / age))


def _where(state) -> str:
    return f"epoch {state.epoch}" + (f", batch {state.batch_in_epoch}" if state.batch_in_epoch else "")


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


def _finite_view(snapshot, loss_now: float, outputs) -> bool:
    """Whether a frame would show only finite numbers: the shown sample's α and β, the
    loss, the output panel."""
    arrays = [*snapshot.sample_alphas, *snapshot.sample_betas]
    if outputs is not None:
        arrays += [a for a in (outputs.predicted, outputs.predicted_test, outputs.grid)
                   if a is not None]
    return math.isfinite(loss_now) and all(np.isfinite(a).all() for a in arrays)


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
        # Step back: checkpoints along the path training took, oldest first.  The first,
        # the initial state, stays (Reset goes back to it); the rest are thinned to fit
        # REWIND_BYTES.  Between checkpoints step back replays (training is deterministic).
        self._key = self._trajectory_key()
        self._segment = 0                   # the present segment (see _Checkpoint)
        self._segments = 1                  # segment numbers handed out
        self._checkpoints = [self._checkpoint(self._initial)]
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
        self._settling = False              # no overflow check (settling a divergence; lecture steps)
        self._shown_steps = trainer.steps   # optimiser steps taken when the last frame went
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
        any other and published; a step it undoes leaves the step-back history too;
        weights it sets are undone by step back as an edit is."""
        def run():
            t = self._trainer
            before = self._checkpoint(t.state())
            result = command(t)
            if t.steps > before.state.steps:            # it trained (lecture mode's step)
                self._keep(before)
            elif t.steps < before.state.steps:          # it went back along the path
                self._forget_after_present()
            elif not np.array_equal(t.net.params, before.state.params):
                self._keep(before)                      # it set weights: as an edit does
                self._start_segment()
                self._keep()
            if t.steps != before.state.steps:
                self._settling = True       # its caller (lecture mode) drives the steps
                try:
                    self._publish()
                finally:
                    self._settling = False
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
                    try:
                        result = command()
                    finally:
                        self._follow_settings()
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
        """Keep the shown state for step back (once per shown frame) and return the
        state to replay from should this stretch of training diverge."""
        state = self._trainer.state()
        if self._needs_push:
            self._keep(self._checkpoint(state))
            self._needs_push = False
        if self._banner:
            self._banner = None
        return state

    def _stop_at_last_finite_state(self):
        """Replay the slice from its start one unit at a time and stop just before the
        step that diverged: the drawing then shows the last finite state, with its
        gradients and last update (no NaN reaches the view), and training is paused."""
        self._settling = True
        try:
            self._settle_divergence()
        finally:
            self._settling = False

    def _settle_divergence(self):
        t = self._trainer
        epoch, reason = t.diverged_epoch, t.diverged_reason
        t.restore(self._slice_start)
        self._history_went_back()          # the replay logs more densely than the slice did
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
            if epoch is not None and t.epoch > epoch + 1:
                break       # (a replay that does not diverge again: stop, finite, anyway)
            self._priority.checkpoint()
        # A step that made the loss infinite started from weights that are finite yet
        # overflow the forward pass (α, β, the outputs): one state further back, then.
        if earlier is not None and not self._forward_is_finite():
            t.restore(earlier)
        self._playing.clear()
        if earlier is None and not self._forward_is_finite():
            # The slice began at such weights (the step before it made them): one unit
            # further back through the checkpoints, exactly as Step back goes.
            self._step_back()
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
        """Back one unit of the granularity (an epoch: to the start of this one if it is
        half done, else of the one before; a batch or a sample: one optimiser step), or
        first undo a weight edit made here.  From the newest checkpoint at or before the
        target training is replayed to it; a checkpoint of an earlier segment (the
        settings changed since) is restored as it is, a bigger but still exact jump."""
        t = self._trainer
        self._forget_after_present()
        kept = self._checkpoints
        i = len(kept) - 1
        while i >= 0 and self._is_present(kept[i]):
            i -= 1
        if i < 0:
            self.notice.emit("nothing to step back to: this is the oldest state kept")
            return False
        if kept[i].state.steps == t.steps:      # this step with other weights: an edit
            self._after_going_back(self._go_back_to(i))
            return True
        # Where on the path a state (or the trainer) is, in the unit stepped back by.
        if self._granularity == EPOCH:
            target = (t.epoch, 0) if t.batch_in_epoch else (t.epoch - 1, 0)

            def position(s):
                return (s.epoch, s.batch_in_epoch)
        else:
            target = t.steps - 1

            def position(s):
                return s.steps
        while i > 0 and position(kept[i].state) > target:
            i -= 1
        # Nothing at or before the target (a session opened half-way through an epoch):
        # the oldest state, which is still earlier than the present.
        checkpoint = kept[i]
        replay = checkpoint.segment == self._segment
        asked = self._go_back_to(i)
        if replay:
            self._replay_to(target, position)
        elif position(checkpoint.state) < target:
            self.notice.emit(f"stepped back to {_where(checkpoint.state)}: the settings "
                             "or a weight changed after it")
        self._after_going_back(asked)
        return True

    def _replay_to(self, target, position):
        """Train from a restored checkpoint of the present segment up to `target`, one
        unit at a time, logging every epoch (the plots get every point back).  On the way
        it keeps the states 1, 2, 4, 8, ... units short of the target, so that the next
        step backs find a checkpoint close by."""
        t = self._trainer
        t.log_every = 1
        by_epoch = self._granularity == EPOCH
        while position(t) < target and not self._stop.is_set():
            left = (target[0] - t.epoch if t.batch_in_epoch == 0 else 0) if by_epoch else target - t.steps
            if left > 0 and (left & (left - 1)) == 0:
                self._keep()
            if by_epoch and t.batch_in_epoch == 0 and t.batches_per_epoch == 1:
                done = t.run_epochs(1)          # full batch: the loop play runs
            else:
                done = t.run_batches(1)
            if not done:
                break
            self._priority.checkpoint(self._stop.is_set)

    def _reset(self):
        self._after_going_back(self._go_back_to(0))

    # -- step back's checkpoints (worker thread) ---------------------------------------
    def _trajectory_key(self) -> tuple:
        """What, besides the trainer's state, decides where training goes from here."""
        t = self._trainer
        return (dataclasses.astuple(t.config.optimizer), _asked_batch_size(t),
                t.net.broken_sigmoid_derivative)

    def _checkpoint(self, state) -> _Checkpoint:
        """`state`, just taken from the trainer, as a checkpoint of the present segment."""
        t = self._trainer
        return _Checkpoint(state, self._segment, self._key, t.config.batch_size,
                           _asked_batch_size(t), _state_bytes(state))

    def _is_present(self, checkpoint) -> bool:
        # Within a segment the step count says which state it is.
        return checkpoint.segment == self._segment and checkpoint.state.steps == self._trainer.steps

    def _keep(self, checkpoint=None):
        """Keep a checkpoint of the present segment (by default of the present state)
        unless the same state is the newest kept already."""
        steps = self._trainer.steps if checkpoint is None else checkpoint.state.steps
        newest = self._checkpoints[-1]
        if newest.segment == self._segment and newest.state.steps == steps:
            return
        self._checkpoints.append(checkpoint or self._checkpoint(self._trainer.state()))
        self._thin()

    def _thin(self):
        kept = self._checkpoints
        total = sum(c.nbytes for c in kept)
        while len(kept) > MIN_CHECKPOINTS and (len(kept) > REWIND_CHECKPOINTS or total > REWIND_BYTES):
            steps = np.array([c.state.steps for c in kept], dtype=float)
            total -= kept.pop(_least_needed(steps)).nbytes

    def _start_segment(self):
        self._segment = self._segments
        self._segments += 1

    def _follow_settings(self):
        """After every command: one that changed what shapes training (learning rate,
        L2, clipping, optimiser, batch size, lecture mode's broken σ′) starts a new
        segment at the present state, its first checkpoint.  The present state kept under
        the old settings is superseded (else a step back would go to the same weights)."""
        key = self._trajectory_key()
        if key == self._key:
            return
        present = self._is_present(self._checkpoints[-1])
        self._key = key
        self._start_segment()
        checkpoint = self._checkpoint(self._trainer.state())
        if present:
            self._checkpoints[-1] = checkpoint
        else:
            self._checkpoints.append(checkpoint)
            self._thin()

    def _forget_after_present(self):
        """Drop checkpoints later on the path than the present (a command went back)."""
        kept = self._checkpoints
        while len(kept) > 1 and kept[-1].state.steps > self._trainer.steps:
            kept.pop()

    def _go_back_to(self, index: int):
        """Restore checkpoint `index` exactly, forget the path after it, and return the
        batch size the controls ask for (to ask again once step back is done)."""
        checkpoint = self._checkpoints[index]
        del self._checkpoints[index + 1:]
        asked = self._restore_checkpoint(checkpoint)
        if checkpoint.segment != self._segment:
            if checkpoint.key == self._key:     # the same settings: training retraces its segment
                self._segment = checkpoint.segment
            else:                               # the present settings take another path from here
                self._start_segment()
                checkpoint.segment, checkpoint.key = self._segment, self._key
        return asked

    def _restore_checkpoint(self, checkpoint):
        t = self._trainer
        asked = _asked_batch_size(t)
        t.restore(checkpoint.state)
        # An epoch half done goes on with the batch size it began with.
        t.config.batch_size = checkpoint.batch_size
        if _asked_batch_size(t) != checkpoint.asked_batch_size:
            t.set_batch_size(checkpoint.asked_batch_size)
        self._history_went_back()
        return asked

    def _history_went_back(self):
        """After a restore the history lost its points from the restored epoch on: the next
        frame sends the window everything from there."""
        t = self._trainer
        self._sent_loss = (min(self._sent_loss[0], len(t.history.loss)), self._sent_loss[1])
        self._sent_logs = min(self._sent_logs, len(t.history.log_epochs))

    def _after_going_back(self, asked_batch_size):
        if _asked_batch_size(self._trainer) != asked_batch_size:
            self._trainer.set_batch_size(asked_batch_size)
        self._banner = None
        self._eps_mark = (time.perf_counter(), self._trainer.epoch)
        self._needs_push = True
        self._publish()

    def _rewind_depth(self) -> int:
        n = len(self._checkpoints)
        while n and self._is_present(self._checkpoints[n - 1]):
            n -= 1
        return n

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
        self._banner = None
        self._keep()                        # the weights before: one step back brings them back
        params = t.net.params.copy()
        params[index] = value
        t.net.set_params(params)
        self._start_segment()               # the path jumps here: no replay runs across an edit
        self._keep()
        self._publish()

    # -- frames ------------------------------------------------------------------------
    def _publish(self):
        t = self._trainer
        now = time.perf_counter()
        outputs = None
        if now - self._last_outputs >= OUTPUT_SECONDS or not self._playing.is_set():
            outputs = self._probe.evaluate(t.net)
        snapshot = t.snapshot(self._sample)
        # E at the weights drawn, so a Step visibly changes it (the last epoch's loss is
        # E at the weights before its update: after the first Step it repeated E(w₀)).
        # On big data sets that pass would cost a frame: there the last epoch's loss.
        loss_now = snapshot.loss if math.isfinite(snapshot.loss) else snapshot.batch_loss
        with np.errstate(over="ignore", invalid="ignore"):
            if t.n <= EXACT_LOSS_ROWS:
                loss_now = float(t.evaluate(t.X, t.Y)[0])
            elif t.steps == 0:
                # Before the first epoch of a big data set: E estimated on the diagnostic
                # rows (a full pass here would hold the window for half a second).
                loss_now = t.estimated_loss()
        if t.steps > self._shown_steps and not t.diverged and not self._settling and \
                not _finite_view(snapshot, loss_now, outputs):
            # Training made finite weights whose forward pass overflows, and no step has
            # failed yet: the next one will.  Take it, and show the last finite state
            # instead (no NaN reaches the view).  (Weights a user typed are shown as typed.)
            self._run_units(1)
            if t.diverged:
                self._stop_at_last_finite_state()
                return
        if outputs is not None:
            self._last_outputs = now
        series = t.history.loss
        sent, stride = self._sent_loss
        start = 0 if series.stride != stride else min(sent, len(series))
        loss_epochs, loss_values = series.arrays(start)
        self._sent_loss = (len(series), series.stride)
        h = t.history
        log_from = min(self._sent_logs, len(h.log_epochs))
        logs = {k: np.array(h.logs[k][log_from:], dtype=float) for k in LOG_FIELDS}
        self._sent_logs = len(h.log_epochs)
        frame = Frame(
            run_id=self.run_id, snapshot=snapshot, loss_from=start, loss_epochs=loss_epochs,
            loss_values=loss_values, log_from=log_from,
            log_epochs=np.array(h.log_epochs[log_from:], dtype=np.int64), logs=logs,
            outputs=outputs, loss_now=loss_now, playing=self._playing.is_set(),
            epochs_per_second=self._eps if self._playing.is_set() else 0.0,
            rewind_depth=self._rewind_depth(), learning_rate=t.config.optimizer.lr,
            batch_size=t.batch_size, banner=self._banner)
        self._last_frame = now
        # A big network's snapshot (diagnostics on up to 4096 samples) is not free: keep
        # publishing under a fifth of the worker's time.
        self._frame_interval = max(FRAME_SECONDS, 5 * (time.perf_counter() - now))
        self._dirty = False
        self._shown_playing = frame.playing
        self._shown_steps = t.steps
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
