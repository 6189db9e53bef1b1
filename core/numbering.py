"""The lecture's names for parameters and neurons.

Parameters: for each layer, the matrix [b; W] of shape (fan_in + 1, fan_out) numbered
row-major from 1, layers one after another.  For 2-5-1: w1..w5 hidden biases, w6..w10
from x1, w11..w15 from x2, w16 output bias, w17..w21 from H1..H5.  The network stores
its parameters in exactly this order, so w_k is `network.params[k - 1]`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class ParamRef:
    index: int      # 0-based position in the flat parameter vector (w_{index+1})
    layer: int      # 0-based weight layer
    row: int        # 0 = bias, r ≥ 1 = from unit r of the layer below
    unit: int       # 0-based unit of layer `layer` it feeds

    @property
    def name(self) -> str:
        return f"w{self.index + 1}"

    @property
    def is_bias(self) -> bool:
        return self.row == 0


def neuron_name(sizes, level: int, unit: int) -> str:
    """Name of unit `unit` (0-based) at `level` (0 = inputs, len(sizes) − 1 = outputs)."""
    last = len(sizes) - 1
    if level == 0:
        return f"x{unit + 1}"
    if level == last:
        return f"O{unit + 1}"
    if last == 2:
        return f"H{unit + 1}"
    return f"H{level}_{unit + 1}"


def layer_offsets(sizes) -> list[int]:
    offsets, total = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        offsets.append(total)
        total += (fan_in + 1) * fan_out
    offsets.append(total)
    return offsets


def param_ref(sizes, index: int) -> ParamRef:
    offsets = layer_offsets(sizes)
    if not 0 <= index < offsets[-1]:
        raise ConfigError(f"w{index + 1} does not exist: this network has w1..w{offsets[-1]}")
    for layer in range(len(sizes) - 1):
        if index < offsets[layer + 1]:
            row, unit = divmod(index - offsets[layer], sizes[layer + 1])
            return ParamRef(index, layer, row, unit)
    raise AssertionError("unreachable")


def param_index(sizes, layer: int, row: int, unit: int) -> int:
    return layer_offsets(sizes)[layer] + row * sizes[layer + 1] + unit


def parse_param_name(sizes, name: str) -> ParamRef:
    m = re.fullmatch(r"\s*w\s*(\d+)\s*", str(name))
    if not m:
        raise ConfigError(f"{name!r} is not a parameter name like w17")
    return param_ref(sizes, int(m.group(1)) - 1)


def source_name(sizes, ref: ParamRef) -> str:
    """What the parameter multiplies: '1' for a bias, else the unit below (x1, H3...)."""
    return "1" if ref.is_bias else neuron_name(sizes, ref.layer, ref.row - 1)


def target_name(sizes, ref: ParamRef) -> str:
    return neuron_name(sizes, ref.layer + 1, ref.unit)
