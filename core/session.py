"""Sessions: one JSON file that holds everything needed to go on training exactly where
a run stopped — the data and their transform, the architecture and every setting, the
weights, the optimiser's state, the shuffler's random state, the history, the divergence
record and the GUI's view options.  Reopening and training N more epochs gives the same
weights and losses, bit for bit, as never having stopped.

Format (format_version 1), a JSON object:
    format          "backprop-lab-session" (tells a session from any other JSON)
    format_version  1; a newer number is refused with a message, never half-read
    saved_at, name, title
    source          where the data came from: {"kind": "scenario", "scenario", "seed",
                    "remedy"} | {"kind": "csv", "path", "sha256", "options"} |
                    {"kind": "embedded"}.  The data are embedded in every case; a CSV's
                    SHA-256 is checked on load when the file is still there.
    dataset         name, task, names, classes, units, X, Y, X_test, Y_test and the
                    transform (x_mean, x_std, y_mean, y_std)
    network         sizes, activations, init, seed, dtype, broken_sigmoid_derivative
    training        loss, optimizer {name, lr, momentum, beta1, beta2, eps, l2, clip},
                    batch_size (null = full batch), pending_batch_size (only while a
                    change waits for the epoch's end), shuffle, seed, log_every
    state           params (flat, in w-numbering order: w_k = params[k − 1]), grad,
                    optimizer {step_count, update, velocity, exp_avg, exp_avg_sq}, rng
                    (numpy MT19937 state), order, epoch, steps, batch_in_epoch,
                    epoch_loss_sum, epoch_samples, last_batch_loss, diverged_epoch,
                    diverged_reason
    history         the loss series and the logged diagnostics
    view            free-form JSON object of the GUI's view options

Floats are lossless.  A finite float is a JSON number written with Python's repr, the
shortest decimal that reads back to the same float64; NaN and ±infinity, which JSON
lacks, are the strings "NaN", "Infinity", "-Infinity".  An array is
{"dtype", "shape", "values": [flat, row-major]} up to INLINE_LIMIT elements, larger ones
{"dtype", "shape", "base64": raw little-endian bytes} (compact for embedded data sets).
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .datasets import Dataset
from .errors import BackpropLabError, SaveError, SessionError
from .history import LOG_FIELDS, History
from .network import Network
from .optimizers import OptimizerConfig
from .trainer import TrainConfig, Trainer, TrainerState

FORMAT = "backprop-lab-session"
FORMAT_VERSION = 1
INLINE_LIMIT = 4096
ARRAY_DTYPES = ("float64", "float32", "int64", "uint32")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class CsvChangedError(SessionError):
    """The session's CSV file differs from the one it was made from.  The GUI may offer
    to open it anyway with the embedded data: load_session(path, check_csv=False)."""


# -- where the data came from ------------------------------------------------------------
@dataclass
class DataSource:
    """The data set a session trains on and where it came from.  The arrays are always
    embedded in the session; the provenance lets a reopened session say what it is and
    notice a CSV file that changed since."""
    dataset: Dataset
    kind: str = "embedded"              # "scenario", "csv" or "embedded"
    scenario: str | None = None
    seed: int | None = None
    remedy: bool = False
    csv_path: str | None = None
    csv_sha256: str | None = None
    csv_options: dict = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, scenario) -> "DataSource":
        return cls(scenario.dataset, "scenario", scenario=scenario.name,
                   seed=int(scenario.seed), remedy=bool(scenario.remedy_applied))

    @classmethod
    def from_csv(cls, dataset: Dataset, path, options: dict | None = None,
                 sha256: str | None = None) -> "DataSource":
        """`options`: how the CSV was imported (target, features, missing, ...); `sha256`:
        the hash taken as it was read (CSVTable.sha256) — without it the file is hashed
        now, which is slow for a big file and sees it as it is now, not as it was read."""
        path = Path(path).resolve()
        return cls(dataset, "csv", csv_path=str(path), csv_sha256=sha256 or file_sha256(path),
                   csv_options=dict(options or {}))


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Session:
    """A loaded session: a ready Trainer (new objects, sharing nothing with anything
    else) and what the GUI needs around it."""
    trainer: Trainer
    source: DataSource
    name: str
    title: str
    view: dict
    path: Path | None = None
    warnings: list = field(default_factory=list)

    @property
    def dataset(self) -> Dataset:
        return self.source.dataset


# -- lossless encoding -------------------------------------------------------------------
def encode_float(value) -> float | str:
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def encode_array(a) -> dict:
    a = np.asarray(a)
    if a.dtype.name not in ARRAY_DTYPES:
        a = a.astype(np.float64)
    out = {"dtype": a.dtype.name, "shape": list(a.shape)}
    if a.size <= INLINE_LIMIT:
        flat = a.ravel().tolist()
        out["values"] = [encode_float(v) for v in flat] if a.dtype.kind == "f" else flat
    else:
        little = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        out["base64"] = base64.b64encode(little.tobytes()).decode("ascii")
    return out


def _plain(value):
    """Nested lists / dicts of numbers as JSON-safe values (non-finite floats as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return encode_float(value)
    return value


def _numbers(value):
    """The inverse of _plain for numeric data (the history's logs)."""
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not a number")


# -- writing -----------------------------------------------------------------------------
def _pending_batch_size(trainer: Trainer):
    """(True, size) while a batch-size change waits for the end of the epoch."""
    if hasattr(trainer, "_pending_batch_size"):
        return True, trainer._pending_batch_size
    return False, None


def session_document(trainer: Trainer, source: DataSource, view: dict | None = None,
                     name: str | None = None, title: str | None = None) -> dict:
    """The session as a JSON-ready dict.  Takes copies of everything, so the GUI can build
    it while the worker is paused and write it (write_session) after the worker resumes."""
    net, cfg, ds = trainer.net, trainer.config, source.dataset
    if ds.X.shape != trainer.X.shape or not np.array_equal(net._as_inputs(ds.X), trainer.X):
        raise SaveError("cannot save the session: its data set is not the one the network "
                        "trains on")
    state = trainer.state()
    kind, key, pos, has_gauss, cached_gaussian = state.rng
    opt = cfg.optimizer
    training = {
        "loss": cfg.loss,
        "optimizer": {"name": opt.name, "lr": encode_float(opt.lr),
                      "momentum": encode_float(opt.momentum), "beta1": encode_float(opt.beta1),
                      "beta2": encode_float(opt.beta2), "eps": encode_float(opt.eps),
                      "l2": encode_float(opt.l2),
                      "clip": None if opt.clip is None else encode_float(opt.clip)},
        "batch_size": cfg.batch_size, "shuffle": bool(cfg.shuffle), "seed": int(cfg.seed),
        "log_every": int(trainer.log_every),
    }
    pending, pending_size = _pending_batch_size(trainer)
    if pending:
        training["pending_batch_size"] = pending_size
    optional = lambda a: None if a is None else encode_array(a)  # noqa: E731
    h = trainer.history
    epochs, values = h.loss.arrays()
    history = {"loss": {"stride": h.loss.stride, "capacity": h.loss.capacity,
                        "epochs": encode_array(epochs), "values": encode_array(values)},
               "log_epochs": [int(e) for e in h.log_epochs], "logs": _plain(h.logs)}
    if source.kind == "scenario":
        src = {"kind": "scenario", "scenario": source.scenario, "seed": source.seed,
               "remedy": bool(source.remedy)}
    elif source.kind == "csv":
        src = {"kind": "csv", "path": source.csv_path, "sha256": source.csv_sha256,
               "options": _plain(source.csv_options)}
    else:
        src = {"kind": "embedded"}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "name": name or source.scenario or ds.name,
        "title": title or name or source.scenario or ds.name,
        "source": src,
        "dataset": {
            "name": ds.name, "task": ds.task, "feature_names": list(ds.feature_names),
            "target_names": list(ds.target_names),
            "classes": None if ds.classes is None else list(ds.classes),
            "units": dict(ds.units),
            "X": encode_array(ds.X), "Y": encode_array(ds.Y),
            "X_test": optional(ds.X_test), "Y_test": optional(ds.Y_test),
            "transform": {k: optional(getattr(ds, k)) for k in ("x_mean", "x_std", "y_mean", "y_std")},
        },
        "network": {"sizes": list(net.sizes), "activations": list(net.activation_names),
                    "init": net.init, "seed": int(net.seed), "dtype": net.dtype.name,
                    "broken_sigmoid_derivative": net.broken_sigmoid_derivative},
        "training": training,
        "state": {
            "params": encode_array(state.params), "grad": encode_array(state.grad),
            "optimizer": {"step_count": int(state.optimizer["step_count"]),
                          **{k: optional(state.optimizer[k])
                             for k in ("update", "velocity", "exp_avg", "exp_avg_sq")}},
            "rng": {"bit_generator": kind, "key": encode_array(np.asarray(key, np.uint32)),
                    "pos": int(pos), "has_gauss": int(has_gauss),
                    "cached_gaussian": encode_float(cached_gaussian)},
            "order": encode_array(np.asarray(state.order, np.int64)),
            "epoch": state.epoch, "steps": state.steps, "batch_in_epoch": state.batch_in_epoch,
            "epoch_loss_sum": encode_float(state.epoch_loss_sum),
            "epoch_samples": state.epoch_samples,
            "last_batch_loss": encode_float(state.last_batch_loss),
            "diverged_epoch": state.diverged_epoch, "diverged_reason": state.diverged_reason,
        },
        "history": history,
        "view": _plain(view or {}),
    }


