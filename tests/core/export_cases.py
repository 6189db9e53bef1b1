"""Networks for the script-export tests and for tests/fixtures/make_export_reference.py.

Every number in the fixed cases — data, weights, settings — is a small dyadic fraction
drawn from numpy's frozen legacy RandomState, so the exported script's text is the same
on every machine and its SHA-256 can vouch that the committed torch output belongs to
exactly that script.  Between them the cases cover every loss, every activation, SGD,
momentum and Adam, L2, clipping, full batch, shuffled and unshuffled mini-batches with a
short last batch.  The RESUMED cases put a fixed case where a run might stand later — an
optimiser with momentum buffers or Adam moments (dyadic too), a shuffler that has drawn
its permutations, an epoch half done, a batch size waiting for the next epoch — so the
committed torch output also holds the scripts that go on with a run.  The trained cases
come from real training (their scripts' text depends on the machine's rounding, so they
are checked live only).
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib

import numpy as np

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario
from core.datasets import Dataset, load_dataset, split
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


RESUMED = {
    # name: the FIXED case, where its run stands (epochs done, batches of the next one
    # done), and the batch size asked for from the next epoch on if it changed
    "adam_resumed_mid_epoch": ("cross_entropy_adam_shuffled", dict(epoch=4, batches=2)),
    "momentum_clip_resumed": ("half_sse_momentum_clip", dict(epoch=10, batches=0)),
    "bce_ordered_resumed_mid_epoch": ("bce_sgd_ordered_batches", dict(epoch=2, batches=2)),
    "momentum_shuffled_resumed_then_single_samples": (
        "mse_softmax_momentum_shuffled", dict(epoch=6, batches=1, later_batch_size=1)),
}
REFERENCE = [*FIXED, *RESUMED]     # the cases whose torch output is committed


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


def resumed_case(name):
    """(trainer, dataset, title): a FIXED case put where a run might stand after training.
    The state is made up (dyadic, like the weights) but is one the app can be in: the
    step count, the shuffler's permutations and the epoch's order follow from the epoch
    and batch; the script must go on from it exactly as the app does."""
    base, where = RESUMED[name]
    trainer, dataset, title = fixed_case(base)
    epoch, batches = where["epoch"], where["batches"]
    rng = np.random.RandomState(100 + sorted(RESUMED).index(name))
    n, size, n_params = trainer.n, trainer.batch_size, trainer.net.n_params
    shuffler = np.random.RandomState(np.random.SeedSequence(trainer.config.seed).generate_state(4))
    order = np.arange(n)
    if size < n and trainer.config.shuffle:
        for _ in range(epoch + (batches > 0)):     # one permutation per epoch begun
            order = shuffler.permutation(n)
    steps = epoch * trainer.batches_per_epoch + batches
    optimizer = trainer.optimizer.state()
    optimizer["step_count"] = steps
    for key in ("velocity", "exp_avg"):
        if optimizer[key] is not None:
            optimizer[key] = _dyadic(rng, n_params, 64) / 4
    if optimizer["exp_avg_sq"] is not None:      # > 0: Adam divides by its root
        optimizer["exp_avg_sq"] = ((np.abs(_dyadic(rng, n_params, 64)) + 1) / 256) ** 2
    trainer.restore(dataclasses.replace(
        trainer.state(), optimizer=optimizer, rng=shuffler.get_state(), order=order, epoch=epoch,
        steps=steps, batch_in_epoch=batches, epoch_loss_sum=0.75 * batches * size,
        epoch_samples=batches * size))
    if "later_batch_size" in where:
        trainer.set_batch_size(where["later_batch_size"])
    return trainer, dataset, f"export test {name}"


def reference_case(name):
    return fixed_case(name) if name in FIXED else resumed_case(name)


def trained_cases():
    """Networks exported after real training (current weights ≠ initial weights), at an
    epoch's end or half-way through one."""
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
    sine = load_dataset("sine", n=40, seed=3)
    momentum = Trainer(Network([1, 6, 1], ["tanh", "linear"], init="xavier", seed=6), sine.X, sine.Y,
                       TrainConfig(loss="mse", optimizer=OptimizerConfig(
                           name="momentum", lr=0.05, momentum=0.9, l2=1e-3, clip=1.0)))
    momentum.run_epochs(50)
    adam_batches = Trainer(Network([1, 6, 1], ["relu", "linear"], init="he", seed=7), sine.X, sine.Y,
                           TrainConfig(loss="half_sse", optimizer=OptimizerConfig(name="adam", lr=0.01),
                                       batch_size=16, seed=8))
    adam_batches.run_epochs(5)
    noisy_sc = load_scenario("noisy-minibatches")
    noisy = noisy_sc.make_trainer()
    noisy.run_epochs(5)
    noisy.run_batches(37)
    # Switched to whole-set training half-way through an epoch of single samples: the
    # epoch finishes sample by sample, then full batch (the change waits, as in the app).
    noisy_then_full = noisy_sc.make_trainer()
    noisy_then_full.run_epochs(2)
    noisy_then_full.run_batches(60)
    noisy_then_full.set_batch_size(None)
    # Trained with SGD, then switched to momentum: a new optimiser, no step taken yet.
    switched = load_scenario("lecture-pytorch", seed=2).make_trainer()
    switched.run_epochs(10)
    switched.set_optimizer(OptimizerConfig(name="momentum", lr=1e-4, momentum=0.5))
    return {"lecture_house_prices_trained": (lecture, sc.dataset, sc.title),
            "lecture_pytorch_trained": (torch_listing, listing.dataset, listing.title),
            "moons_adam_mid_epoch": (adam, ds, "moons, Adam, mini-batches"),
            "sine_momentum_full_batch": (momentum, sine, "sine, momentum, full batch"),
            "sine_adam_batches_of_16": (adam_batches, sine, "sine, Adam, batches of 16"),
            "noisy_minibatches_mid_epoch": (noisy, noisy_sc.dataset, noisy_sc.title),
            "noisy_then_full_batch": (noisy_then_full, noisy_sc.dataset, noisy_sc.title),
            "sgd_then_momentum": (switched, listing.dataset, listing.title)}


