"""Make tests/fixtures/torch_reference.npz: PyTorch's float64 losses, gradients and
optimiser steps for a fixed list of networks, so the tests can hold core/ against PyTorch
without torch being installed.

    .venv/bin/pip install torch==2.13.0     # pinned: an unpinned torch pulls gigabytes
    .venv/bin/python tests/make_torch_reference.py

The networks: every activation × loss pair the engine accepts at depths 1 to 4 (hidden
activations cycled so each appears), the lecture's two networks on the lecture's houses,
torch.optim steps (SGD, momentum, Adam with weight decay and gradient clipping), and the
lecture's PyTorch training loop.  Parameters come from core (w-numbering, flat) and are
copied into torch: for layer l the block [b; W] gives Linear.bias = b, Linear.weight = Wᵀ.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import Network, load_scenario                    # noqa: E402
from core.numbering import layer_offsets                   # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "torch_reference.npz"
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUTS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"]
PAIRS = ([(loss, out, "real") for loss in ("half_sse", "sse", "mse") for out in OUTPUTS]
         + [("cross_entropy", "softmax", "onehot"), ("cross_entropy", "softmax", "index"),
            ("binary_cross_entropy", "sigmoid", "binary")])
OPTIMISERS = [   # core's OptimizerConfig fields; the same settings go to torch.optim
    {"name": "sgd", "lr": 0.1, "l2": 0.01, "clip": 0.5},
    {"name": "momentum", "lr": 0.05, "momentum": 0.9, "l2": 0.02, "clip": 0.3},
    {"name": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8, "l2": 0.05, "clip": 0.2},
    {"name": "adam", "lr": 0.01},
]
OPTIMISER_STEPS = 3
LECTURE_EPOCHS = 2000


def targets(kind, n, k, rng):
    if kind == "real":
        return rng.standard_normal((n, k))
    if kind == "onehot":
        return np.eye(k)[rng.randint(k, size=n)]
    if kind == "index":
        return rng.randint(k, size=n).astype(float)
    return rng.randint(2, size=(n, k)).astype(float)


def build_cases(seed: int = 0) -> list[dict]:
    """The gradient cases: every pair × depths 1..4, then the lecture's two networks."""
    cases = []
    for p, (loss, out, kind) in enumerate(PAIRS):
        for depth in range(1, 5):
            rng = np.random.RandomState(1000 * seed + 10 * p + depth)
            hidden = [HIDDEN[(p + depth + j) % len(HIDDEN)] for j in range(depth - 1)]
            sizes = [3, *[4 + j for j in range(depth - 1)], 3]
            net = Network(sizes, [*hidden, out], init="normal:0.8", seed=int(rng.randint(2**31)))
            cases.append({"name": f"{loss}-{out}-{kind}-depth{depth}", "sizes": sizes,
                          "activations": net.activation_names, "loss": loss,
                          "X": rng.standard_normal((7, 3)), "Y": targets(kind, 7, 3, rng),
                          "params": net.params.copy()})
    for name in ("lecture-house-prices", "lecture-pytorch"):
        sc = load_scenario(name, seed=seed)
        cases.append({"name": name, "sizes": sc.network.sizes,
                      "activations": sc.network.activation_names, "loss": sc.loss,
                      "X": sc.X, "Y": sc.Y, "params": sc.network.params.copy()})
    return cases


def optimiser_case(seed: int = 0) -> dict:
    rng = np.random.RandomState(seed)
    net = Network([3, 4, 2], ["tanh", "linear"], init="pytorch", seed=seed)
    return {"sizes": net.sizes, "activations": net.activation_names, "loss": "mse",
            "X": rng.standard_normal((10, 3)), "Y": rng.standard_normal((10, 2)),
            "params": net.params.copy()}


# -- torch ------------------------------------------------------------------------------
def torch_model(sizes, activations, params):
    """torch.nn.Sequential of Linear layers (with core's parameters) and activations.
    Returns (model, list of Linear layers); the final activation is applied separately
    so fused losses can work on the last Linear's output α."""
    import torch
    layers, linears = [], []
    offsets = layer_offsets(sizes)
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        block = np.asarray(params[offsets[l]:offsets[l + 1]]).reshape(fan_in + 1, fan_out)
        linear = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
        with torch.no_grad():
            linear.bias.copy_(torch.from_numpy(block[0].copy()))
            linear.weight.copy_(torch.from_numpy(block[1:].T.copy()))
        linears.append(linear)
        layers.append(linear)
        if l < len(sizes) - 2:
            layers.append(torch_activation(activations[l]))
    return torch.nn.Sequential(*layers), linears


def torch_activation(name):
    import torch
    return {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(),
            "leaky_relu": torch.nn.LeakyReLU(0.01), "linear": torch.nn.Identity(),
            "softmax": torch.nn.Softmax(dim=1)}[name]


def torch_loss(alpha, out_activation, loss, Y):
    """E from the last Linear's output α, as the lecture's PyTorch code would write it."""
    import torch
    if loss == "cross_entropy":
        onehot = Y.ndim == 2 and Y.shape[1] == alpha.shape[1]
        target = (torch.from_numpy(np.asarray(Y, np.float64)) if onehot
                  else torch.from_numpy(np.asarray(Y).reshape(-1).astype(np.int64)))
        return torch.nn.CrossEntropyLoss()(alpha, target)
    target = torch.from_numpy(np.asarray(Y, np.float64).reshape(alpha.shape))
    if loss == "binary_cross_entropy":
        return torch.nn.BCEWithLogitsLoss()(alpha, target)
    beta = torch_activation(out_activation)(alpha)
    if loss == "half_sse":
        return 0.5 * torch.nn.MSELoss(reduction="sum")(beta, target)
    if loss == "sse":
        return torch.nn.MSELoss(reduction="sum")(beta, target)
    return torch.nn.MSELoss()(beta, target)


