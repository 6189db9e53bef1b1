"""The chain rule for one parameter (or one neuron's δ), in the lecture's notation and
numbering, with the engine's numbers filled in.

For the lecture's 2-5-1 network this is the lecture's own derivation:

    ∂E/∂w1 = ∂E/∂β_O1 · ∂β_O1/∂α_O1 · ∂α_O1/∂β_H1 · ∂β_H1/∂α_H1 · ∂α_H1/∂w1
           = (β_O1 − y) · β_O1(1 − β_O1) · w17 · β_H1(1 − β_H1) · 1

A weight whose neuron reaches the output along one path gets that chain written out.
Where there are many paths (a deeper or wider network) enumerating them would bury the
idea, so the explanation shows the δ recursion instead:

    ∂E/∂w = δ_T · β_S,   δ_T = (Σ_k w_Tk δ_k) · f′(α_T)

with the δ_k of the layer above taken from the engine's backward pass.  Every value comes
from one `Network.forward_backward` (its α, β, δ; the activation's own `derivative`, so the
"broken σ′" teaching switch shows up here too), and the explanation carries the engine's
value beside its own product so a reader — and a test — can see they agree.

Per sample (sample i of the batch: one term of the sum) or summed over the batch (the
lecture's `np.sum(dE_dw1)`: "the sum over the 10 houses").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import formula as fm
from .errors import ConfigError
from .formula import Sym, formula, frac, partial
from .losses import check_compatible, get_loss
from .numbering import ParamRef, neuron_name, param_index, parse_param_name

# How much of a long explanation is written out; the numbers behind it are always complete.
MAX_TERMS_SHOWN = 6     # terms of a δ recursion before "+ …"
MAX_TERMS_ON_SCREEN = 4     # ... on screen, where the recursion must fit beside the graph
MAX_ROWS_SHOWN = 12     # samples in the batch table before "…"
MATCH_RTOL = 1e-9       # "equals the engine" in the rendering (tests use their own bound)

# Pastel backgrounds tie each factor's symbol, formula and value together on screen.
COLUMN_COLOURS = ("#e3edfb", "#fdecdc", "#e2f3e6", "#f1e6fb", "#fbf3d5", "#dcf2f4")


# -- what is being explained ---------------------------------------------------------------
@dataclass(frozen=True)
class Neuron:
    level: int      # 1 .. L (inputs have no δ)
    unit: int
    name: str


def neuron_names(sizes, level: int) -> list[str]:
    return [neuron_name(sizes, level, u) for u in range(sizes[level])]


def parse_target(sizes, name: str) -> ParamRef | Neuron:
    """'w17' → the parameter; 'H1', 'O1', 'H2_3' → that neuron (for its δ)."""
    s = str(name).strip()
    if re.fullmatch(r"w\s*\d+", s):
        return parse_param_name(sizes, s)
    for level in range(1, len(sizes)):
        for unit, candidate in enumerate(neuron_names(sizes, level)):
            if candidate == s:
                return Neuron(level, unit, s)
    if s in neuron_names(sizes, 0):
        raise ConfigError(f"{s} is an input: it has no δ; explain a parameter w1..w"
                          f"{_n_params(sizes)} or a neuron")
    neurons = ", ".join(f"{names[0]}..{names[-1]}" if len(names) > 1 else names[0]
                        for names in (neuron_names(sizes, lv) for lv in range(1, len(sizes))))
    raise ConfigError(f"{name!r} is neither a parameter (w1..w{_n_params(sizes)}) "
                      f"nor a neuron ({neurons})")


def _n_params(sizes) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


# -- the structured explanation ------------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """A value a formula uses (β_O1, y, n...), one entry per explained sample."""
    symbol: tuple
    values: np.ndarray


@dataclass(frozen=True)
class Factor:
    symbol: tuple           # ∂E/∂β_O1
    formula: tuple          # (β_O1 − y)
    values: np.ndarray      # one per explained sample
    quantities: tuple = ()  # the Quantities in `formula`
    note: str = ""

    @property
    def value(self) -> float:
        return float(self.values[0])


@dataclass(frozen=True)
class Checkpoint:
    """The leading `count` factors multiply to an error signal δ (the engine's δ beside)."""
    symbol: tuple           # δ_O1 = ∂E/∂α_O1
    count: int
    values: np.ndarray
    engine: np.ndarray


@dataclass(frozen=True)
class DeltaTerm:
    weight: tuple           # w17
    weight_value: float
    upstream: tuple         # δ_O1
    upstream_values: np.ndarray


@dataclass(frozen=True)
class Recursion:
    """δ_T = (Σ_k w_Tk δ_k) · f′(α_T), with the δ_k of the layer above from the engine."""
    delta: tuple            # δ_H1
    terms: tuple            # DeltaTerm per neuron of the layer above
    sums: np.ndarray        # Σ_k w_Tk δ_k per sample
    derivative: Factor      # ∂β_T/∂α_T
    values: np.ndarray      # sums · f′
    engine: np.ndarray      # the engine's δ_T


@dataclass(frozen=True)
class Explanation:
    name: str               # "w1" or "H1"
    target: tuple           # ∂E/∂w1, or δ_H1: what the chain equals
    title: tuple            # ∂E/∂w1, or δ_H1 = ∂E/∂α_H1
    factors: tuple
    samples: np.ndarray     # the explained samples (indices into the batch)
    batch_size: int
    per_sample: bool        # one sample's term, or the sum over the batch
    products: np.ndarray    # the factors' product, per sample
    total: float            # Σ of products (per sample: the one product)
    engine: float           # the engine's value of the same quantity (Pass.gradients, Pass.deltas)
    engine_batch: float     # the engine's value summed over the batch
    batch_label: tuple      # what engine_batch is: ∂E/∂w1 (for a δ: its neuron's bias gradient)
    checkpoints: tuple
    recursion: Recursion | None
    network: str
    loss_formula: tuple
    notes: tuple = ()

    @property
    def value(self) -> float:
        return self.total

    @property
    def matches_engine(self) -> bool:
        # Rounding in a sum is bounded by the size of its terms, not of its result.
        scale = float(np.abs(self.products).sum())
        return abs(self.total - self.engine) <= MATCH_RTOL * max(scale, abs(self.engine))

    def to_text(self, digits: int = 4) -> str:
        return _TextRenderer(self, digits).render()

    def to_html(self, digits: int = 4, factors_per_row: int | None = None) -> str:
        """Qt rich text; the chain is cut after every `factors_per_row` factors."""
        return _HtmlRenderer(self, digits, factors_per_row).render()

    def chain_html(self, digits: int = 4, factors_per_row: int | None = None) -> str:
        """Only the chain's tables, as in to_html (for a widget measuring what fits)."""
        return "\n".join(_HtmlRenderer(self, digits, factors_per_row).chain())

    def head_html(self, digits: int = 4, factors_per_row: int | None = None) -> str:
        """The beginning of to_html a class must see without scrolling: the title, the
        chain with its values and product, the engine's verdict and the δ recursion."""
        return "\n".join(_HtmlRenderer(self, digits, factors_per_row).head())


# -- building it from one forward/backward pass --------------------------------------------
class _Context:
    def __init__(self, net, X, Y, loss, sample):
        self.net, self.sizes, self.L = net, net.sizes, net.n_layers
        self.loss = get_loss(loss)
        check_compatible(self.loss, net.activation_names[-1])
        self.p = net.forward_backward(X, Y, self.loss)
        self.n = self.p.inputs.shape[0]
        self.Y = net.targets_for(Y, self.n)
        self.per_sample = sample is not None
        if sample is None:
            self.rows = np.arange(self.n)
        else:
            if not 0 <= int(sample) < self.n:     # said as the lecture counts: i = 1..n
                raise ConfigError(f"sample {int(sample) + 1} does not exist: the batch has "
                                  f"samples 1..{self.n}")
            self.rows = np.array([int(sample)])
        self.classification = self.loss.name in ("cross_entropy", "binary_cross_entropy")

    # the pass's values at the explained samples
    def beta(self, level):
        return (self.p.inputs if level == 0 else self.p.betas[level - 1])[self.rows]

    def alpha(self, level):
        return self.p.alphas[level - 1][self.rows]

    def delta(self, level):
        return self.p.deltas[level - 1][self.rows]

    def constant(self, value):
        return np.full(self.rows.size, float(value))

    # symbols
    def name(self, level, unit):
        return neuron_name(self.sizes, level, unit)

    def value_symbol(self, level, unit):
        """x1 for an input, β_H1 for a neuron."""
        return Sym("x", str(unit + 1)) if level == 0 else Sym("β", self.name(level, unit))

    def target_symbol(self, unit):
        base = "t" if self.classification else "y"
        return Sym(base) if self.sizes[-1] == 1 else Sym(base, str(unit + 1))

    def weight_symbol(self, index):
        return Sym("w", str(index + 1))

    def batch_symbol(self):
        return "n" if self.sizes[-1] == 1 else "nK"

    def batch_quantity(self):
        return Quantity(formula(self.batch_symbol()), self.constant(self.n * self.sizes[-1]))


def derivative_formula(activation_name: str, neuron: str):
    """∂β/∂α of a neuron in the lecture's notation, the symbol it reads (β or α, or None),
    and a note when the derivative is the deliberately broken σ′."""
    a_sym, b_sym = Sym("α", neuron), Sym("β", neuron)
    if activation_name == "sigmoid":
        return formula(b_sym, "(1 − ", b_sym, ")"), b_sym, ""
    if activation_name.startswith("sigmoid"):
        return (formula(b_sym), b_sym,
                f"σ′ is broken on purpose: the factor (1 − {fm.text(b_sym)}) is missing")
    if activation_name == "tanh":
        return formula("(1 − ", Sym("β", neuron, "2"), ")"), b_sym, ""
    if activation_name == "relu":
        return formula("[", a_sym, " > 0]"), a_sym, ""
    if activation_name == "leaky_relu":
        return formula("(1 if ", a_sym, " > 0, else 0.01)"), a_sym, ""
    if activation_name == "linear":
        return formula("1"), None, ""
    raise ConfigError(f"no elementwise derivative to explain for {activation_name!r}")


def activation_formula(activation_name: str, neuron: str) -> tuple:
    """β = f(α) of a neuron: β_H1 = σ(α_H1) = 1/(1 + e^−α_H1)."""
    a, b = Sym("α", neuron), Sym("β", neuron)
    if activation_name.startswith("sigmoid"):
        return formula(b, " = σ(", a, "),  σ(α) = ", frac("1", ("1 + ", Sym("e", "", "−α"))))
    if activation_name == "tanh":
        return formula(b, " = tanh(", a, ")")
    if activation_name == "relu":
        return formula(b, " = max(0, ", a, ")")
    if activation_name == "leaky_relu":
        return formula(b, " = max(0.01", a, ", ", a, ")")
    if activation_name == "linear":
        return formula(b, " = ", a)
    return formula(Sym("β", "k"), " = ", frac(Sym("e", "", "α_k"), (Sym("Σ", "j"), " ", Sym("e", "", "α_j"))))


def _derivative_factor(ctx: _Context, level, unit) -> Factor:
    """∂β/∂α of one neuron, from the activation's own `derivative` (so a deliberately broken
    σ′ is explained as the engine computes it)."""
    act = ctx.net.activations[level - 1]
    name = ctx.name(level, unit)
    alpha, beta = ctx.alpha(level)[:, unit], ctx.beta(level)[:, unit]
    values = np.asarray(act.derivative(alpha, beta), dtype=float)
    f, reads, note = derivative_formula(act.name, name)
    quantities = () if reads is None else \
        (Quantity(formula(reads), beta if reads.base == "β" else alpha),)
    return Factor(formula(partial(Sym("β", name), Sym("α", name))), f, values, quantities, note)


def _output_factors(ctx: _Context, unit) -> list[Factor]:
    """The factors from E down to α of output `unit`: ∂E/∂β · ∂β/∂α, or one fused δ where
    the loss and the output activation are computed together."""
    L, n = ctx.L, ctx.n
    name = ctx.name(L, unit)
    beta, target = ctx.beta(L), ctx.Y[ctx.rows]
    b, t = beta[:, unit], target[:, unit]
    b_sym, a_sym, t_sym = Sym("β", name), Sym("α", name), ctx.target_symbol(unit)
    quantities = (Quantity(formula(b_sym), b), Quantity(formula(t_sym), t))
    difference = formula("(", b_sym, " − ", t_sym, ")")
    d_alpha = formula(partial("E", a_sym))
    loss = ctx.loss.name
    if loss == "cross_entropy":
        # Targets whose rows sum to one (one-hot): δ = (β − t)/n, as the engine computes it.
        values = (b * target.sum(axis=1) - t) / n
        return [Factor(d_alpha, formula(frac(difference, "n")), values,
                       quantities + (Quantity(formula("n"), ctx.constant(n)),),
                       "softmax and cross-entropy together: their derivatives combine into β − t")]
    if loss == "binary_cross_entropy":
        values = (b - t) / (n * ctx.sizes[-1])
        return [Factor(d_alpha, formula(frac(difference, ctx.batch_symbol())), values,
                       quantities + (ctx.batch_quantity(),),
                       "σ and binary cross-entropy together: β(1 − β) cancels, leaving β − t")]
    scale = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / (n * ctx.sizes[-1])}[loss]
    if loss == "half_sse":
        d_beta_formula = difference
    elif loss == "sse":
        d_beta_formula = formula("2", difference)
    else:
        d_beta_formula = formula(frac(("2", difference), ctx.batch_symbol()))
        quantities += (ctx.batch_quantity(),)
    act = ctx.net.activations[L - 1]
    if not act.elementwise:
        # Softmax with a squared loss: every output's ∂E/∂β reaches α_Ok through the
        # Jacobian, δ_k = β_k (g_k − Σ_j g_j β_j).
        g = scale * (beta - target)
        values = b * (g[:, unit] - (g * beta).sum(axis=1))
        g_sym = partial("E", b_sym)
        return [Factor(d_alpha, formula(b_sym, "(", g_sym, " − ", Sym("Σ", "j"), " ",
                                        partial("E", Sym("β", "j")), " ", Sym("β", "j"), ")"),
                       values, quantities,
                       "softmax mixes all outputs: ∂E/∂α needs every ∂E/∂β_j")]
    return [Factor(formula(partial("E", b_sym)), d_beta_formula, scale * (b - t), quantities),
            _derivative_factor(ctx, L, unit)]


