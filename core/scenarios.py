"""Scenario files (resources/scenarios/*.toml): a data set, a network, a way of training
it, a narrative for the lecturer, and optionally a remedy that fixes what goes wrong.

    name, title, narrative
    [dataset]     name = "moons", plus the generator's parameters; test_fraction
    [network]     hidden = [5], activations = ["sigmoid", "sigmoid"], init = "normal"
    [training]    loss, optimizer, lr, batch_size (0 = full batch), epochs, seed,
                  l2, clip (0 = off), momentum
    [diagnostic]  plot = "loss" | "grad_norm" | "dead" | "saturated" | "update_ratio",
                  colour_mode = "weight" | "gradient" | "update",
                  log_loss = true | false (the loss plot's y axis; absent: the viewer's choice)
    [remedy]      description, and [remedy.network] / [remedy.training] overrides

Any missing or wrong field is reported with the file's name and the field's.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .datasets import GENERATORS, Dataset, generator_parameters, load_dataset, split
from .errors import BackpropLabError, ScenarioError
from .network import MAX_SEED, Network, check_seed
from .optimizers import OptimizerConfig
from .trainer import TrainConfig, Trainer

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "resources" / "scenarios"
PLOTS = ("loss", "grad_norm", "dead", "saturated", "update_ratio")
COLOUR_MODES = ("weight", "gradient", "update")


@dataclass
class Scenario:
    name: str
    title: str
    narrative: str
    dataset: Dataset
    network: Network
    config: TrainConfig
    epochs: int
    seed: int
    diagnostic_plot: str = "loss"
    colour_mode: str = "weight"
    log_loss: bool | None = None        # None: keep whatever scale the viewer chose
    remedy_description: str | None = None
    remedy_applied: bool = False
    path: Path | None = None
    spec: dict = field(default_factory=dict, repr=False)

    @property
    def X(self):
        return self.dataset.X

    @property
    def Y(self):
        return self.dataset.Y

    @property
    def loss(self) -> str:
        return self.config.loss

    @property
    def has_remedy(self) -> bool:
        return self.remedy_description is not None

    def make_trainer(self, log_every: int = 1) -> Trainer:
        return Trainer(self.network, self.dataset.X, self.dataset.Y, self.config,
                       self.dataset.X_test, self.dataset.Y_test, log_every=log_every)


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_path(name: str) -> Path:
    path = SCENARIO_DIR / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {name!r}; choose from {', '.join(scenario_names())}")
    return path


def load_scenario(name: str, seed: int | None = None, remedy: bool = False) -> Scenario:
    """Load a bundled scenario by name (or a .toml file by path)."""
    path = Path(name) if str(name).endswith(".toml") else scenario_path(name)
    return scenario_from_file(path, seed=seed, remedy=remedy)


class _Fields:
    """Typed access to one TOML table, naming file and field in every complaint."""

    def __init__(self, path, table: dict, prefix: str):
        self.path, self.table, self.prefix = path, table, prefix

    def fail(self, key, problem):
        raise ScenarioError(f"{self.path.name}: field '{self.prefix}{key}' {problem}")

    def get(self, key, kind, default=...):
        if key not in self.table:
            if default is ...:
                self.fail(key, "is missing")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(key, f"must be {getattr(kind, '__name__', kind)}, not {value!r}")
        return value

    def number(self, key, default=..., minimum=None, positive=False):
        value = self.get(key, float, default)
        if value is None:
            return None
        if not math.isfinite(value) or (positive and value <= 0) or \
                (minimum is not None and value < minimum):
            self.fail(key, f"must be {'a positive' if positive else 'a finite'} number"
                           f"{'' if minimum is None else f' ≥ {minimum}'}, not {value!r}")
        return value

    def integer(self, key, default=..., minimum=0, maximum=None):
        value = self.get(key, int, default)
        if value is not None and value < minimum:
            self.fail(key, f"must be ≥ {minimum}, not {value!r}")
        if value is not None and maximum is not None and value > maximum:
            self.fail(key, f"must be ≤ {maximum}, not {value!r}")
        return value

    def overridden_by(self, other: "_Fields") -> "_Fields":
        """This table with `other`'s fields on top; each field named as in the file it
        came from (remedy.training.lr for a remedy's learning rate)."""
        return _MergedFields(self, other)

    def choice(self, key, options, default=...):
        value = self.get(key, str, default)
        if value not in options:
            self.fail(key, f"must be one of {', '.join(options)}, not {value!r}")
        return value


class _MergedFields(_Fields):
    def __init__(self, base: _Fields, override: _Fields):
        super().__init__(base.path, {**base.table, **override.table}, base.prefix)
        self.override = override

    def fail(self, key, problem):
        if key in self.override.table:
            self.override.fail(key, problem)
        super().fail(key, problem)


# The fields each table may hold; anything else is a misspelling, reported as one.
TOP_FIELDS = ("name", "title", "narrative", "dataset", "network", "training", "diagnostic",
              "remedy")
NETWORK_FIELDS = ("hidden", "activations", "init")
TRAINING_FIELDS = ("loss", "optimizer", "lr", "batch_size", "epochs", "seed", "l2", "clip",
                   "momentum")
DIAGNOSTIC_FIELDS = ("plot", "colour_mode", "log_loss")
REMEDY_FIELDS = ("description", "network", "training", "dataset")


def _known_fields(fields: "_Fields", allowed):
    for key in fields.table:
        if key not in allowed:
            fields.fail(key, f"is not a known field (this table takes {', '.join(allowed)})")


def _dataset_fields(fields: "_Fields", name: str | None):
    """Unknown dataset fields: the generator's parameters depend on its name."""
    if name in GENERATORS:
        _known_fields(fields, ("name", "test_fraction") + generator_parameters(name))


def scenario_from_file(path: Path, seed: int | None = None, remedy: bool = False) -> Scenario:
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read the scenario file ({e.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path.name}: not a valid TOML scenario file ({e})") from None
    top = _Fields(path, spec, "")
    _known_fields(top, TOP_FIELDS)
    name = top.get("name", str)
    title = top.get("title", str)
    narrative = top.get("narrative", str).strip()
    base = {key: _Fields(path, top.get(key, dict), f"{key}.")
            for key in ("dataset", "network", "training")}
    diag = _Fields(path, top.get("diagnostic", dict, {}), "diagnostic.")
    _known_fields(diag, DIAGNOSTIC_FIELDS)
    remedy_spec = top.get("remedy", dict, None)
    if remedy and remedy_spec is None:
        raise ScenarioError(f"{path.name}: scenario {name!r} has no remedy")
    if seed is not None:
        check_seed(seed)
    built = _build(base, seed)
    remedy_description = None
    if remedy_spec is not None:
        # The remedy is checked whenever the file is read, not first when a lecturer
        # switches it on in front of the class; its fields are named remedy.training.lr etc.
        r = _Fields(path, remedy_spec, "remedy.")
        _known_fields(r, REMEDY_FIELDS)
        remedy_description = r.get("description", str).strip()
        overridden = dict(base)
        for key in ("dataset", "network", "training"):
            override = _Fields(path, r.get(key, dict, {}), f"remedy.{key}.")
            if override.table:
                overridden[key] = base[key].overridden_by(override)
        remedied = _build(overridden, seed, reuse=built)
        if remedy:
            built = remedied
    dataset, network, config, epochs, run_seed, _ = built
    return Scenario(
        name=name, title=title, narrative=narrative, dataset=dataset, network=network,
        config=config, epochs=epochs, seed=run_seed,
        diagnostic_plot=diag.choice("plot", PLOTS, "loss"),
        colour_mode=diag.choice("colour_mode", COLOUR_MODES, "weight"),
        log_loss=diag.get("log_loss", bool, None),
        remedy_description=remedy_description, remedy_applied=bool(remedy and remedy_spec),
        path=path, spec=spec)


def _build(sections: dict, seed: int | None, reuse=None):
    """(dataset, network, config, epochs, seed, dataset table) from the dataset / network /
    training tables.  `reuse`: an earlier build whose data set stands if its dataset table
    is this one (a remedy that changes only the network or the training)."""
    ds, nw, tr = sections["dataset"], sections["network"], sections["training"]
    dataset_name = ds.get("name", str)
    _dataset_fields(ds, dataset_name)
    test_fraction = ds.number("test_fraction", 0.0, minimum=0.0)
    if test_fraction >= 1:
        ds.fail("test_fraction", "must be below 1")
    if reuse is not None and ds.table == reuse[-1]:
        dataset = reuse[0]
    else:
        params = {k: v for k, v in ds.table.items() if k not in ("name", "test_fraction")}
        try:
            dataset = load_dataset(dataset_name, **params)
        except BackpropLabError as e:
            ds.fail("name" if "unknown dataset" in str(e) else _named_parameter(str(e), params),
                    f"is unusable: {e}")
        if test_fraction:
            try:
                dataset = split(dataset, test_fraction, seed=0)
            except BackpropLabError as e:
                ds.fail("test_fraction", f"is unusable: {e}")

    _known_fields(nw, NETWORK_FIELDS)
    hidden = nw.get("hidden", list)
    if not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden):
        nw.fail("hidden", f"must be a list of whole numbers ≥ 1, not {hidden!r}")
    activations = nw.get("activations", list)
    if not all(isinstance(a, str) for a in activations):
        nw.fail("activations", f"must be a list of activation names, not {activations!r}")
    init = nw.get("init", str, "normal")

    _known_fields(tr, TRAINING_FIELDS)
    run_seed = tr.integer("seed", 0, maximum=MAX_SEED) if seed is None else int(seed)
    sizes = [dataset.X.shape[1], *hidden, dataset.n_outputs]
    try:
        network = Network(sizes, activations, init=init, seed=run_seed)
    except BackpropLabError as e:
        nw.fail("activations" if "activation" in str(e) or "softmax" in str(e) else
                "init" if "init" in str(e) else "hidden", f"is invalid: {e}")
    clip = tr.number("clip", 0.0, minimum=0.0)
    momentum = tr.number("momentum", 0.9, minimum=0.0)
    if momentum >= 1:
        tr.fail("momentum", f"must be below 1 (at 1 or more the velocity never decays), "
                            f"not {momentum!r}")
    opt = OptimizerConfig(
        name=tr.choice("optimizer", ("sgd", "momentum", "adam"), "sgd"),
        lr=tr.number("lr", positive=True),
        momentum=momentum,
        l2=tr.number("l2", 0.0, minimum=0.0),
        clip=clip or None)
    from .losses import LOSSES, check_compatible, get_loss
    loss = tr.choice("loss", tuple(LOSSES))
    try:
        check_compatible(get_loss(loss), activations[-1])
    except BackpropLabError as e:
        tr.fail("loss", f"does not fit the network: {e}")
    batch_size = tr.integer("batch_size", 0, minimum=0)
    config = TrainConfig(loss=loss, optimizer=opt, batch_size=batch_size or None, seed=run_seed)
    return dataset, network, config, tr.integer("epochs", minimum=1), run_seed, dict(ds.table)


def _named_parameter(message: str, params: dict) -> str:
    """The dataset parameter a generator's complaint is about (else the name)."""
    for key in params:
        if f" {key} " in message or f"'{key}'" in message:
            return key
    return "name"