def flat_gradient(sizes, linears):
    blocks = [np.vstack([lin.bias.grad.numpy()[None, :], lin.weight.grad.numpy().T]).ravel()
              for lin in linears]
    return np.concatenate(blocks)


def flat_params(linears):
    import torch
    with torch.no_grad():
        return np.concatenate([np.vstack([lin.bias.numpy()[None, :], lin.weight.numpy().T]).ravel()
                               for lin in linears])


def torch_loss_and_gradients(case):
    import torch
    model, linears = torch_model(case["sizes"], case["activations"], case["params"])
    alpha = model(torch.from_numpy(np.asarray(case["X"], np.float64)))
    E = torch_loss(alpha, case["activations"][-1], case["loss"], case["Y"])
    E.backward()
    return float(E.item()), flat_gradient(case["sizes"], linears)


def torch_optimiser_steps(case, opt: dict, steps: int = OPTIMISER_STEPS) -> np.ndarray:
    """Parameters after each of `steps` full-batch torch.optim steps, (steps, n_params)."""
    import torch
    model, linears = torch_model(case["sizes"], case["activations"], case["params"])
    params = list(model.parameters())
    decay = opt.get("l2", 0.0)
    if opt["name"] == "sgd":
        optimiser = torch.optim.SGD(params, lr=opt["lr"], weight_decay=decay)
    elif opt["name"] == "momentum":
        optimiser = torch.optim.SGD(params, lr=opt["lr"], momentum=opt["momentum"],
                                    weight_decay=decay)
    else:
        optimiser = torch.optim.Adam(params, lr=opt["lr"], weight_decay=decay,
                                     betas=(opt.get("beta1", 0.9), opt.get("beta2", 0.999)),
                                     eps=opt.get("eps", 1e-8))
    X = torch.from_numpy(np.asarray(case["X"], np.float64))
    trajectory = []
    for _ in range(steps):
        optimiser.zero_grad()
        torch_loss(model(X), case["activations"][-1], case["loss"], case["Y"]).backward()
        if opt.get("clip"):
            torch.nn.utils.clip_grad_norm_(params, opt["clip"])
        optimiser.step()
        trajectory.append(flat_params(linears))
    return np.array(trajectory)


def torch_lecture_loop(case, learning_rate: float, epochs: int):
    """The lecture's PyTorch listing in float64: loss per epoch and the final parameters."""
    import torch
    model, linears = torch_model(case["sizes"], case["activations"], case["params"])
    x = torch.from_numpy(np.asarray(case["X"], np.float64))
    losses = np.empty(epochs)
    for t in range(epochs):
        loss = torch_loss(model(x), case["activations"][-1], case["loss"], case["Y"])
        losses[t] = loss.item()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    return losses, flat_params(linears)


def main():
    import torch
    torch.set_num_threads(1)
    arrays, index = {}, []
    for i, case in enumerate(build_cases(seed=0)):
        E, grad = torch_loss_and_gradients(case)
        index.append({k: case[k] for k in ("name", "sizes", "activations", "loss")})
        arrays.update({f"grad{i}/X": case["X"], f"grad{i}/Y": case["Y"],
                       f"grad{i}/params": case["params"], f"grad{i}/E": np.float64(E),
                       f"grad{i}/grad": grad})
    opt_case = optimiser_case(seed=0)
    arrays.update({"opt/X": opt_case["X"], "opt/Y": opt_case["Y"], "opt/params": opt_case["params"]})
    for j, opt in enumerate(OPTIMISERS):
        arrays[f"opt{j}/trajectory"] = torch_optimiser_steps(opt_case, opt)
    sc = load_scenario("lecture-pytorch", seed=0)
    lecture = {"sizes": sc.network.sizes, "activations": sc.network.activation_names,
               "loss": sc.loss, "X": sc.X, "Y": sc.Y, "params": sc.network.params.copy()}
    losses, final = torch_lecture_loop(lecture, sc.config.optimizer.lr, LECTURE_EPOCHS)
    arrays.update({"lecture_loop/losses": losses, "lecture_loop/params": final,
                   "lecture_loop/initial": lecture["params"]})
    meta = {"torch_version": torch.__version__, "numpy_version": np.__version__,
            "dtype": "float64", "made_by": "tests/make_torch_reference.py",
            "grad_cases": index, "optimisers": OPTIMISERS,
            "optimiser_case": {k: opt_case[k] for k in ("sizes", "activations", "loss")},
            "lecture_loop": {"scenario": "lecture-pytorch", "seed": 0, "epochs": LECTURE_EPOCHS,
                             "lr": sc.config.optimizer.lr}}
    arrays["meta"] = np.array(json.dumps(meta))
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURE, **arrays)
    print(f"wrote {FIXTURE.relative_to(ROOT)}: {len(index)} gradient cases, "
          f"{len(OPTIMISERS)} optimisers, {LECTURE_EPOCHS} lecture epochs, torch {torch.__version__}")


if __name__ == "__main__":
    main()
