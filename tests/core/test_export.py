"""Exports: the PyTorch and numpy scripts print the app's losses; the data exports hold the
history and the weights exactly, in the lecture's numbering."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import Network, TrainConfig, Trainer, load_scenario
from core.datasets import load_dataset, split
from core.errors import ExportError
from core.export_code import numpy_script, pytorch_script
from core.export_data import export_history_csv, export_weights_csv, export_weights_npz
from export_cases import (EPOCHS, FIXED, RUNNER, app_losses, fixed_case, parse_losses, script,
                          sha256, trained_cases)
from main import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "pytorch_export_reference.json"
TOLERANCE = 1e-9     # relative, per epoch; measured agreement is ~5e-16


def relative_error(mine, reference) -> float:
    mine, reference = np.asarray(mine, float), np.asarray(reference, float)
    assert mine.shape == reference.shape
    return float(np.max(np.abs(mine - reference) / np.abs(reference)))


@pytest.fixture(scope="module")
def cases():
    return {**{name: fixed_case(name) for name in FIXED}, **trained_cases()}


def run_scripts(kind, cases, directory) -> dict:
    """Write each case's script and run them all in one interpreter (one torch import)."""
    argv = []
    for name, case in cases.items():
        path = Path(directory) / f"{name}.py"
        path.write_text(script(kind, case), encoding="utf-8")
        argv += [name, str(path)]
    done = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return parse_losses(done.stdout)


def test_committed_torch_output_belongs_to_these_scripts_and_equals_the_apps_losses():
    reference = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert reference["epochs"] == EPOCHS and set(reference["cases"]) == set(FIXED)
    for name in FIXED:
        case = fixed_case(name)
        stored = reference["cases"][name]
        assert sha256(script("pytorch", case)) == stored["script_sha256"], (
            f"the PyTorch script for {name} changed since torch ran it: "
            "regenerate with tests/fixtures/make_export_reference.py")
        assert len(stored["losses"]) == EPOCHS
        assert relative_error(app_losses(case[0]), stored["losses"]) < TOLERANCE, name


def test_exported_numpy_scripts_print_the_apps_losses(cases, tmp_path):
    printed = run_scripts("numpy", cases, tmp_path)
    assert set(printed) == set(cases)
    for name, (trainer, _, _) in cases.items():
        assert len(printed[name]) == EPOCHS
        assert relative_error(printed[name], app_losses(trainer)) < TOLERANCE, name


def test_exported_pytorch_scripts_print_the_apps_losses_live(cases, tmp_path):
    pytest.importorskip("torch")
    printed = run_scripts("pytorch", cases, tmp_path)
    reference = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
    for name, (trainer, _, _) in cases.items():
        assert relative_error(printed[name], app_losses(trainer)) < TOLERANCE, name
        if name in reference:
            assert relative_error(printed[name], reference[name]["losses"]) < TOLERANCE, name


def test_clipping_and_short_last_batches_are_really_exercised():
    _, _, _, opt, _, _, _, _ = FIXED["half_sse_momentum_clip"]
    trainer = fixed_case("half_sse_momentum_clip")[0]
    trainer.run_batches(1)
    assert np.linalg.norm(trainer.grad) > opt["clip"]
    for name in ("cross_entropy_adam_shuffled", "bce_sgd_ordered_batches"):
        trainer = fixed_case(name)[0]
        assert trainer.n % trainer.batch_size != 0


def exec_weights(text: str) -> dict:
    """Run a numpy script up to its training loop and return its namespace."""
    namespace = {}
    exec(text[:text.index("\nepochs = ")], namespace)
    return namespace


def test_numpy_script_holds_the_current_weights_exactly_in_lecture_layout(cases):
    trainer, dataset, _ = cases["lecture_house_prices_trained"]
    text = script("numpy", cases["lecture_house_prices_trained"])
    ns = exec_weights(text)
    # The lecture's [b; W] matrices, flattened row-major one after another, are w1..w21.
    flat = np.concatenate([ns["W1"].ravel(), ns["W2"].ravel()])
    np.testing.assert_array_equal(flat, trainer.net.params)
    np.testing.assert_array_equal(ns["x"], trainer.X)
    np.testing.assert_array_equal(ns["y"], trainer.Y)
    assert "# Layer 1: biases w1..w5, from x1 w6..w10, from x2 w11..w15." in text
    assert "# Layer 2: bias w16, from H1..H5 w17..w21." in text
    assert "inputs_1 = np.hstack([ones, x])" in text and "W1 -= " not in text
    assert "sold_price: mean 313899.9" in text


def test_pytorch_script_reads_like_the_lecture_listing(cases):
    text = script("pytorch", cases["lecture_pytorch_trained"])
    compile(text, "pytorch_export.py", "exec")
    for expected in ("model = torch.nn.Sequential(\n    torch.nn.Linear(2, 5),\n"
                     "    torch.nn.Sigmoid(),\n    torch.nn.Linear(5, 1),\n)",
                     "loss_fn = torch.nn.MSELoss(reduction='sum')",
                     "optimizer = torch.optim.SGD(model.parameters(), lr=0.0001)",
                     "loss.backward()", "optimizer.step()", "print(t, loss.item())",
                     "torch.set_default_dtype(torch.float64)",
                     "# into H2: w7, w12"):
        assert expected in text, expected
    half = script("pytorch", cases["lecture_house_prices_trained"])
    assert "return 0.5 * mse(y_pred, y)" in half and half.count("torch.nn.Sigmoid()") == 2


