"""From a CSV table and the user's choices to a Dataset, and a network to train on it.

    plan = plan_import(table, options)      # checks the choices, counts rows: fast
    dataset, notes = build_dataset(table, options)
    scenario = make_csv_setup(dataset, hidden=[8])

A numeric target is regression (linear output, MSE); a categorical one classification
(softmax + cross-entropy on class indices; two classes: sigmoid + binary cross-entropy on
0/1).  Categorical features become one-hot inputs named "island=Biscoe".  Standardising is
the lecture's (v − mean) / std with the population std, its statistics taken from the
training rows only, so the test rows stay unseen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .csv_format import counted, is_number
from .datasets import Dataset
from .errors import CSVImportError
from .network import Network
from .optimizers import OptimizerConfig
from .scenarios import Scenario
from .tabular import NUMERIC_SHARE, CSVTable, ColumnInfo
from .trainer import TrainConfig

LEVEL_LIMIT = 100           # "hundreds of levels": more one-hot inputs than this is refused
MISSING_POLICIES = ("drop", "fill")
_BLOCK_ROWS = 32768         # rows assembled at a time, so each block stays in the CPU cache


@dataclass
class ImportOptions:
    target: str | None
    features: list | None = None    # None: every column whose default role is "feature"
    kinds: dict = field(default_factory=dict)   # column → "numeric" / "categorical"
    missing: str = "drop"           # drop incomplete rows, or fill (mean / most frequent)
    standardise: bool = True
    test_fraction: float = 0.2
    seed: int = 0

    def role(self, table: CSVTable, name: str) -> str:
        if name == self.target:
            return "target"
        return "feature" if name in feature_names(table, self) else "ignore"


def default_options(table: CSVTable) -> ImportOptions:
    target = table.default_target()
    return ImportOptions(target=target, features=feature_names(table, ImportOptions(target)))


def feature_names(table: CSVTable, options: ImportOptions) -> list:
    if options.features is not None:
        return list(options.features)
    return [c.name for c in table.columns
            if c.default_role == "feature" and c.name != options.target]


def kind_used(column: ColumnInfo, role: str, options: ImportOptions) -> str:
    """numeric or categorical: the user's choice, else what the column looks like — except
    that a target of a few whole numbers (0/1, grades 1–5) is taken as classes."""
    if column.name in options.kinds:
        return options.kinds[column.name]
    if role == "target" and column.base == "numeric" and column.few_integer_values:
        return "categorical"
    return column.base


@dataclass
class ImportPlan:
    """What build_dataset will make, known before any array is assembled."""
    task: str
    target: str
    features: list              # (column name, "numeric" / "categorical")
    input_names: list
    classes: list | None
    rows_total: int
    rows_kept: dict             # policy → rows it keeps
    missing: str
    n_train: int
    n_test: int
    keep: np.ndarray = field(repr=False)
    levels: dict = field(repr=False)    # categorical column → codes of the levels in use

    def summary(self) -> str:
        what = (f"regression of '{self.target}'" if self.task == "regression" else
                f"classification of '{self.target}' into {len(self.classes)} classes")
        return (f"{what} from {counted(len(self.input_names), 'input')}; "
                f"{counted(self.n_train, 'training row')}, {counted(self.n_test, 'test row')}")


def plan_import(table: CSVTable, options: ImportOptions) -> ImportPlan:
    """Check the choices against the table and count what they keep; raise CSVImportError
    naming the file, column and (where it helps) the line, with what to do."""
    name = table.name
    if options.missing not in MISSING_POLICIES:
        raise CSVImportError(f"missing values: choose drop or fill, not {options.missing!r}")
    if not 0 <= options.test_fraction < 1:
        raise CSVImportError(f"the test fraction must be at least 0 and below 1, "
                             f"not {options.test_fraction!r}")
    if options.target is None:
        why = ("" if table.default_target() else "; none looks usable by default — they are "
               "identifiers, text, dates or constants")
        raise CSVImportError(f"{name}: choose the column to predict (the target){why}")
    target = _column(table, options.target)
    features = feature_names(table, options)
    if not features:
        raise CSVImportError(f"{name}: no feature columns left to predict '{target.name}' from "
                             "— choose at least one (the others look like identifiers, text, "
                             "dates or constants)")
    if target.name in features:
        raise CSVImportError(f"{name}: '{target.name}' is the target; it cannot be a feature too")
    used = [(target, kind_used(target, "target", options))]
    used += [(_column(table, f), kind_used(_column(table, f), "feature", options)) for f in features]
    for column, kind in used:
        _check_usable(table, column, kind, options, column is target)

    missing, complete, target_present = _presence(table, used)
    kept_by = {"drop": int(complete.sum()), "fill": int(target_present.sum())}
    keep = complete if options.missing == "drop" else target_present
    if not keep.any():
        raise _nothing_kept(table, options, missing, target.name)

    levels = {}
    for column, kind in used:
        if missing[column.name][keep].all():
            raise CSVImportError(f"{name}: column '{column.name}' has no values in the rows kept, "
                                 "so there is nothing to fill it with — ignore it")
        if kind == "categorical":
            codes, labels = table.codes(column.name)
            kept = codes[keep]
            levels[column.name] = np.flatnonzero(np.bincount(kept[kept >= 0], minlength=len(labels)))
    target_kind = used[0][1]
    if target_kind == "categorical":
        labels = table.codes(target.name)[1]
        classes = [labels[i] for i in levels[target.name]]
        if len(classes) < 2:
            raise _one_value(table, target.name, classes[0], int(keep.sum()))
        if len(classes) > 2 and keep.sum() < 2 * len(classes):
            raise _class_per_row(table, target, classes, int(keep.sum()))
    else:
        classes = None
        y = table.numbers(target.name)[keep]
        if y.min() == y.max():
            raise _one_value(table, target.name, y[0], int(keep.sum()))

    input_names = []
    for column, kind in used[1:]:
        if kind == "numeric":
            input_names.append(column.name)
        else:
            labels = table.codes(column.name)[1]
            input_names += [f"{column.name}={labels[i]}" for i in levels[column.name]]
    n = int(keep.sum())
    n_test = _test_rows(n, options.test_fraction)
    return ImportPlan(
        task="classification" if target_kind == "categorical" else "regression",
        target=target.name, features=[(c.name, k) for c, k in used[1:]],
        input_names=input_names, classes=classes, rows_total=table.n_rows,
        rows_kept=kept_by, missing=options.missing, n_train=n - n_test, n_test=n_test,
        keep=keep, levels=levels)


def rows_kept(table: CSVTable, options: ImportOptions) -> dict:
    """Rows each missing-value policy keeps with these columns: {"drop": n, "fill": m}.
    Unlike plan_import it never refuses: the dialog shows the counts whatever is chosen."""
    known = set(table.column_names)
    used = [(table.column(n), kind_used(table.column(n), "target", options))
            for n in [options.target] if n in known]
    used += [(table.column(n), kind_used(table.column(n), "feature", options))
             for n in feature_names(table, options) if n in known and n != options.target]
    _, complete, target_present = _presence(table, used, has_target=options.target in known)
    return {"drop": int(complete.sum()), "fill": int(target_present.sum())}


def _presence(table: CSVTable, used: list, has_target: bool = True):
    """(missing mask per column, rows complete in every column, rows with a target)."""
    missing = {c.name: _missing_mask(table, c, kind) for c, kind in used}
    target_present = (~missing[used[0][0].name] if has_target and used else
                      np.ones(table.n_rows, bool))
    complete = target_present.copy()
    for mask in missing.values():
        complete &= ~mask
    return missing, complete, target_present


def _column(table: CSVTable, name: str) -> ColumnInfo:
    try:
        return table.column(name)
    except KeyError:
        names = table.column_names
        shown = ", ".join(names[:15]) + (", …" if len(names) > 15 else "")
        raise CSVImportError(f"{table.name}: has no column {name!r}; its columns are: {shown}") from None


def resolve_column(table: CSVTable, text: str) -> str:
    """A column named on the command line: by its name, or by its number counted from 1."""
    text = text.strip()
    if text in table.column_names:
        return text
    if text.isdigit() and 1 <= int(text) <= len(table.columns):
        return table.column_names[int(text) - 1]
    return _column(table, text).name


def _check_usable(table, column: ColumnInfo, kind: str, options, is_target: bool):
    name, col = table.name, column.name
    role = "the target" if is_target else "a feature"
    overridden = col in options.kinds
    if column.n_missing == column.n_rows:
        raise CSVImportError(f"{name}: column '{col}' has no values at all — ignore it")
    if kind == "numeric" and column.n_numbers == 0:
        row, text = column.first_text
        raise CSVImportError(
            f"{name}: column '{col}' has no numeric values (line {table.line_of(row)}: "
            f"{text!r}), so it cannot be {role} as numbers — treat it as categorical or ignore it")
    if kind == "numeric" and column.too_large is not None:
        row, value = column.too_large
        raise CSVImportError(
            f"{name}: column '{col}' has a value too large to compute with (line "
            f"{table.line_of(row)}: {value:g}) — rescale the column or ignore it")
    if kind == "categorical":
        n_levels = len(table.codes(col)[1])
        if n_levels > LEVEL_LIMIT:
            raise CSVImportError(
                f"{name}: column '{col}' has {n_levels} different values; as {role} it would "
                f"need {n_levels} {'outputs' if is_target else 'inputs'} — ignore it, or "
                "group its values into a few categories first")
        if column.kind == "text" and not is_target and not overridden:
            row, text = column.first_text or (0, "")
            numbers = ("has no numeric values" if column.n_numbers == 0 else
                       "is not numeric (only 1 of its values is a number)" if column.n_numbers == 1 else
                       f"is not numeric (only {column.n_numbers:,} of its values are numbers)")
            spread = ("a different value on every row" if column.identifier else
                      f"{n_levels} different values")
            raise CSVImportError(
                f"{name}: column '{col}' {numbers} (line {table.line_of(row)}: {text!r}) and "
                f"{spread}, so it cannot be a numeric feature — ignore it (or, if it is a "
                "category, choose categorical)")


def _missing_mask(table: CSVTable, column: ColumnInfo, kind: str) -> np.ndarray:
    if kind == "numeric":
        return np.isnan(table.numbers(column.name))
    return table.codes(column.name)[0] < 0


def _nothing_kept(table, options, missing: dict, target: str) -> CSVImportError:
    if options.missing == "fill":
        return CSVImportError(f"{table.name}: no row has a value for the target '{target}' "
                              "— choose another target")
    worst = max(missing, key=lambda c: missing[c].sum())
    return CSVImportError(
        f"{table.name}: every row has a missing value in the chosen columns ('{worst}' is "
        f"missing in {int(missing[worst].sum())} of {table.n_rows} rows) — fill missing values "
        f"instead of dropping rows, or ignore '{worst}'")


def _one_value(table, target: str, value, n_rows: int) -> CSVImportError:
    shown = value if isinstance(value, str) else f"{value:g}"
    return CSVImportError(f"{table.name}: the target '{target}' has only one value ({shown!r}) "
                          f"in the {counted(n_rows, 'row')} kept — nothing to learn; choose another target")


def _class_per_row(table, target: ColumnInfo, classes: list, n_rows: int) -> CSVImportError:
    """Classes of about one row each: nothing a network could learn or be tested on.  Most
    often numbers the file writes in a way not read as numbers (a decimal comma, a unit)."""
    k = len(classes)
    spread = ("a different value on every row" if k == n_rows else
              f"{k:,} different values in {n_rows:,} rows")
    shown = ", ".join(repr(c) for c in classes[:3]) + (", …" if k > 3 else "")
    if target.base == "numeric":
        why, advice = "", "use it as numeric (regression), or choose another target"
    elif sum(is_number(c, ".") or is_number(c, ",") for c in classes) >= NUMERIC_SHARE * k:
        why, advice = ": numbers written as text?", ("check how the file writes its numbers "
                                                     "(a decimal comma?), or choose another target")
    else:
        why, advice = "", "choose another target"
    return CSVImportError(f"{table.name}: column '{target.name}' has {spread}{why} ({shown}) "
                          f"— as the target that is {k:,} classes of about one row each: {advice}")


def _test_rows(n: int, fraction: float) -> int:
    if fraction <= 0 or n < 2:
        return 0
    return min(n - 1, max(1, int(round(n * fraction))))


# -- building the arrays -----------------------------------------------------------------
class _NumericInput:
    width = 1

    def __init__(self, values, keep, fill: bool):
        self.values = values
        self.fill = float(np.nanmean(values[keep])) if fill else None
        self.mean, self.std = 0.0, 1.0

    def gather(self, rows):
        v = self.values[rows]
        if self.fill is not None:
            v[np.isnan(v)] = self.fill
        return v

    def fit(self, train_rows):
        v = self.gather(train_rows)
        self.mean = float(v.mean())
        std = float(v.std())
        self.std = std if std > 0 else 1.0      # a constant input stays constant, not NaN

    def write(self, out, rows):
        v = self.gather(rows)           # contiguous: the arithmetic, then one strided copy
        v -= self.mean
        v /= self.std
        out[:, 0] = v


class _OneHotInput:
    """Levels in use become columns 0 .. width−1; 0/1 values, never standardised."""
    mean, std = 0.0, 1.0

    def __init__(self, codes, levels_in_use, keep, fill: bool):
        self.codes = codes
        self.position = np.full(int(codes.max()) + 2, -1, np.int64)   # index −1: missing
        self.position[levels_in_use] = np.arange(len(levels_in_use))
        self.width = len(levels_in_use)
        self.fill = None
        if fill:
            kept = codes[keep]
            self.fill = int(np.argmax(np.bincount(kept[kept >= 0])))   # the most frequent

    def fit(self, train_rows):
        pass

    def write(self, out, rows):
        codes = self.codes[rows]
        if self.fill is not None:
            codes = np.where(codes < 0, self.fill, codes)
        out[...] = 0.0
        out[np.arange(len(rows)), self.position[codes]] = 1.0


def _assemble(inputs, rows, width) -> np.ndarray:
    """The rows' inputs side by side, block by block: writing a million-row column at a
    time would walk the whole matrix once per column."""
    X = np.empty((len(rows), width))
    for start in range(0, len(rows), _BLOCK_ROWS):
        block_rows = rows[start:start + _BLOCK_ROWS]
        block = X[start:start + len(block_rows)]
        col = 0
        for item in inputs:
            item.write(block[:, col:col + item.width], block_rows)
            col += item.width
    return X


def build_dataset(table: CSVTable, options: ImportOptions):
    """(Dataset, notes): the arrays the network trains on, and what the user should know
    about how they were made."""
    plan = plan_import(table, options)
    try:
        return _build(table, options, plan)
    except MemoryError:
        raise CSVImportError(f"{table.name}: too large for the memory available while "
                             "building the data set — use a sample of its rows") from None


def _build(table, options, plan: ImportPlan):
    fill = options.missing == "fill"
    keep = plan.keep
    inputs = [_NumericInput(table.numbers(c), keep, fill) if kind == "numeric" else
              _OneHotInput(table.codes(c)[0], plan.levels[c], keep, fill)
              for c, kind in plan.features]
    rows = np.flatnonzero(keep)
    # A seeded random n_test of the kept rows are the test set; both sets stay in file
    # order (reading memory in order is faster; the trainer shuffles its batches anyway).
    is_test = np.zeros(rows.size, bool)
    is_test[np.random.RandomState(options.seed).permutation(rows.size)[:plan.n_test]] = True
    test_rows, train_rows = rows[is_test], rows[~is_test]
    if options.standardise:
        for item in inputs:
            item.fit(train_rows)
    width = len(plan.input_names)
    X, X_test = _assemble(inputs, train_rows, width), _assemble(inputs, test_rows, width)
    x_mean = x_std = y_mean = y_std = None
    if options.standardise:
        x_mean = np.concatenate([np.full(i.width, i.mean) for i in inputs])
        x_std = np.concatenate([np.full(i.width, i.std) for i in inputs])
    if plan.task == "classification":
        codes = table.codes(plan.target)[0]
        index_of = np.full(int(codes.max()) + 1, -1, np.int64)
        index_of[plan.levels[plan.target]] = np.arange(len(plan.classes))
        Y, Y_test = (index_of[codes[r]].astype(float).reshape(-1, 1) for r in (train_rows, test_rows))
    else:
        y = table.numbers(plan.target)
        Y, Y_test = y[train_rows].reshape(-1, 1), y[test_rows].reshape(-1, 1)
        if options.standardise:
            y_mean, y_std = Y.mean(axis=0), Y.std(axis=0)
            y_std = np.where(y_std > 0, y_std, 1.0)
            Y, Y_test = (Y - y_mean) / y_std, (Y_test - y_mean) / y_std
    dataset = Dataset(
        table.path.stem, X, Y, list(plan.input_names), [plan.target], plan.task,
        classes=plan.classes, x_mean=x_mean, x_std=x_std, y_mean=y_mean, y_std=y_std,
        X_test=X_test if plan.n_test else None, Y_test=Y_test if plan.n_test else None)
    return dataset, table.notes + _notes(table, plan)


def _notes(table: CSVTable, plan: ImportPlan) -> list:
    notes = []
    used = [plan.target] + [c for c, _ in plan.features]
    for name in used:
        column = table.column(name)
        if column.junk:
            notes.append(f"column '{name}': {column.warning}")
    dropped = plan.rows_total - int(plan.keep.sum())
    if dropped:
        why = "a missing value" if plan.missing == "drop" else "no target value"
        they = "it has" if dropped == 1 else "they have"
        notes.append(f"{dropped:,} of {plan.rows_total:,} rows left out: {they} {why}")
    elif plan.missing == "fill" and plan.rows_kept["drop"] < plan.rows_total:
        filled = plan.rows_total - plan.rows_kept["drop"]
        notes.append(f"{counted(filled, 'row')} had missing values, filled with the column's mean "
                     "(numbers) or most frequent value (categories)")
    return notes


# -- a network for the data ----------------------------------------------------------------
OUTPUT_LAYER = {"regression": ("linear", "mse"),
                "binary": ("sigmoid", "binary_cross_entropy"),
                "multiclass": ("softmax", "cross_entropy")}
_INIT_FOR = {"relu": "he", "leaky_relu": "he"}    # others: xavier (Glorot), made for tanh


def output_layer(dataset: Dataset) -> tuple:
    """(output activation, loss) for the data set's task."""
    if dataset.task == "regression":
        return OUTPUT_LAYER["regression"]
    return OUTPUT_LAYER["binary" if len(dataset.classes) == 2 else "multiclass"]


