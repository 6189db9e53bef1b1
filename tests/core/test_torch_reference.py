"""core/ against PyTorch (float64): losses, gradients, optimiser steps and the lecture's
PyTorch loop, from the committed fixture (made by tests/make_torch_reference.py with
torch 2.13.0), and live when torch is importable."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario

TESTS = Path(__file__).resolve().parent.parent
FIXTURE = TESTS / "fixtures" / "torch_reference.npz"
TOLERANCE = 1e-10


def relative_error(mine, reference) -> float:
    """max |mine − reference| / max |reference| over one array (or scalar)."""
    mine, reference = np.asarray(mine, float), np.asarray(reference, float)
    assert mine.shape == reference.shape
    scale = np.max(np.abs(reference)) if reference.size else 0.0
    difference = np.max(np.abs(mine - reference)) if reference.size else 0.0
    return difference / scale if scale > 0 else difference


def core_loss_and_gradients(case):
    net = Network(case["sizes"], case["activations"])
    net.set_params(case["params"])
    E, grads = net.loss_and_gradients(case["X"], case["Y"], case["loss"])
    return E, grads.flat


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    return meta, arrays


def grad_cases(meta, arrays):
    for i, spec in enumerate(meta["grad_cases"]):
        yield {**spec, **{k: arrays[f"grad{i}/{k}"] for k in ("X", "Y", "params", "E", "grad")}}


def test_the_fixture_was_made_by_torch_in_float64_and_covers_every_pair(reference):
    meta, _ = reference
    assert meta["torch_version"].startswith("2.13.0") and meta["dtype"] == "float64"
    names = [c["name"] for c in meta["grad_cases"]]
    for loss, out in [(l, o) for l in ("half_sse", "sse", "mse")
                      for o in ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax")]:
        for depth in range(1, 5):
            assert f"{loss}-{out}-real-depth{depth}" in names
    for special in ("cross_entropy-softmax-onehot", "cross_entropy-softmax-index",
                    "binary_cross_entropy-sigmoid-binary"):
        assert all(f"{special}-depth{d}" in names for d in range(1, 5))
    assert {"lecture-house-prices", "lecture-pytorch"} <= set(names)
    hidden_seen = {a for c in meta["grad_cases"] for a in c["activations"][:-1]}
    assert hidden_seen == {"sigmoid", "tanh", "relu", "leaky_relu", "linear"}


def test_losses_and_gradients_match_the_torch_fixture(reference):
    meta, arrays = reference
    failures = []
    for case in grad_cases(meta, arrays):
        E, grad = core_loss_and_gradients(case)
        errors = relative_error(E, case["E"]), relative_error(grad, case["grad"])
        if max(errors) > TOLERANCE:
            failures.append(f"{case['name']}: loss {errors[0]:.2g}, gradient {errors[1]:.2g}")
        assert np.any(case["grad"] != 0), case["name"]   # a comparison that means something
    assert failures == []


def test_the_lecture_net_at_its_initial_weights_matches_torch(reference):
    meta, arrays = reference
    cases = {c["name"]: c for c in grad_cases(meta, arrays)}
    for name in ("lecture-house-prices", "lecture-pytorch"):
        sc = load_scenario(name, seed=0)
        case = cases[name]
        np.testing.assert_array_equal(sc.network.params, case["params"])
        np.testing.assert_array_equal(sc.X, case["X"])
        E, grads = sc.network.loss_and_gradients(sc.X, sc.Y, sc.loss)
        assert relative_error(E, case["E"]) <= TOLERANCE
        assert relative_error(grads.flat, case["grad"]) <= TOLERANCE


def optimizer_config(spec):
    return OptimizerConfig(**{k: v for k, v in spec.items()})


def core_optimiser_steps(case, spec, steps):
    net = Network(case["sizes"], case["activations"])
    net.set_params(case["params"])
    trainer = Trainer(net, case["X"], case["Y"],
                      TrainConfig(loss=case["loss"], optimizer=optimizer_config(spec)))
    trajectory = []
    for _ in range(steps):
        assert trainer.run_batches(1) == 1
        trajectory.append(net.params.copy())
    return np.array(trajectory)


def test_optimiser_steps_match_torch_optim(reference):
    meta, arrays = reference
    case = {**meta["optimiser_case"], **{k: arrays[f"opt/{k}"] for k in ("X", "Y", "params")}}
    for j, spec in enumerate(meta["optimisers"]):
        expected = arrays[f"opt{j}/trajectory"]
        mine = core_optimiser_steps(case, spec, len(expected))
        assert relative_error(mine - case["params"], expected - case["params"]) <= 1e-9, spec
        assert relative_error(mine, expected) <= TOLERANCE, spec


def test_training_the_lecture_pytorch_net_follows_the_lectures_torch_loop(reference):
    meta, arrays = reference
    spec = meta["lecture_loop"]
    sc = load_scenario(spec["scenario"], seed=spec["seed"])
    np.testing.assert_array_equal(sc.network.params, arrays["lecture_loop/initial"])
    trainer = sc.make_trainer(log_every=spec["epochs"])
    trainer.run_epochs(spec["epochs"])
    assert relative_error(trainer.history.loss.arrays()[1], arrays["lecture_loop/losses"]) <= TOLERANCE
    assert relative_error(trainer.net.params, arrays["lecture_loop/params"]) <= TOLERANCE


# -- live, when torch is installed ----------------------------------------------------------
def load_reference_maker():
    spec = importlib.util.spec_from_file_location("make_torch_reference",
                                                  TESTS / "make_torch_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_live_torch_agrees_on_fresh_networks():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    maker = load_reference_maker()
    for seed in (1, 2):   # networks and data the fixture does not hold
        for case in maker.build_cases(seed=seed):
            E_torch, g_torch = maker.torch_loss_and_gradients(case)
            E, grad = core_loss_and_gradients(case)
            assert relative_error(E, E_torch) <= TOLERANCE, case["name"]
            assert relative_error(grad, g_torch) <= TOLERANCE, case["name"]
    opt_case = maker.optimiser_case(seed=3)
    for spec in maker.OPTIMISERS:
        expected = maker.torch_optimiser_steps(opt_case, spec, steps=5)
        assert relative_error(core_optimiser_steps(opt_case, spec, 5), expected) <= TOLERANCE