def _weight_factor(ctx: _Context, layer, row, unit) -> Factor:
    """∂α_up/∂β_below = the weight between them."""
    k = param_index(ctx.sizes, layer, row, unit)
    up = Sym("α", ctx.name(layer + 1, unit))
    return Factor(formula(partial(up, ctx.value_symbol(layer, row - 1))),
                  formula(ctx.weight_symbol(k)), ctx.constant(ctx.net.params[k]))


def _source_factor(ctx: _Context, ref: ParamRef) -> Factor:
    """∂α_T/∂w = what the weight multiplies: 1 for a bias, else β (or x) of its tail."""
    head = Sym("α", ctx.name(ref.layer + 1, ref.unit))
    symbol = formula(partial(head, ctx.weight_symbol(ref.index)))
    if ref.is_bias:
        return Factor(symbol, formula("1"), ctx.constant(1.0))
    tail = ctx.value_symbol(ref.layer, ref.row - 1)
    return Factor(symbol, formula(tail), ctx.beta(ref.layer)[:, ref.row - 1].astype(float))


def _single_path(ctx: _Context, level) -> bool:
    """Does a neuron at `level` reach E along exactly one chain of neurons?"""
    return all(ctx.sizes[m] == 1 for m in range(level + 1, ctx.L + 1))