def make_csv_setup(dataset: Dataset, hidden=(8,), activation: str = "tanh",
                   lr: float = 0.01, seed: int = 0, optimizer: str = "adam",
                   batch_size: int | None | str = "auto", epochs: int | None = None,
                   title: str | None = None, narrative: str = "") -> Scenario:
    """A Scenario for a CSV data set: the input and output sizes follow from the data, the
    hidden layers are the caller's.  Adam by default: raw, unstandardised columns give
    gradients of any size, and Adam's step does not grow with them."""
    output, loss = output_layer(dataset)
    sizes = [dataset.X.shape[1], *[int(h) for h in hidden], dataset.n_outputs]
    network = Network(sizes, [activation] * len(hidden) + [output],
                      init=_INIT_FOR.get(activation, "xavier"), seed=seed)
    n = dataset.n_samples
    if batch_size == "auto":
        batch_size = None if n <= 2048 else 128     # big files: mini-batches keep steps cheap
    batches = 1 if not batch_size else -(-n // batch_size)
    if epochs is None:
        epochs = min(2000, max(10, 20000 // batches))
    config = TrainConfig(loss=loss, optimizer=OptimizerConfig(name=optimizer, lr=lr),
                         batch_size=batch_size, seed=seed)
    what = "regression" if dataset.task == "regression" else f"{len(dataset.classes)}-class classification"
    n_test = 0 if dataset.X_test is None else len(dataset.X_test)
    return Scenario(
        name=f"csv:{dataset.name}",
        title=title or (f"{dataset.name}: {what} of '{dataset.target_names[0]}' from "
                        f"{counted(sizes[0], 'input')}, {counted(n, 'training row')}, "
                        f"{counted(n_test, 'test row')}"),
        narrative=narrative, dataset=dataset, network=network, config=config,
        epochs=epochs, seed=seed)


# -- how well a classifier does ----------------------------------------------------------
def predicted_classes(outputs) -> np.ndarray:
    """Class indices from the output layer's β: sigmoid ≥ 0.5 → 1, else the largest."""
    outputs = np.asarray(outputs)
    return (outputs[:, 0] >= 0.5).astype(np.int64) if outputs.shape[1] == 1 else outputs.argmax(axis=1)


def confusion_matrix(outputs, Y, n_classes: int) -> np.ndarray:
    """counts[true class, predicted class], from the output layer's β and the class
    indices Y (e.g. network.predict(dataset.X_test) and dataset.Y_test)."""
    true = np.asarray(Y).reshape(-1).astype(np.int64)
    return np.bincount(true * n_classes + predicted_classes(outputs),
                       minlength=n_classes ** 2).reshape(n_classes, n_classes)


def accuracy(confusion: np.ndarray) -> float:
    total = confusion.sum()
    return float(np.trace(confusion) / total) if total else float("nan")


def accuracy_summary(network, dataset) -> str:
    """'accuracy: test 97.2 % of 36 rows · train 100.0 % of 142 rows' (the command line's
    line for a classifier; the window shows the same in its output panel)."""
    parts = []
    for what, X, Y in (("test", dataset.X_test, dataset.Y_test), ("train", dataset.X, dataset.Y)):
        if X is not None and len(X):
            with np.errstate(over="ignore", invalid="ignore"):
                counts = confusion_matrix(network.predict(X), Y, len(dataset.classes))
            parts.append(f"{what} {100 * accuracy(counts):.1f} % of {counted(len(X), 'row')}")
    return "accuracy: " + " · ".join(parts)
