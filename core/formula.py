"""The lecture's notation as data, and its two renderings.

A formula is a tuple of parts: plain strings, `Sym` (a symbol with a subscript, such as
β_O1 or w17) and `Frac` (a fraction such as ∂E/∂β_O1).  `text()` writes it in Unicode for
a terminal; `html_inline()` and `html_block()` write Qt rich text (the HTML subset a
QTextDocument understands), the latter with fractions stacked as in the lecture's
equations.  No LaTeX anywhere: Qt cannot typeset it, and a lecture hall should never see
its source.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

MINUS = "−"
_SUPERSCRIPT = str.maketrans("0123456789-+−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁻")


@dataclass(frozen=True)
class Sym:
    """A symbol with an optional subscript and superscript: β_O1, w17, β², y_2."""
    base: str
    sub: str = ""
    sup: str = ""


@dataclass(frozen=True)
class Frac:
    num: tuple
    den: tuple


def formula(*parts) -> tuple:
    """A formula from strings, symbols, fractions and nested formulas (flattened)."""
    out = []
    for part in parts:
        if isinstance(part, (tuple, list)):
            out.extend(formula(*part))
        elif part != "":
            out.append(part)
    return tuple(out)


def frac(num, den) -> Frac:
    return Frac(formula(num), formula(den))


def partial(of, by) -> Frac:
    """∂of/∂by."""
    return Frac(formula("∂", of), formula("∂", by))


# -- Unicode text ------------------------------------------------------------------------
def _top_level_operator(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in " +·" + MINUS:
            return True
    return False


def _wrapped(s: str) -> str:
    return f"({s})" if _top_level_operator(s) else s


def text(f) -> str:
    """Unicode: β_O1, w17, ∂E/∂β_O1, β_H1²."""
    out = []
    for part in formula(f):
        if isinstance(part, Sym):
            sub = part.sub if not part.sub or part.sub.isdigit() else "_" + part.sub
            sup = part.sup.translate(_SUPERSCRIPT)
            if any(ch not in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺" for ch in sup):
                sup = f"^({part.sup})" if len(part.sup) > 1 else f"^{part.sup}"
            out.append(f"{part.base}{sub}{sup}")
        elif isinstance(part, Frac):
            out.append(f"{_wrapped(text(part.num))}/{_wrapped(text(part.den))}")
        else:
            out.append(part)
    return "".join(out)


# -- Qt rich text --------------------------------------------------------------------------
def _sym_html(part: Sym) -> str:
    s = html.escape(part.base)
    if part.sub:
        s += f"<sub>{html.escape(part.sub)}</sub>"
    if part.sup:
        s += f"<sup>{html.escape(part.sup)}</sup>"
    return s


def html_inline(f) -> str:
    """One line of rich text; fractions written a/b (for running text)."""
    out = []
    for part in formula(f):
        if isinstance(part, Sym):
            out.append(_sym_html(part))
        elif isinstance(part, Frac):
            num, den = text(part.num), text(part.den)
            n, d = html_inline(part.num), html_inline(part.den)
            out.append(f"{'(' + n + ')' if _top_level_operator(num) else n}/"
                       f"{'(' + d + ')' if _top_level_operator(den) else d}")
        else:
            out.append(html.escape(part))
    return "".join(out).replace(" ", "&nbsp;")


def _stacked(part: Frac) -> str:
    return ('<table cellspacing="0" cellpadding="0">'
            '<tr><td align="center" style="border-bottom: 1px solid #222; padding: 0px 3px">'
            f"{html_inline(part.num)}</td></tr>"
            f'<tr><td align="center" style="padding: 0px 3px">{html_inline(part.den)}</td></tr>'
            "</table>")


def html_block(f) -> str:
    """Rich text with fractions stacked (numerator over a bar over denominator).  Qt lays
    tables out as blocks, so a formula with a fraction becomes a one-row table."""
    parts = formula(f)
    if not any(isinstance(p, Frac) for p in parts):
        return html_inline(parts)
    cells, run = [], []
    for part in parts:
        if isinstance(part, Frac):
            if run:
                cells.append(html_inline(tuple(run)))
                run = []
            cells.append(_stacked(part))
        else:
            run.append(part)
    if run:
        cells.append(html_inline(tuple(run)))
    row = "".join(f'<td valign="middle">{c}</td>' for c in cells)
    return f'<table cellspacing="0" cellpadding="0"><tr>{row}</tr></table>'


# -- numbers -------------------------------------------------------------------------------
def _unsigned_zero(value) -> float:
    """−0.0 as 0.0: a dead ReLU's δ times a negative weight is −0.0, and "−0" on a slide
    reads as a sign that means something."""
    value = float(value)
    return 0.0 if value == 0.0 else value


def _mantissa_exponent(value: float, digits: int):
    s = f"{value:.{digits}g}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return mantissa, int(exponent)
    return s, None


def number_text(value: float, digits: int = 4) -> str:
    """A number as a lecturer writes it: 0.04898, −3.21×10⁻⁵, with a real minus sign."""
    value = _unsigned_zero(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return ("−" if value < 0 else "") + "∞"
    mantissa, exponent = _mantissa_exponent(value, digits)
    mantissa = mantissa.replace("-", MINUS)
    if exponent is None:
        return mantissa
    return f"{mantissa}×10{str(exponent).translate(_SUPERSCRIPT)}"


def number_html(value: float, digits: int = 4) -> str:
    value = _unsigned_zero(value)
    if not math.isfinite(value):
        return number_text(value, digits)
    mantissa, exponent = _mantissa_exponent(value, digits)
    mantissa = mantissa.replace("-", MINUS)
    if exponent is None:
        return mantissa
    return f"{mantissa}×10<sup>{str(exponent).replace('-', MINUS)}</sup>"


def full_precision(value: float) -> str:
    """Every digit of a float64 (round-trips through float()), with a real minus sign."""
    return repr(_unsigned_zero(value)).replace("-", MINUS)


def parse_number(s: str) -> float:
    """The inverse of number_text / full_precision (for tests and scripts)."""
    s = s.strip().replace(MINUS, "-").replace("⁻", "-")
    if "×10" in s:
        mantissa, exponent = s.split("×10")
        digits = exponent.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺", "0123456789+"))
        return float(mantissa) * 10.0 ** int(digits)
    return float(s)


_SUBSCRIPTED = re.compile(r"([αβδΣ])_([A-Za-z0-9]+(?:_[0-9]+)?)|\b([wx])([0-9]+)\b")
# What text() writes for a superscript Unicode has no characters for: e^(−α), e^k.
_SUPERSCRIPTED = re.compile(r"\^\(([^()]*)\)|\^([^\s()])")


def rich(s: str) -> str:
    """Unicode notation in running text (α_H1, β_H2_3, w17, x1, Σ_i, e^(−α)) as Qt rich
    text with real subscripts and superscripts, for sentences built as text."""
    def sub(m):
        base, index = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return f"{base}<sub>{index}</sub>"

    def sup(m):
        return f"<sup>{m.group(1) if m.group(1) is not None else m.group(2)}</sup>"
    return _SUPERSCRIPTED.sub(sup, _SUBSCRIPTED.sub(sub, html.escape(s, quote=False)))