def _chain_to_delta(ctx: _Context, level, unit):
    """The single-path chain from E down to α of (level, unit), with the δ it passes."""
    out_unit = unit if level == ctx.L else 0
    factors = _output_factors(ctx, out_unit)
    checkpoints = [_checkpoint(ctx, factors, ctx.L, out_unit)]
    for m in range(ctx.L - 1, level - 1, -1):
        below = unit if m == level else 0
        factors.append(_weight_factor(ctx, m, below + 1, 0))
        factors.append(_derivative_factor(ctx, m, below))
        checkpoints.append(_checkpoint(ctx, factors, m, below))
    return factors, checkpoints


def _delta_symbol(ctx, level, unit) -> tuple:
    """δ_H1 = ∂E/∂α_H1."""
    name = ctx.name(level, unit)
    return formula(Sym("δ", name), " = ", partial("E", Sym("α", name)))


def _checkpoint(ctx, factors, level, unit) -> Checkpoint:
    return Checkpoint(_delta_symbol(ctx, level, unit), len(factors),
                      np.prod([f.values for f in factors], axis=0),
                      ctx.delta(level)[:, unit].copy())


def _recursion(ctx: _Context, level, unit) -> Recursion:
    terms = []
    for k in range(ctx.sizes[level + 1]):
        w = param_index(ctx.sizes, level, unit + 1, k)
        terms.append(DeltaTerm(formula(ctx.weight_symbol(w)), float(ctx.net.params[w]),
                               formula(Sym("δ", ctx.name(level + 1, k))),
                               ctx.delta(level + 1)[:, k].copy()))
    sums = ctx.delta(level + 1) @ ctx.net.weights[level][unit]
    derivative = _derivative_factor(ctx, level, unit)
    return Recursion(formula(Sym("δ", ctx.name(level, unit))), tuple(terms), sums, derivative,
                     sums * derivative.values, ctx.delta(level)[:, unit].copy())


