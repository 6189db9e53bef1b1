"""The control panel: scenario, network (layers, neurons, activations, init, loss, seed),
training settings (optimiser, learning rate, batch size, L2, clipping), and the
transport's speed and step-granularity pickers.

Widgets here only collect choices and emit them; the window decides what a choice does
(a new learning rate goes to the running worker, a new architecture asks and resets).
A bad number is refused with a message and the previous value stays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from core.activations import ACTIVATIONS
from core.losses import LOSSES
from core.optimizers import OPTIMIZERS

from .worker import BATCH, EPOCH, SAMPLE

HIDDEN_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a != "softmax")
INITS = ("normal", "normal:0.1", "normal:0.01", "uniform", "xavier", "he", "pytorch")
MAX_HIDDEN_LAYERS = 12
MAX_NEURONS = 1024
IO_NAMES = 8                    # input names listed above the network editor, at most
LR_DECADES = (-6, 1)            # the learning-rate slider spans 1e-6 .. 10
LR_STEPS_PER_DECADE = 10
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, None)   # steps/s; None = max
GRANULARITY_LABELS = ((EPOCH, "epoch"), (BATCH, "mini-batch"), (SAMPLE, "sample"))


@dataclass(frozen=True)
class NetworkChoice:
    """What a rebuild needs: hidden sizes, one activation per weight layer, init, loss, seed."""
    hidden: tuple
    activations: tuple
    init: str
    loss: str
    seed: int


def format_number(value) -> str:
    return "off" if value is None else f"{value:.4g}"


class NumberField(QLineEdit):
    """An exact number field.  Emits value_changed(value) for a new valid value; for
    anything else emits rejected(message) and shows the previous value again."""

    value_changed = Signal(object)
    rejected = Signal(str)

    def __init__(self, what: str, value, positive=False, off_allowed=False, parent=None):
        super().__init__(parent)
        self.what, self.positive, self.off_allowed = what, positive, off_allowed
        self._value = value
        self.setText(format_number(value))
        self.setMaximumWidth(110)
        self.editingFinished.connect(self._commit)

    def value(self):
        return self._value

    def set_value(self, value):
        self._value = value
        self.setText(format_number(value))

    def parse(self, text: str):
        """The value `text` stands for; raises ValueError with a message otherwise."""
        text = text.strip().lower()
        if self.off_allowed and text in ("", "off", "none", "0"):
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{text} is not a finite number")
        if self.positive and value <= 0 or value < 0:
            raise ValueError(f"{self.what} must be {'positive' if self.positive else '≥ 0'}, not {text}")
        return value

    def _commit(self):
        try:
            value = self.parse(self.text())
        except ValueError as e:
            self.setText(format_number(self._value))
            self.rejected.emit(f"{e}: {self.what} kept at {format_number(self._value)}")
            return
        self.setText(format_number(value))
        if value != self._value:
            self._value = value
            self.value_changed.emit(value)


class LearningRateControl(QWidget):
    """η on a log slider (1e-6 .. 10) plus an exact field; both show the same value."""

    value_changed = Signal(float)
    rejected = Signal(str)

    def __init__(self, value: float, parent=None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Horizontal)
        lo, hi = LR_DECADES
        self.slider.setRange(lo * LR_STEPS_PER_DECADE, hi * LR_STEPS_PER_DECADE)
        self.slider.setPageStep(LR_STEPS_PER_DECADE)
        self.field = NumberField("learning rate", value, positive=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.field)
        self._place_slider(value)
        self.slider.valueChanged.connect(self._slid)
        self.field.value_changed.connect(self._typed)
        self.field.rejected.connect(self.rejected)

    def value(self) -> float:
        return self.field.value()

    def set_value(self, value: float):
        self.field.set_value(value)
        self._place_slider(value)

    def _place_slider(self, value: float):
        self.slider.blockSignals(True)
        self.slider.setValue(round(math.log10(value) * LR_STEPS_PER_DECADE))
        self.slider.blockSignals(False)

    def _slid(self, position: int):
        value = float(f"{10 ** (position / LR_STEPS_PER_DECADE):.3g}")
        self.field.set_value(value)
        self.value_changed.emit(value)

    def _typed(self, value: float):
        self._place_slider(value)
        self.value_changed.emit(value)


class ArchitectureEditor(QGroupBox):
    """Hidden layers, neurons and activation per layer, output activation, init, loss and
    seed.  Nothing changes until "Build network" is pressed (it resets training)."""

    rebuild_requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__("Network", parent)
        self.io_label = QLabel()
        self.io_label.setWordWrap(True)
        self.layer_count = QSpinBox()
        self.layer_count.setRange(0, MAX_HIDDEN_LAYERS)
        self.layer_count.valueChanged.connect(self._show_rows)
        self.rows_box = QWidget()
        self.rows = QVBoxLayout(self.rows_box)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.layer_rows: list[tuple[QSpinBox, QComboBox]] = []
        for i in range(MAX_HIDDEN_LAYERS):
            neurons = QSpinBox()
            neurons.setRange(1, MAX_NEURONS)
            activation = _combo(HIDDEN_ACTIVATIONS)
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(QLabel(f"layer {i + 1}"))
            line.addWidget(neurons)
            line.addWidget(activation, 1)
            self.rows.addWidget(row)
            self.layer_rows.append((neurons, activation))
        self.output_activation = _combo(tuple(ACTIVATIONS))
        self.init = _combo(INITS)
        self.loss = _combo(tuple(LOSSES))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        self.build_button = QPushButton("Build network (resets)")
        self.build_button.clicked.connect(lambda: self.rebuild_requested.emit(self.choice()))
        form = QFormLayout(self)
        form.addRow(self.io_label)
        form.addRow("hidden layers", self.layer_count)
        form.addRow(self.rows_box)
        form.addRow("output activation", self.output_activation)
        form.addRow("init", self.init)
        form.addRow("loss", self.loss)
        form.addRow("seed", self.seed)
        form.addRow(self.build_button)

    def _show_rows(self, count: int):
        for i in range(MAX_HIDDEN_LAYERS):
            self.rows.itemAt(i).widget().setVisible(i < count)

    def set_io(self, dataset):
        names = dataset.feature_names
        inputs = ", ".join(names) if len(names) <= IO_NAMES else \
            f"{', '.join(names[:IO_NAMES])}, … ({len(names)} in all)"     # a CSV's 784 pixels
        self.io_label.setText(f"inputs: {inputs} → outputs: {', '.join(dataset.target_names)}")

    def set_choice(self, choice: NetworkChoice):
        self.layer_count.setValue(len(choice.hidden))
        for (neurons, activation), size, name in zip(self.layer_rows, choice.hidden, choice.activations):
            neurons.setValue(size)
            _select(activation, name)
        self._show_rows(len(choice.hidden))
        _select(self.output_activation, choice.activations[-1])
        _select(self.init, choice.init)
        _select(self.loss, choice.loss)
        self.seed.setValue(int(choice.seed))

    def choice(self) -> NetworkChoice:
        count = self.layer_count.value()
        rows = self.layer_rows[:count]
        return NetworkChoice(
            hidden=tuple(n.value() for n, _ in rows),
            activations=tuple(a.currentText() for _, a in rows) + (self.output_activation.currentText(),),
            init=self.init.currentText(), loss=self.loss.currentText(), seed=self.seed.value())


class TrainingControls(QGroupBox):
    """Settings that change mid-run, without a reset."""

    optimizer_changed = Signal(str)
    lr_changed = Signal(float)
    batch_size_changed = Signal(object)     # int, or None for full batch
    l2_changed = Signal(object)
    clip_changed = Signal(object)           # float, or None for no clipping
    rejected = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Training (changes apply mid-run)", parent)
        self.optimizer = _combo(OPTIMIZERS)
        self.optimizer.currentTextChanged.connect(self.optimizer_changed)
        self.lr = LearningRateControl(1e-3)
        self.lr.value_changed.connect(self.lr_changed)
        self.batch_size = QSpinBox()
        self.batch_size.setSpecialValueText("full batch")
        self.batch_size.valueChanged.connect(
            lambda v: self.batch_size_changed.emit(None if v == 0 else v))
        self.l2 = NumberField("L2", 0.0)
        self.l2.value_changed.connect(self.l2_changed)
        self.clip = NumberField("clipping", None, positive=True, off_allowed=True)
        self.clip.value_changed.connect(self.clip_changed)
        for source in (self.lr, self.l2, self.clip):
            source.rejected.connect(self.rejected)
        form = QFormLayout(self)
        form.addRow("optimiser", self.optimizer)
        form.addRow("learning rate η", self.lr)
        form.addRow("batch size", self.batch_size)
        form.addRow("L2 weight decay", self.l2)
        form.addRow("clip ‖∂E/∂w‖ at", self.clip)

    def set_config(self, config, n_samples: int):
        """Show a TrainConfig's settings without emitting anything."""
        opt = config.optimizer
        for widget in (self.optimizer, self.batch_size):
            widget.blockSignals(True)
        _select(self.optimizer, opt.name)
        self.batch_size.setRange(0, n_samples)
        self.batch_size.setValue(0 if not config.batch_size or config.batch_size >= n_samples
                                 else config.batch_size)
        for widget in (self.optimizer, self.batch_size):
            widget.blockSignals(False)
        self.lr.set_value(opt.lr)
        self.l2.set_value(opt.l2)
        self.clip.set_value(opt.clip)


