"""Engine speed (make bench): the lecture's net against the lecture's own numpy loop and
PyTorch eager, and a 784-128-64-10 net against PyTorch eager.  Prints the numbers; asserts
only generous sanity ratios, never wall-clock limits.

Rates are the best of 7 interleaved rounds in process CPU time (time.process_time): on a
shared 2-core machine wall time mostly measures the neighbours.  Every contender runs single-threaded
(conftest.py pins BLAS/OpenMP; torch.set_num_threads(1)).
"""
import time

import numpy as np
import pytest

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario
from lecture_loop import lecture_randn_weights, train_lecture_loop, x, y

ROUNDS = 7


def race(contenders: dict, rounds=ROUNDS) -> dict:
    """Best units per CPU second for each contender {name: (run, units per run)}.  The
    contenders take turns, round after round, so a busy neighbour slows them alike."""
    best = dict.fromkeys(contenders, 0.0)
    for run, _ in contenders.values():
        run()   # warm up (workspaces, caches, lazy imports)
    for _ in range(rounds):
        for name, (run, units) in contenders.items():
            start = time.process_time()
            run()
            elapsed = time.process_time() - start
            best[name] = max(best[name], units / max(elapsed, 1e-9))
    return best


def report(title, rates, unit):
    width = max(map(len, rates))
    print(f"\n{title}")
    for name, rate in rates.items():
        print(f"  {name:<{width}}  {rate:>10,.0f} {unit}")


def ratio(rates, a, b):
    value = rates[a] / rates[b]
    print(f"  {a} / {b}: {value:.1f}×")
    return value


def maybe_torch():
    try:
        import torch
    except ImportError:
        print("\n  (torch not installed: no PyTorch comparison)")
        return None
    torch.set_num_threads(1)
    return torch


def core_lecture_run(name, epochs):
    trainer = load_scenario(name, seed=0).make_trainer(log_every=1000)   # the CLI's logging
    return lambda: trainer.run_epochs(epochs)


def torch_lecture_run(torch, epochs):
    """The lecture's PyTorch listing, in float64."""
    sc = load_scenario("lecture-pytorch", seed=0)
    xt, yt = torch.tensor(sc.X), torch.tensor(sc.Y)
    model = torch.nn.Sequential(torch.nn.Linear(2, 5, dtype=torch.float64), torch.nn.Sigmoid(),
                                torch.nn.Linear(5, 1, dtype=torch.float64))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-4
    losses = np.empty(epochs)

    def run():
        for t in range(epochs):
            y_pred = model(xt)
            loss = loss_fn(y_pred, yt)
            losses[t] = loss.item()
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
    return run


def test_lecture_net_epochs_per_second():
    p0 = lecture_randn_weights(0)
    contenders = {
        "core lecture-house-prices": (core_lecture_run("lecture-house-prices", 10_000), 10_000),
        "core lecture-pytorch": (core_lecture_run("lecture-pytorch", 10_000), 10_000),
        "lecture numpy loop": (lambda: train_lecture_loop(p0, x, y, num_epochs=1000), 1000),
    }
    torch = maybe_torch()
    if torch is not None:
        contenders[f"torch {torch.__version__} eager"] = (torch_lecture_run(torch, 1000), 1000)
    rates = race(contenders)
    report("Lecture net, 2-5-1, 10 samples, full batch, float64", rates, "epochs/s")
    assert ratio(rates, "core lecture-house-prices", "lecture numpy loop") > 2
    if torch is not None:
        assert ratio(rates, "core lecture-pytorch", f"torch {torch.__version__} eager") > 2


def random_digits(n=2560, seed=0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, 784)).astype(np.float32), rng.randint(10, size=n)


def test_784_128_64_10_steps_per_second():
    X, labels = random_digits()
    net = Network([784, 128, 64, 10], ["relu", "relu", "softmax"], init="he", seed=0,
                  dtype=np.float32)
    trainer = Trainer(net, X, labels, TrainConfig(loss="cross_entropy", batch_size=256,
                                                  optimizer=OptimizerConfig("sgd", lr=0.01)),
                      log_every=10**9)
    steps_per_epoch = trainer.batches_per_epoch
    contenders = {"core": (lambda: trainer.run_epochs(2), 2 * steps_per_epoch)}
    torch = maybe_torch()
    if torch is not None:
        model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 64), torch.nn.ReLU(),
                                    torch.nn.Linear(64, 10))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)

        def torch_epochs(epochs=2):
            for _ in range(epochs):   # shuffled every epoch, as the Trainer does
                order = torch.randperm(len(Xt))
                Xs, ys = Xt[order], yt[order]
                for i in range(0, len(Xs), 256):
                    optimiser.zero_grad()
                    loss_fn(model(Xs[i:i + 256]), ys[i:i + 256]).backward()
                    optimiser.step()

        contenders[f"torch {torch.__version__} eager"] = (torch_epochs, 2 * steps_per_epoch)
    rates = race(contenders)
    report("784-128-64-10 ReLU/softmax, batch 256, float32, 2560 samples", rates, "steps/s")
    if torch is not None:
        assert ratio(rates, "core", f"torch {torch.__version__} eager") > 0.25
    assert np.all(np.isfinite(net.params))