def loss_formula(sizes, loss_name: str) -> tuple:
    """E in the lecture's notation: E = ½ Σ_i (β_O1 − y)² for the lecture's network."""
    K = sizes[-1]
    classification = loss_name in ("cross_entropy", "binary_cross_entropy")
    out = neuron_name(sizes, len(sizes) - 1, 0)
    b = Sym("β", out) if K == 1 else Sym("β", "k")
    t = Sym("t" if classification else "y", "" if K == 1 else "k")
    n = "n" if K == 1 else "nK"
    over = formula(Sym("Σ", "i"), " ") if K == 1 else formula(Sym("Σ", "i"), " ", Sym("Σ", "k"), " ")
    square = formula("(", b, " − ", t, ")", Sym("", "", "2"))
    if loss_name == "half_sse":
        return formula("E = ½ ", over, square)
    if loss_name == "sse":
        return formula("E = ", over, square)
    if loss_name == "mse":
        return formula("E = ", frac("1", n), " ", over, square)
    if loss_name == "cross_entropy":
        return formula("E = −", frac("1", "n"), " ", Sym("Σ", "i"), " ", Sym("Σ", "k"), " ", t,
                       " log ", b)
    return formula("E = −", frac("1", n), " ", over, "[", t, " log ", b,
                   " + (1 − ", t, ") log(1 − ", b, ")]")


