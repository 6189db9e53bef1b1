"""Fixed networks for the script-export tests and for tests/fixtures/make_export_reference.py.

Every number in the fixed cases — data, weights, settings — is a small dyadic fraction
drawn from numpy's frozen legacy RandomState, so the exported script's text is the same
on every machine and its SHA-256 can vouch that the committed torch output belongs to
exactly that script.  Between them the cases cover every loss, every activation, SGD,
momentum and Adam, L2, clipping, full batch, shuffled and unshuffled mini-batches with a
short last batch.
"""
from __future__ import annotations

import copy
import hashlib

import numpy as np

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario
from core.datasets import Dataset, load_dataset
from core.export_code import numpy_script, pytorch_script

EPOCHS = 30

FIXED = {
    # name: sizes, activations, loss, optimiser, batch size, shuffle, samples, classes
    "lecture_sse_sgd": ([2, 5, 1], ["sigmoid", "linear"], "sse",
                        dict(name="sgd", lr=0.01), None, True, 10, 0),
    "half_sse_momentum_clip": ([3, 4, 3, 2], ["tanh", "relu", "sigmoid"], "half_sse",
                               dict(name="momentum", lr=0.05, momentum=0.9, l2=0.001, clip=0.5),
                               None, True, 12, 0),
    "cross_entropy_adam_shuffled": ([2, 6, 3], ["relu", "softmax"], "cross_entropy",
                                    dict(name="adam", lr=0.01, beta1=0.8, beta2=0.99, l2=0.01),
                                    8, True, 30, 3),
    "bce_sgd_ordered_batches": ([2, 5, 1], ["leaky_relu", "sigmoid"], "binary_cross_entropy",
                                dict(name="sgd", lr=0.2), 7, False, 20, 2),
    "mse_softmax_momentum_shuffled": ([2, 4, 3], ["tanh", "softmax"], "mse",
                                      dict(name="momentum", lr=0.3, momentum=0.5, clip=2.0),
                                      16, True, 40, 3),
}


def _dyadic(rng, shape, scale=8):
    return rng.randint(-2 * scale, 2 * scale + 1, size=shape) / scale


def fixed_case(name):
    """(trainer, dataset, title) for one FIXED case, at its (dyadic) starting weights."""
    sizes, acts, loss, opt, batch, shuffle, n, classes = FIXED[name]
    rng = np.random.RandomState(sorted(FIXED).index(name))
    X = _dyadic(rng, (n, sizes[0]))
    if loss == "binary_cross_entropy":
        Y = rng.randint(0, 2, (n, 1)).astype(float)
    elif classes:
        Y = rng.randint(0, classes, (n, 1)).astype(float)
    else:
        Y = _dyadic(rng, (n, sizes[-1]))
    net = Network(sizes, acts)
    net.set_params(_dyadic(rng, net.n_params, 16) / 2)
    dataset = Dataset(name, X, Y, [f"x{i + 1}" for i in range(sizes[0])], ["y"],
                      "classification" if classes else "regression",
                      classes=[str(c) for c in range(classes)] if classes else None)
    config = TrainConfig(loss=loss, optimizer=OptimizerConfig(**opt), batch_size=batch,
                         shuffle=shuffle, seed=7)
    return Trainer(net, X, Y, config), dataset, f"export test {name}"


def trained_cases():
    """Networks exported after training (current weights ≠ initial weights)."""
    sc = load_scenario("lecture-house-prices", seed=3)
    lecture = sc.make_trainer()
    lecture.run_epochs(25)
    listing = load_scenario("lecture-pytorch", seed=1)
    torch_listing = listing.make_trainer()
    torch_listing.run_epochs(40)
    ds = load_dataset("moons", n=50, seed=2)
    net = Network([2, 8, 2], ["tanh", "softmax"], init="xavier", seed=4)
    adam = Trainer(net, ds.X, ds.Y, TrainConfig(
        loss="cross_entropy", optimizer=OptimizerConfig(name="adam", lr=0.02),
        batch_size=12, seed=5))
    adam.run_epochs(3)
    adam.run_batches(2)    # exported mid-epoch
    return {"lecture_house_prices_trained": (lecture, sc.dataset, sc.title),
            "lecture_pytorch_trained": (torch_listing, listing.dataset, listing.title),
            "moons_adam_mid_epoch": (adam, ds, "moons, Adam, mini-batches")}


def script(kind, case, epochs=EPOCHS):
    trainer, dataset, title = case
    make = pytorch_script if kind == "pytorch" else numpy_script
    return make(trainer, epochs, dataset, title, f"{kind}_export.py")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def app_losses(trainer, epochs=EPOCHS) -> np.ndarray:
    """What the app does with the exported weights: a fresh Trainer (new optimiser, new
    shuffler) on a copy of the network, trained `epochs` epochs."""
    fresh = Trainer(trainer.net.copy(), trainer.X, trainer.Y, copy.deepcopy(trainer.config))
    fresh.run_epochs(epochs)
    return fresh.history.loss.arrays()[1]


def parse_losses(output: str) -> dict:
    """Split a run's stdout (blocks headed '=== name') into {name: losses}."""
    runs, current = {}, None
    for line in output.splitlines():
        if line.startswith("=== "):
            current = runs.setdefault(line[4:].strip(), [])
        elif line.strip():
            epoch, loss = line.split()
            assert int(epoch) == len(current)
            current.append(float(loss))
    return {k: np.array(v) for k, v in runs.items()}


RUNNER = """
import runpy, sys
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    print('===', name, flush=True)
    runpy.run_path(path, run_name='__main__')
"""