def big_cases():
    """Data sets above the exporter's embedding threshold, whose scripts load their data
    from a file beside them: more samples than EMBED_MAX_SAMPLES (classes, a test set,
    Adam half-way through a shuffled epoch), and few samples but more numbers than
    EMBED_MAX_NUMBERS (a fresh network, momentum, full batch)."""
    moons = split(load_dataset("moons", n=3200, seed=4), 0.25)            # 2 400 to train on
    adam = Trainer(Network([2, 6, 2], ["tanh", "softmax"], init="xavier", seed=5), moons.X, moons.Y,
                   TrainConfig(loss="cross_entropy", batch_size=200, seed=6,
                               optimizer=OptimizerConfig(name="adam", lr=0.02)),
                   X_test=moons.X_test, Y_test=moons.Y_test)
    adam.run_epochs(2)
    adam.run_batches(3)
    rng = np.random.RandomState(9)
    X = rng.normal(size=(1000, 60))
    wide_set = Dataset("wide", X, X[:, :3].sum(axis=1, keepdims=True),
                       [f"x{i + 1}" for i in range(60)], ["y"])
    wide = Trainer(Network([60, 4, 1], ["tanh", "linear"], init="xavier", seed=10), wide_set.X, wide_set.Y,
                   TrainConfig(loss="half_sse", optimizer=OptimizerConfig(name="momentum", lr=1e-4,
                                                                          momentum=0.9)))
    return {"moons_2400_adam_mid_epoch": (adam, moons, "moons, 2 400 samples"),
            "wide_60000_numbers_fresh": (wide, wide_set, "60 inputs, 1 000 samples")}


def script(kind, case, epochs=EPOCHS):
    trainer, dataset, title = case
    make = pytorch_script if kind == "pytorch" else numpy_script
    return make(trainer, epochs, dataset, title, f"{kind}_export.py")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def app_losses(trainer, epochs=EPOCHS):
    """What the app does if it trains on from where `trainer` stands: (epochs, losses) of
    the next `epochs` epochs (finishing a half-done one counts as one).  A copy goes on,
    so the case stays where it was exported."""
    twin = Trainer(trainer.net.copy(), trainer.X, trainer.Y, copy.deepcopy(trainer.config))
    twin.restore(trainer.state())
    if hasattr(trainer, "_pending_batch_size"):      # a batch size waiting for the next epoch
        twin.set_batch_size(trainer._pending_batch_size)
    # One epoch a call: run_epochs(n) overshoots when a waiting batch size changes the
    # number of batches per epoch (it counts the new epochs' batches with the old size).
    for _ in range(epochs):
        assert twin.run_epochs(1) == 1
    return twin.history.loss.arrays()


def parse_losses(output: str) -> dict:
    """Split a run's stdout (blocks headed '=== name') into {name: (epochs, losses)}."""
    runs, current = {}, None
    for line in output.splitlines():
        if line.startswith("=== "):
            current = runs.setdefault(line[4:].strip(), [])
        elif line.strip():
            epoch, loss = line.split()
            current.append((int(epoch), float(loss)))
    return {k: (np.array([e for e, _ in v], np.int64), np.array([l for _, l in v])) for k, v in runs.items()}


RUNNER = """
import runpy, sys
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    print('===', name, flush=True)
    runpy.run_path(path, run_name='__main__')
"""