def _finish(ctx, name, target, title, factors, checkpoints, recursion, engine_terms,
            engine_batch, batch_label, notes) -> Explanation:
    products = np.prod([f.values for f in factors], axis=0)
    per_sample = ctx.per_sample
    total = float(products.sum())
    engine = float(engine_terms[0]) if per_sample else float(engine_batch)
    notes = tuple(notes) + tuple(f.note for f in factors if f.note)
    if recursion is not None and recursion.derivative.note:
        notes += (recursion.derivative.note,)
    return Explanation(
        name=name, target=target, title=title, factors=tuple(factors), samples=ctx.rows.copy(),
        batch_size=ctx.n, per_sample=per_sample, products=products, total=total,
        engine=engine, engine_batch=float(engine_batch),
        batch_label=batch_label, checkpoints=tuple(checkpoints), recursion=recursion,
        network=ctx.net.describe(), loss_formula=loss_formula(ctx.sizes, ctx.loss.name),
        notes=tuple(dict.fromkeys(notes)))


def explain(net, X, Y, loss, name: str, sample: int | None = None) -> Explanation:
    """Explain ∂E/∂wK (name 'wK') or δ of a neuron (name 'H1', 'O1', 'H2_3') on the batch
    (X, Y): for sample `sample` (its term of the sum) or, with sample=None, summed over the
    batch.  The explanation's total equals the engine's value (Pass.gradients / Pass.deltas)."""
    target = parse_target(net.sizes, name)
    ctx = _Context(net, X, Y, loss, sample)
    if isinstance(target, Neuron):
        return _explain_delta(ctx, target)
    return _explain_parameter(ctx, target)


def _explain_parameter(ctx: _Context, ref: ParamRef) -> Explanation:
    level, unit = ref.layer + 1, ref.unit
    w = ctx.weight_symbol(ref.index)
    source = _source_factor(ctx, ref)
    recursion = None
    if level == ctx.L or _single_path(ctx, level):
        factors, checkpoints = _chain_to_delta(ctx, level, unit)
        factors.append(source)
    else:
        recursion = _recursion(ctx, level, unit)
        head = Sym("α", ctx.name(level, unit))
        factors = [Factor(formula(partial("E", head)), recursion.delta, recursion.values),
                   source]
        checkpoints = [Checkpoint(_delta_symbol(ctx, level, unit), 1, recursion.values,
                                  recursion.engine)]
    engine_terms = ctx.delta(level)[:, unit] * source.values
    label = formula(partial("E", w))
    return _finish(ctx, ref.name, label, label, factors, checkpoints, recursion, engine_terms,
                   ctx.p.gradients.flat[ref.index], label, ())


def _explain_delta(ctx: _Context, neuron: Neuron) -> Explanation:
    level, unit, name = neuron.level, neuron.unit, neuron.name
    recursion = None
    if level == ctx.L or _single_path(ctx, level):
        factors, checkpoints = _chain_to_delta(ctx, level, unit)
        checkpoints = checkpoints[:-1]          # the last one is the answer itself
    else:
        recursion = _recursion(ctx, level, unit)
        b_sym = Sym("β", name)
        sum_formula = formula("(", Sym("Σ", "k"), " ", Sym("w", name + "→k"), " ", Sym("δ", "k"), ")")
        factors = [Factor(formula(partial("E", b_sym)), sum_formula, recursion.sums),
                   recursion.derivative]
        checkpoints = []
    bias = param_index(ctx.sizes, level - 1, 0, unit)
    target = formula(Sym("δ", name))
    title = formula(target, " = ", partial("E", Sym("α", name)))
    notes = (f"Σ over the batch of δ_{name} is ∂E/∂w{bias + 1}, the gradient of {name}'s bias",)
    return _finish(ctx, name, target, title, factors, checkpoints, recursion, ctx.delta(level)[:, unit],
                   ctx.p.gradients.flat[bias], formula(partial("E", Sym("w", str(bias + 1)))),
                   notes)


# -- rendering -------------------------------------------------------------------------------
def sample_number(index) -> int:
    """The lecture's i of the sample at batch position `index`: it counts from 1."""
    return int(index) + 1


