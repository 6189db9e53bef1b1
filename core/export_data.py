"""Export the numbers behind the pictures: the training history and the weights.

- history CSV: one row per recorded epoch — its loss, and at logged epochs the test loss
  and the per-layer diagnostics (columns grad_norm_layer1 .. update_ratio_layerL);
  cells of epochs that were not logged are empty, as is a test loss without a test set.
- weights CSV: one row per parameter in the lecture's w-numbering: name (w1, w2, ...),
  layer (1-based, as the exported scripts' "Layer 1"), from ("1" for a bias, else x1,
  H3, ...), to (H1, O1, ...), value.
- weights .npz: W0, b0, W1, b1, ... (0-based as net.weights[l]), W_l of shape
  (fan_in, fan_out), plus `sizes` and `activations`.  Loads with np.load, no pickle.

Numbers are written with repr, so they read back to the same float64.  Every file is
written atomically (core/atomic.py).
"""
from __future__ import annotations

import csv
import math

import numpy as np

from .atomic import atomic_write
from .history import LOG_FIELDS, History
from .network import Network
from .numbering import param_ref, source_name, target_name

PER_LAYER = tuple(k for k in LOG_FIELDS if k not in ("loss", "test_loss"))


def _cell(value) -> str:
    value = float(value)
    return "" if math.isnan(value) else repr(value)


def history_table(history: History, n_layers: int) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the history CSV."""
    header = ["epoch", "loss", "test_loss"] + [
        f"{key}_layer{l + 1}" for key in PER_LAYER for l in range(n_layers)]
    epochs, values = history.loss.arrays()
    losses = dict(zip(epochs.tolist(), values.tolist()))
    logged = {}
    for i, epoch in enumerate(history.log_epochs):   # a re-logged epoch: the last one wins
        logged[epoch] = i
    rows = []
    for epoch in sorted(set(losses) | set(logged)):
        i = logged.get(epoch)
        loss = losses.get(epoch, history.logs["loss"][i] if i is not None else math.nan)
        row = [str(epoch), _cell(loss)]
        if i is None:
            row += [""] * (len(header) - 2)
        else:
            row.append(_cell(history.logs["test_loss"][i]))
            for key in PER_LAYER:
                row += [_cell(v) for v in history.logs[key][i]]
        rows.append(row)
    return header, rows


def _write_csv(path, header, rows):
    def write(f):
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    atomic_write(path, write)


def export_history_csv(path, history: History, n_layers: int):
    _write_csv(path, *history_table(history, n_layers))


def weights_table(network: Network) -> tuple[list[str], list[list[str]]]:
    sizes = network.sizes
    rows = []
    for index, value in enumerate(network.params.tolist()):
        ref = param_ref(sizes, index)
        rows.append([ref.name, str(ref.layer + 1), source_name(sizes, ref),
                     target_name(sizes, ref), repr(float(value))])
    return ["name", "layer", "from", "to", "value"], rows


def export_weights_csv(path, network: Network):
    _write_csv(path, *weights_table(network))


def export_weights_npz(path, network: Network):
    arrays = {"sizes": np.asarray(network.sizes, np.int64),
              "activations": np.asarray(network.activation_names, dtype=str)}
    for l in range(network.n_layers):
        arrays[f"W{l}"] = network.weights[l].copy()
        arrays[f"b{l}"] = network.biases[l].copy()
    atomic_write(path, lambda f: np.savez(f, **arrays), binary=True)