def _is_leaf(value) -> bool:
    return not isinstance(value, dict) or "dtype" in value or not value


def _to_json(value, indent: int = 0) -> str:
    """Indented where it helps a reader (sections, fields), one line per array or list."""
    if _is_leaf(value):
        return json.dumps(value, allow_nan=False, ensure_ascii=False)
    pad = " " * (indent + 1)
    items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_to_json(v, indent + 1)}"
             for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def write_session(path, document: dict):
    """Write a session_document atomically: the previous file survives any failure."""
    def write(f):
        f.write("{\n")
        keys = list(document)
        for i, key in enumerate(keys):
            f.write(f" {json.dumps(key)}: {_to_json(document[key], 1)}")
            f.write(",\n" if i < len(keys) - 1 else "\n")
        f.write("}\n")
    atomic_write(path, write)


def save_session(path, trainer: Trainer, source: DataSource, view: dict | None = None,
                 name: str | None = None, title: str | None = None):
    write_session(path, session_document(trainer, source, view, name, title))


# -- reading -----------------------------------------------------------------------------
_MISSING = object()


class _Reader:
    """Typed access to one JSON object of a session, naming file and field in every
    complaint."""

    def __init__(self, label: str, table, prefix: str = ""):
        self.label, self.table, self.prefix = label, table, prefix

    def fail(self, key, problem):
        raise SessionError(f"{self.label}: field '{self.prefix}{key}' {problem}")

    def raw(self, key, default=_MISSING):
        if key not in self.table:
            if default is _MISSING:
                self.fail(key, "is missing")
            return default
        return self.table[key]

    def section(self, key) -> "_Reader":
        value = self.raw(key)
        if not isinstance(value, dict):
            self.fail(key, f"must be an object, not {type(value).__name__}")
        return _Reader(self.label, value, f"{self.prefix}{key}.")

    def string(self, key, default=_MISSING, nullable=False):
        value = self.raw(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.fail(key, f"must be text, not {value!r}")
        return value

    def boolean(self, key, default=_MISSING):
        value = self.raw(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {value!r}")
        return value

    def integer(self, key, default=_MISSING, minimum=0, nullable=False):
        value = self.raw(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(key, f"must be a whole number ≥ {minimum}, not {value!r}")
        return value

    def number(self, key, default=_MISSING, nullable=False):
        value = self.raw(key, default)
        if value is None and nullable:
            return None
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.fail(key, f"must be a number, not {value!r}")
        return float(value)

    def names(self, key, default=_MISSING):
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"must be a list of names, not {value!r}")
        return value

    def array(self, key, shape=None, kind="f", nullable=False):
        """An encoded array ("i": of whole numbers); `shape` may hold None for a free
        dimension."""
        value = self.raw(key)
        if value is None and nullable:
            return None
        a = self._decode(key, value)
        if kind == "i" and a.dtype.kind not in "iu":     # kind "f": any numbers will do
            self.fail(key, f"must hold whole numbers, not {a.dtype}")
        if shape is not None and (a.ndim != len(shape) or any(
                want is not None and got != want for got, want in zip(a.shape, shape))):
            wanted = "×".join("n" if s is None else str(s) for s in shape)
            self.fail(key, f"has shape {'×'.join(map(str, a.shape)) or 'scalar'}, expected {wanted}")
        return a

    def _decode(self, key, value) -> np.ndarray:
        if not isinstance(value, dict) or "dtype" not in value or "shape" not in value:
            self.fail(key, "must be an encoded array {dtype, shape, values | base64}")
        dtype, shape = value["dtype"], value["shape"]
        if dtype not in ARRAY_DTYPES:
            self.fail(key, f"has unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            self.fail(key, f"has an invalid shape {shape!r}")
        size = math.prod(shape)
        if "values" in value:
            values = value["values"]
            if not isinstance(values, list) or len(values) != size:
                self.fail(key, f"must list {size} values for shape {shape}")
            try:
                flat = np.array(_numbers(values), dtype=np.float64)
            except ValueError as e:
                self.fail(key, f"holds something that is not a number ({e})")
            if dtype[0] != "f" and not np.all(np.mod(flat, 1) == 0):
                self.fail(key, f"must hold whole numbers for dtype {dtype}")
            return flat.astype(dtype).reshape(shape)
        if "base64" in value:
            try:
                raw = base64.b64decode(value["base64"], validate=True)
            except (ValueError, TypeError):
                self.fail(key, "holds invalid base64 data")
            little = np.dtype(dtype).newbyteorder("<")
            if len(raw) != size * little.itemsize:
                self.fail(key, f"holds {len(raw)} bytes, expected {size * little.itemsize} for shape {shape}")
            return np.frombuffer(raw, dtype=little).astype(dtype).reshape(shape)
        self.fail(key, "has neither 'values' nor 'base64'")


def load_session(path, check_csv: bool = True) -> Session:
    """Read a session file into new objects.  Any problem raises SessionError naming the
    file and what is wrong; nothing that exists already is touched.  check_csv=False
    accepts a CSV source whose file has changed (the embedded data are used)."""
    path = Path(path)
    label = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SessionError(f"{path}: cannot read the session file ({e.strerror or e})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SessionError(f"{label}: not a Backprop Lab session (not a text file)") from None
    except json.JSONDecodeError as e:
        raise SessionError(f"{label}: not a Backprop Lab session, or truncated or corrupt "
                           f"(invalid JSON at line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise SessionError(f"{label}: not a Backprop Lab session (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        what = f"a JSON {type(doc).__name__}" if not isinstance(doc, dict) else "JSON of another kind"
        raise SessionError(f"{label}: not a Backprop Lab session ({what}, no "
                           f"'format': \"{FORMAT}\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SessionError(f"{label}: field 'format_version' must be a whole number ≥ 1, "
                           f"not {version!r}")
    if version > FORMAT_VERSION:
        raise SessionError(f"{label}: written by a newer Backprop Lab (session format "
                           f"{version}; this version reads up to {FORMAT_VERSION}) — please update")
    try:
        return _build(_Reader(label, doc), path, check_csv)
    except SessionError:
        raise
    except BackpropLabError as e:
        raise SessionError(f"{label}: {e}") from None
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
        raise SessionError(f"{label}: the session does not fit together ({e})") from None


def _build(top: _Reader, path: Path, check_csv: bool) -> Session:
    warnings = []
    source = _read_source(top.section("source"), path, check_csv, warnings)
    dataset = _read_dataset(top.section("dataset"))
    source.dataset = dataset
    net = _read_network(top.section("network"))
    tr = top.section("training")
    trainer = _read_trainer(tr, net, dataset)
    st = top.section("state")
    state = _read_state(st, trainer)
    trainer.history = _read_history(top.section("history"), state.epoch)
    trainer.restore(state)
    if "pending_batch_size" in tr.table:
        trainer.set_batch_size(tr.integer("pending_batch_size", minimum=1, nullable=True))
    view = top.raw("view", {})
    if not isinstance(view, dict):
        top.fail("view", "must be an object")
    name = top.string("name", dataset.name)
    return Session(trainer, source, name, top.string("title", name), view, path, warnings)


def _read_source(src: _Reader, path: Path, check_csv: bool, warnings: list) -> DataSource:
    kind = src.string("kind")
    if kind == "scenario":
        return DataSource(None, "scenario", scenario=src.string("scenario"),
                          seed=src.integer("seed", None, nullable=True),
                          remedy=src.boolean("remedy", False))
    if kind == "embedded":
        return DataSource(None)
    if kind != "csv":
        src.fail("kind", f"must be scenario, csv or embedded, not {kind!r}")
    csv_path, digest = src.string("path"), src.string("sha256")
    options = src.raw("options", {})
    if not isinstance(options, dict):
        src.fail("options", "must be an object")
    if check_csv:
        # A CSV moved together with its session is found next to it.
        candidates = [Path(csv_path), path.parent / Path(csv_path).name]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            warnings.append(f"the CSV file {csv_path} is no longer there; "
                            "the session's embedded copy of the data is used")
        elif file_sha256(found) != digest:
            raise CsvChangedError(
                f"{src.label}: the CSV file {found} has changed since the session was saved "
                "(its SHA-256 differs); restore the original file, or open the session "
                "with its embedded copy of the data")
    return DataSource(None, "csv", csv_path=csv_path, csv_sha256=digest, csv_options=options)


def _read_dataset(ds: _Reader) -> Dataset:
    X = ds.array("X", (None, None))
    Y = ds.array("Y", (X.shape[0], None))
    X_test = ds.array("X_test", (None, X.shape[1]), nullable=True)
    Y_test = ds.array("Y_test", (None if X_test is None else X_test.shape[0], Y.shape[1]),
                      nullable=True)
    if (X_test is None) != (Y_test is None):
        ds.fail("Y_test", "must be given exactly when X_test is")
    tf = ds.section("transform")
    classes = ds.raw("classes", None)
    if classes is not None and (not isinstance(classes, list)
                                or not all(isinstance(c, str) for c in classes)):
        ds.fail("classes", f"must be a list of class names or null, not {classes!r}")
    units = ds.raw("units", {})
    if not isinstance(units, dict):
        ds.fail("units", "must be an object")
    return Dataset(
        name=ds.string("name"), X=X, Y=Y, feature_names=ds.names("feature_names"),
        target_names=ds.names("target_names"), task=ds.string("task", "regression"),
        classes=classes, x_mean=tf.array("x_mean", nullable=True),
        x_std=tf.array("x_std", nullable=True), y_mean=tf.array("y_mean", nullable=True),
        y_std=tf.array("y_std", nullable=True), X_test=X_test, Y_test=Y_test, units=units)


def _read_network(nw: _Reader) -> Network:
    sizes = nw.raw("sizes")
    if not isinstance(sizes, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        nw.fail("sizes", f"must be a list of whole numbers ≥ 1, not {sizes!r}")
    dtype = nw.string("dtype", "float64")
    if dtype not in ("float64", "float32"):
        nw.fail("dtype", f"must be float64 or float32, not {dtype!r}")
    try:
        net = Network(sizes, nw.names("activations"), init=nw.string("init"),
                      seed=nw.integer("seed"), dtype=dtype)
    except BackpropLabError as e:
        raise SessionError(f"{nw.label}: section 'network' is invalid: {e}") from None
    net.set_broken_sigmoid_derivative(nw.boolean("broken_sigmoid_derivative", False))
    return net


def _read_trainer(tr: _Reader, net: Network, dataset: Dataset) -> Trainer:
    op = tr.section("optimizer")
    opt = OptimizerConfig(
        name=op.string("name"), lr=op.number("lr"), momentum=op.number("momentum"),
        beta1=op.number("beta1"), beta2=op.number("beta2"), eps=op.number("eps"),
        l2=op.number("l2"), clip=op.number("clip", None, nullable=True))
    try:
        opt.validate()
    except BackpropLabError as e:
        tr.fail("optimizer", f"is invalid: {e}")
    config = TrainConfig(loss=tr.string("loss"), optimizer=opt,
                         batch_size=tr.integer("batch_size", minimum=1, nullable=True),
                         shuffle=tr.boolean("shuffle"), seed=tr.integer("seed"))
    try:
        return Trainer(net, dataset.X, dataset.Y, config, dataset.X_test, dataset.Y_test,
                       log_every=tr.integer("log_every", minimum=1))
    except BackpropLabError as e:
        raise SessionError(f"{tr.label}: the network, data and settings do not fit together: {e}") from None


def _read_state(st: _Reader, trainer: Trainer) -> TrainerState:
    n_params, n = trainer.net.n_params, trainer.n
    op = st.section("optimizer")
    opt_name = trainer.config.optimizer.name
    step_count = op.integer("step_count")
    moments = {"momentum": ("velocity",), "adam": ("exp_avg", "exp_avg_sq")}.get(opt_name, ())
    optimizer = {"step_count": step_count, "update": op.array("update", (n_params,))}
    for key in ("velocity", "exp_avg", "exp_avg_sq"):
        optimizer[key] = op.array(key, (n_params,), nullable=True)
        if key in moments and step_count and optimizer[key] is None:
            op.fail(key, f"is missing: a {opt_name} optimiser that has taken steps needs it")
    rng = st.section("rng")
    if rng.string("bit_generator") != "MT19937":
        rng.fail("bit_generator", "must be MT19937")
    rng_state = ("MT19937", rng.array("key", (624,), kind="i").astype(np.uint32),
                 rng.integer("pos"), rng.integer("has_gauss"), rng.number("cached_gaussian"))
    if rng_state[2] > 624 or rng_state[3] > 1:
        rng.fail("pos", "and 'has_gauss' are out of range")
    order = st.array("order", (n,), kind="i")
    if not np.array_equal(np.sort(order), np.arange(n)):
        st.fail("order", f"must be a permutation of 0..{n - 1}")
    batch_in_epoch = st.integer("batch_in_epoch")
    if batch_in_epoch >= trainer.batches_per_epoch:
        st.fail("batch_in_epoch", f"must be below the {trainer.batches_per_epoch} batches "
                                  "of an epoch")
    epoch_samples = st.integer("epoch_samples")
    if epoch_samples > n:
        st.fail("epoch_samples", f"cannot exceed the {n} samples")
    return TrainerState(
        params=st.array("params", (n_params,)), grad=st.array("grad", (n_params,)),
        optimizer=optimizer, rng=rng_state, order=order, epoch=st.integer("epoch"),
        steps=st.integer("steps"), batch_in_epoch=batch_in_epoch,
        epoch_loss_sum=st.number("epoch_loss_sum"), epoch_samples=epoch_samples,
        last_batch_loss=st.number("last_batch_loss"),
        diverged_epoch=st.integer("diverged_epoch", nullable=True),
        diverged_reason=st.string("diverged_reason", nullable=True))


def _read_history(h: _Reader, epoch: int) -> History:
    loss = h.section("loss")
    epochs = loss.array("epochs", (None,), kind="i")
    values = loss.array("values", epochs.shape)
    if epochs.size and (np.any(np.diff(epochs) <= 0) or epochs[0] < 0 or epochs[-1] >= epoch):
        loss.fail("epochs", f"must increase and lie below the session's epoch {epoch}")
    log_epochs = h.raw("log_epochs")
    if not isinstance(log_epochs, list) or not all(
            isinstance(e, int) and not isinstance(e, bool) and 0 <= e < epoch for e in log_epochs):
        h.fail("log_epochs", f"must be a list of epochs below {epoch}")
    logs = h.section("logs")
    decoded = {}
    for key in LOG_FIELDS:
        column = logs.raw(key)
        try:
            decoded[key] = _numbers(column)
        except (ValueError, TypeError) as e:
            logs.fail(key, f"holds something that is not a number ({e})")
        if not isinstance(column, list) or len(column) != len(log_epochs):
            logs.fail(key, f"must have one entry per logged epoch ({len(log_epochs)})")
    return History.from_dict({
        "loss": {"stride": loss.integer("stride", minimum=1),
                 "capacity": loss.integer("capacity", minimum=2),
                 "epochs": epochs, "values": values},
        "log_epochs": log_epochs, "logs": decoded})