def _header(e: Explanation) -> str:
    """The plain-words line under the title (shared by both renderings); short, because in
    presentation mode every line pushes the numbers down."""
    if e.per_sample:
        return (f"for sample i = {sample_number(e.samples[0])}: one of the {e.batch_size} "
                "terms of the sum")
    return f"summed over the {e.batch_size} samples of the batch"


def _where(e: Explanation) -> list[tuple]:
    """(symbol, value) of every quantity the formulas use, once each, at the shown sample."""
    seen = {}
    for f in e.factors + ((e.recursion.derivative,) if e.recursion else ()):
        for q in f.quantities:
            seen.setdefault(fm.text(q.symbol), (q.symbol, float(q.values[0])))
    return list(seen.values())


def _shown_rows(e: Explanation) -> list[int]:
    n = e.samples.size
    return list(range(n)) if n <= MAX_ROWS_SHOWN else list(range(MAX_ROWS_SHOWN - 1))


def _agreement(e: Explanation) -> str:
    """How closely the explanation's number and the engine's agree, in words."""
    if e.total == e.engine:
        return "identical"
    if not e.matches_engine:
        return "DIFFERENT"
    relative = abs(e.total - e.engine) / max(abs(e.total), abs(e.engine))
    if relative >= 0.1:             # both are rounding noise around zero
        return "both zero up to rounding"
    digits = int(np.floor(-np.log10(relative)))
    return f"the same to {digits} significant digits: rounding, summed in another order"


class _TextRenderer:
    def __init__(self, e: Explanation, digits: int):
        self.e, self.digits = e, digits

    def num(self, v):
        s = fm.number_text(v, self.digits)
        return f"({s})" if s.startswith(fm.MINUS) else s

    def render(self) -> str:
        e = self.e
        lines = [f"{fm.text(e.title)}  {_header(e)}",
                 f"network {e.network}; loss {fm.text(e.loss_formula)}", ""]
        lines += self.chain()
        if e.per_sample:
            where = _where(e)
            if where:
                lines.append("where " + ", ".join(f"{fm.text(s)} = {fm.number_text(v, self.digits)}"
                                                  for s, v in where))
        else:
            lines += [""] + self.table()
        for c in e.checkpoints:
            lines.append(self.checkpoint(c))
        if e.recursion is not None:
            lines += [""] + self.recursion()
        lines += [f"note: {n}" for n in e.notes]
        lines += [""] + self.result()
        return "\n".join(lines)

    def chain(self) -> list[str]:
        e = self.e
        symbols = [fm.text(f.symbol) for f in e.factors]
        formulas = [fm.text(f.formula) for f in e.factors]
        values = [self.num(f.value) for f in e.factors] if e.per_sample else None
        widths = [max(len(s), len(f), len(v) if values else 0)
                  for s, f, v in zip(symbols, formulas, values or symbols)]
        lhs = fm.text(e.target)
        pad = " " * len(lhs)
        sigma = "" if e.per_sample else "Σ_i "

        def row(cells):
            return " · ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        lines = [f"{lhs} = {sigma}{row(symbols)}", f"{pad} = {sigma}{row(formulas)}"]
        if values:
            lines.append(f"{pad} = {row(values)}")
            lines.append(f"{pad} = {fm.number_text(e.total, self.digits)}")
        return lines

    def table(self) -> list[str]:
        e = self.e
        head = ["i"] + [fm.text(f.symbol) for f in e.factors] + ["product"]
        rows = [[str(sample_number(e.samples[r]))] + [fm.number_text(f.values[r], self.digits) for f in e.factors]
                + [fm.number_text(e.products[r], self.digits)] for r in _shown_rows(e)]
        if e.samples.size > MAX_ROWS_SHOWN:
            rows.append(["…"] + [""] * len(e.factors) + [f"({e.samples.size - len(rows)} more)"])
        rows.append(["Σ"] + [""] * len(e.factors) + [fm.number_text(e.total, self.digits)])
        widths = [max(len(r[c]) for r in [head] + rows) for c in range(len(head))]
        return ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)) for r in [head] + rows]

    def checkpoint(self, c: Checkpoint) -> str:
        which = "the first factor is" if c.count == 1 else f"the first {c.count} factors make"
        if self.e.per_sample:
            value = f" = {fm.number_text(c.values[0], self.digits)}"
        else:
            value = f" (Σ over the batch: {fm.number_text(c.values.sum(), self.digits)})"
        return f"{which} the error signal {fm.text(c.symbol)}{value}"

    def recursion(self) -> list[str]:
        e, r = self.e, self.e.recursion
        terms = r.terms[:MAX_TERMS_SHOWN]
        more = len(r.terms) - len(terms)
        symbolic = " + ".join(f"{fm.text(t.weight)}·{fm.text(t.upstream)}" for t in terms)
        symbolic += f" + … ({more} more)" if more else ""
        lines = ["δ of the layer above, weighted and summed:",
                 f"{fm.text(r.delta)} = ({symbolic}) · {fm.text(r.derivative.formula)}"]
        if e.per_sample:
            numbers = " + ".join(f"{self.num(t.weight_value)}·{self.num(t.upstream_values[0])}"
                                 for t in terms) + (" + …" if more else "")
            lines.append(f"{' ' * len(fm.text(r.delta))} = ({numbers}) · {self.num(r.derivative.value)}")
            lines.append(f"{' ' * len(fm.text(r.delta))} = {self.num(r.sums[0])} · "
                         f"{self.num(r.derivative.value)} = {fm.number_text(r.values[0], self.digits)}")
        return lines

    def result(self) -> list[str]:
        e = self.e
        lhs = fm.text(e.target)
        verdict = _agreement(e)
        lines = [f"result: {lhs} = {fm.full_precision(e.total)}",
                 f"engine: {fm.full_precision(e.engine)}  ({verdict})"]
        if e.per_sample:
            lines.append(f"summed over all {e.batch_size} samples, the engine's "
                         f"{fm.text(e.batch_label)} = {fm.full_precision(e.engine_batch)}")
        return lines