class ScenarioPicker(QComboBox):
    scenario_chosen = Signal(str)

    def __init__(self, names_and_titles, parent=None):
        super().__init__(parent)
        for name, title in names_and_titles:
            self.addItem(name, name)
            self.setItemData(self.count() - 1, title, Qt.ToolTipRole)
        self.activated.connect(lambda i: self.scenario_chosen.emit(self.itemData(i)))

    def show_scenario(self, name: str):
        """Select `name`; one not in the list (a CSV file's) leaves nothing selected."""
        self.blockSignals(True)
        self.setCurrentIndex(self.findData(name))
        self.blockSignals(False)


class ControlPanel(QScrollArea):
    """Everything on the left: scenario, network, training."""

    def __init__(self, names_and_titles, parent=None):
        super().__init__(parent)
        self.scenario = ScenarioPicker(names_and_titles)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.architecture = ArchitectureEditor()
        self.training = TrainingControls()
        box = QGroupBox("Scenario")
        column = QVBoxLayout(box)
        column.addWidget(self.scenario)
        column.addWidget(self.title)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(box)
        layout.addWidget(self.architecture)
        layout.addWidget(self.training)
        layout.addStretch(1)
        self.setWidget(inner)
        self.setWidgetResizable(True)
        self.setMinimumWidth(260)