def test_fused_losses_train_on_the_logits_and_the_settings_reach_torch(cases):
    ce = script("pytorch", cases["cross_entropy_adam_shuffled"])
    assert "torch.nn.CrossEntropyLoss()" in ce and "Softmax" not in ce.split("model = ")[1].split(")\n")[0]
    assert "torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-08, weight_decay=0.01)" in ce
    assert "np.random.SeedSequence(7).generate_state(4)" in ce and "epoch_loss /= N" in ce
    bce = script("pytorch", cases["bce_sgd_ordered_batches"])
    assert "torch.nn.BCEWithLogitsLoss()" in bce and bce.count("torch.nn.Sigmoid()") == 0
    assert "order = torch.arange(N)" in bce and "shuffler" not in bce
    clip = script("pytorch", cases["half_sse_momentum_clip"])
    assert "clip_grad_norm_(model.parameters(), max_norm=0.5)" in clip
    assert "momentum=0.9, weight_decay=0.001" in clip
    assert "torch.nn.LeakyReLU(0.01)" in script("pytorch", cases["bce_sgd_ordered_batches"])
    assert "Softmax(dim=1)" in script("pytorch", cases["mse_softmax_momentum_shuffled"])


def test_exports_refuse_what_they_cannot_reproduce():
    trainer, dataset, title = fixed_case("lecture_sse_sgd")
    with pytest.raises(ExportError, match="at least one epoch"):
        pytorch_script(trainer, 0, dataset, title)
    trainer.net.set_broken_sigmoid_derivative(True)
    with pytest.raises(ExportError, match="deliberately broken"):
        numpy_script(trainer, 5, dataset, title)


def test_headless_exports_run_and_continue_from_the_trained_weights(tmp_path, capsys):
    py, session = tmp_path / "lecture.py", tmp_path / "s.json"
    assert main(["--headless", "--epochs", "20", "--quiet", "--export-numpy", str(py),
                 "--save-session", str(session)]) == 0
    from core.session import load_session
    trainer = load_session(session).trainer
    out = subprocess.run([sys.executable, str(py)], capture_output=True, text=True, timeout=60)
    printed = np.array([float(line.split()[1]) for line in out.stdout.splitlines()])
    assert printed.size == 20
    assert relative_error(printed, app_losses(trainer, 20)) < TOLERANCE


# -- data exports ----------------------------------------------------------------------------
def test_weights_csv_uses_the_lecture_numbering_and_exact_values(tmp_path):
    net = load_scenario("lecture-house-prices").network
    path = tmp_path / "weights.csv"
    export_weights_csv(path, net)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["name", "layer", "from", "to", "value"]
    assert len(rows) == 22
    assert rows[1][:4] == ["w1", "1", "1", "H1"]
    assert rows[6][:4] == ["w6", "1", "x1", "H1"] and rows[15][:4] == ["w15", "1", "x2", "H5"]
    assert rows[16][:4] == ["w16", "2", "1", "O1"] and rows[21][:4] == ["w21", "2", "H5", "O1"]
    np.testing.assert_array_equal([float(r[4]) for r in rows[1:]], net.params)


def test_weights_npz_holds_each_layer(tmp_path):
    net = Network([3, 4, 2], ["relu", "linear"], init="he", seed=5)
    path = tmp_path / "weights.npz"
    export_weights_npz(path, net)
    with np.load(path, allow_pickle=False) as data:
        for l in range(2):
            np.testing.assert_array_equal(data[f"W{l}"], net.weights[l])
            np.testing.assert_array_equal(data[f"b{l}"], net.biases[l])
        assert data["sizes"].tolist() == [3, 4, 2]
        assert data["activations"].tolist() == ["relu", "linear"]
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]


def test_history_csv_has_every_epoch_and_the_logged_diagnostics(tmp_path):
    ds = split(load_dataset("moons", n=60, seed=1), 0.25)
    net = Network([2, 6, 4, 2], ["relu", "tanh", "softmax"], init="he", seed=2)
    trainer = Trainer(net, ds.X, ds.Y, TrainConfig(loss="cross_entropy"),
                      ds.X_test, ds.Y_test, log_every=4)
    trainer.run_epochs(10)
    path = tmp_path / "history.csv"
    export_history_csv(path, trainer.history, net.n_layers)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [int(r["epoch"]) for r in rows] == list(range(10))
    np.testing.assert_array_equal([float(r["loss"]) for r in rows], trainer.history.loss.arrays()[1])
    logs = trainer.history.logs
    for i, epoch in enumerate(trainer.history.log_epochs):
        row = rows[epoch]
        assert float(row["test_loss"]) == logs["test_loss"][i]
        for key in ("grad_norm", "dead_fraction", "saturated_fraction", "update_ratio"):
            assert [float(row[f"{key}_layer{l + 1}"]) for l in range(3)] == logs[key][i]
    assert rows[1]["test_loss"] == "" and rows[1]["grad_norm_layer1"] == ""
    assert trainer.history.log_epochs == [0, 4, 8]