class _HtmlRenderer:
    OP = '<td valign="middle" align="center">&nbsp;{}&nbsp;</td>'

    def __init__(self, e: Explanation, digits: int, factors_per_row: int | None):
        self.e, self.digits = e, digits
        self.per_row = factors_per_row or max(1, len(e.factors))

    def num(self, v):
        s = fm.number_html(v, self.digits)
        return f"({s})" if s.startswith(fm.MINUS) else s

    def cell(self, content, column=None, align="center"):
        colour = f' bgcolor="{COLUMN_COLOURS[column % len(COLUMN_COLOURS)]}"' if column is not None else ""
        return f'<td valign="middle" align="{align}"{colour}>{content}</td>'

    def render(self) -> str:
        """Most important first, for a panel that shows only its top in presentation mode:
        the chain with its numbers and product, the engine's verdict, where the δ came from;
        the per-sample evidence and the network's description last."""
        e = self.e
        parts = self.head()
        if e.per_sample:
            where = _where(e)
            if where:
                parts.append("<p>where " + ", &nbsp;".join(
                    f"{fm.html_inline(s)} = {fm.number_html(v, self.digits)}" for s, v in where) + "</p>")
        for c in e.checkpoints:
            parts.append(self.checkpoint(c))
        parts += [f"<p><i>{fm.rich(n)}</i></p>" for n in e.notes]
        if not e.per_sample:
            parts.append(self.table())
        parts.append(f"<p><small>network {e.network}; loss {fm.html_inline(e.loss_formula)}"
                     "</small></p>")
        return "\n".join(parts)

    def head(self) -> list[str]:
        e = self.e
        parts = [f"<p><big><b>{fm.html_inline(e.title)}</b></big>&nbsp;&nbsp;"
                 f"<small>{_header(e)}</small></p>"]
        parts += self.chain()
        parts.append(self.result())
        if e.recursion is not None:
            parts += self.recursion()
        return parts

    def chain(self) -> list[str]:
        e = self.e
        lhs = e.target
        sigma = "" if e.per_sample else "Σ<sub>i</sub>&nbsp;"
        tables = []
        for start in range(0, len(e.factors), self.per_row):
            chunk = list(enumerate(e.factors))[start:start + self.per_row]
            first = start == 0
            last = start + self.per_row >= len(e.factors)
            lead = self.cell(fm.html_block(lhs)) if first else self.cell("")
            joiner = self.OP.format("=" if first else "·")
            sigma_cell = self.cell(sigma) if sigma and first else ""
            rows = [[lead, joiner, sigma_cell],
                    [self.cell(""), self.OP.format("=" if first else "·"), sigma_cell]]
            values = [self.cell(""), self.OP.format("=" if first else "·"), ""] if e.per_sample else None
            for pos, (j, f) in enumerate(chunk):
                if pos:
                    rows[0].append(self.OP.format("·"))
                    rows[1].append(self.OP.format("·"))
                    if values:
                        values.append(self.OP.format("·"))
                rows[0].append(self.cell(fm.html_block(f.symbol), j))
                rows[1].append(self.cell(fm.html_block(f.formula), j))
                if values:
                    values.append(self.cell(self.num(f.value), j))
            body = rows + ([values] if values else [])
            if last:
                # The product (over the batch: the sum of the table's products) closes the
                # chain, so it is on screen with the chain itself.
                span = len(rows[1]) - 2
                source = "" if e.per_sample else "&nbsp;&nbsp;<small>(Σ of the products below)</small>"
                body.append([self.cell(""), self.OP.format("="),
                             f'<td colspan="{span}" align="left"><b>'
                             f"{fm.number_html(e.total, self.digits)}</b>{source}</td>"])
            tables.append('<table cellspacing="0" cellpadding="4">' +
                          "".join("<tr>" + "".join(r) + "</tr>" for r in body) + "</table>")
        return tables

    def table(self) -> str:
        e = self.e
        head = "".join(f'<th bgcolor="{COLUMN_COLOURS[j % len(COLUMN_COLOURS)]}">'
                       f"{fm.html_block(f.symbol)}</th>" for j, f in enumerate(e.factors))
        rows = [f"<tr><th>i</th>{head}<th>product</th></tr>"]
        for r in _shown_rows(e):
            cells = "".join(f'<td align="right">{fm.number_html(f.values[r], self.digits)}</td>'
                            for f in e.factors)
            rows.append(f'<tr><td align="right">{sample_number(e.samples[r])}</td>{cells}'
                        f'<td align="right">{fm.number_html(e.products[r], self.digits)}</td></tr>')
        if e.samples.size > MAX_ROWS_SHOWN:
            hidden = e.samples.size - len(_shown_rows(e))
            rows.append(f'<tr><td align="right">…</td><td colspan="{len(e.factors) + 1}">'
                        f"({hidden} more samples)</td></tr>")
        rows.append(f'<tr><td align="right"><b>Σ</b></td><td colspan="{len(e.factors)}"></td>'
                    f'<td align="right"><b>{fm.number_html(e.total, self.digits)}</b></td></tr>')
        caption = "<p>One row per sample, each the product of its factors:</p>"
        return caption + '<table cellspacing="0" cellpadding="5" border="1" ' \
            'style="border-collapse: collapse">' + "".join(rows) + "</table>"

    def checkpoint(self, c: Checkpoint) -> str:
        which = "The first factor is" if c.count == 1 else f"The first {c.count} factors make"
        if self.e.per_sample:
            value = f" = {fm.number_html(c.values[0], self.digits)}"
        else:
            value = f" (Σ over the batch: {fm.number_html(c.values.sum(), self.digits)})"
        return f"<p>{which} the error signal {fm.html_inline(c.symbol)}{value}</p>"

    def recursion(self) -> list[str]:
        e, r = self.e, self.e.recursion
        terms = r.terms[:MAX_TERMS_ON_SCREEN]
        more = len(r.terms) - len(terms)
        # One cell for each right-hand side, so a long sum wraps between its terms across
        # the panel's whole width (a column of its own squeezed it into a narrow strip).
        symbolic = " + ".join(f"{fm.html_inline(t.weight)}·{fm.html_inline(t.upstream)}" for t in terms)
        symbolic += f" + … ({more}&nbsp;more)" if more else ""
        derivative = fm.html_inline(r.derivative.formula)
        rows = [(fm.html_inline(r.delta), f"({symbolic}) · {derivative}")]
        if e.per_sample:
            numbers = " + ".join(f"{self.num(t.weight_value)}·{self.num(t.upstream_values[0])}"
                                 for t in terms) + (" + …" if more else "")
            slope = self.num(r.derivative.value)
            rows += [("", f"({numbers}) · {slope}"),
                     ("", f"{self.num(r.sums[0])} · {slope}"),
                     ("", f"<b>{fm.number_html(r.values[0], self.digits)}</b>")]
        return ["<p>δ of the layer above, weighted and summed:</p>",
                '<table cellspacing="0" cellpadding="4">' +
                "".join(f"<tr>{self.cell(lhs)}{self.OP.format('=')}{self.cell(rhs, align='left')}</tr>"
                        for lhs, rhs in rows) + "</table>"]

    def result(self) -> str:
        e = self.e
        lhs = fm.html_inline(e.target)
        mark = ('<span style="color:#1a7f37">✓&nbsp;agrees&nbsp;with&nbsp;the&nbsp;engine</span>'
                if e.matches_engine else
                '<span style="color:#c62828"><b>✗ differs from the engine</b></span>')
        text = (f"<p><b>{lhs} = {fm.number_html(e.total, self.digits + 2)}</b> &nbsp; "
                f"(engine: {fm.number_html(e.engine, self.digits + 2)}) &nbsp; {mark}")
        if e.per_sample:
            text += (f"<br/><small>summed over all {e.batch_size} samples: "
                     f"{fm.html_inline(e.batch_label)} = {fm.number_html(e.engine_batch, self.digits)}</small>")
        return text + "</p>"