class SpeedControl(QWidget):
    """Steps per second, from one (for a lecture) to as fast as the machine goes."""

    speed_changed = Signal(object)      # float steps/s, or None for as fast as possible

    def __init__(self, parent=None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setValue(len(SPEEDS) - 1)
        self.slider.setFixedWidth(140)
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.label = QLabel()
        self.label.setMinimumWidth(80)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("speed"))
        layout.addWidget(self.slider)
        layout.addWidget(self.label)
        layout.addStretch(1)
        self.slider.valueChanged.connect(self._moved)
        self._moved(self.slider.value())

    def speed(self):
        return SPEEDS[self.slider.value()]

    def set_index(self, index: int):
        self.slider.setValue(min(max(int(index), 0), len(SPEEDS) - 1))

    def _moved(self, index: int):
        speed = SPEEDS[index]
        self.label.setText("max speed" if speed is None else
                           f"{speed} step/s" if speed == 1 else f"{speed} steps/s")
        self.speed_changed.emit(speed)


class GranularityPicker(QComboBox):
    granularity_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        for unit, label in GRANULARITY_LABELS:
            self.addItem(f"step: one {label}", unit)
        self.setFocusPolicy(Qt.NoFocus)
        self.currentIndexChanged.connect(lambda i: self.granularity_changed.emit(self.itemData(i)))

    def granularity(self) -> str:
        return self.currentData()

    def set_granularity(self, unit: str):
        index = self.findData(unit)
        if index >= 0:
            self.setCurrentIndex(index)


class ShortcutPassthrough(QObject):
    """Event filter for text fields and spin boxes: they claim Space, arrows, R and
    PageUp/PageDown for editing, which would swallow the window's shortcuts (a lecture
    clicker sends PageDown / PageUp).  None of those keys is needed to type a number,
    so let the shortcuts have them."""

    def __init__(self, keys, parent=None):
        super().__init__(parent)
        self.keys = frozenset(keys)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.ShortcutOverride and \
                event.modifiers() in (Qt.NoModifier, Qt.KeypadModifier) and event.key() in self.keys:
            event.ignore()
            return True
        return False

    def install_on(self, root: QWidget):
        for kind in (QLineEdit, QAbstractSpinBox):
            for widget in root.findChildren(kind):
                widget.installEventFilter(self)


def _combo(items) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    return combo


def _select(combo: QComboBox, text: str):
    if combo.findText(text) < 0:
        combo.addItem(text)                 # e.g. a scenario's "normal:0.5" init
    combo.setCurrentText(text)
