"""Exports: the PyTorch and numpy scripts print the app's losses — from the start, and going
on with a run from where it stands (optimiser state, shuffler, an epoch half done); the
data exports hold the history and the weights exactly, in the lecture's numbering."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import Network, TrainConfig, Trainer, load_scenario
from core.datasets import load_dataset, split
from core.errors import ExportError
from core.network import param_blocks
from core.export_code import numpy_script, pytorch_script
from core.export_data import export_history_csv, export_weights_csv, export_weights_npz
from export_cases import (EPOCHS, FIXED, REFERENCE, RUNNER, app_losses, fixed_case, parse_losses,
                          reference_case, script, sha256, trained_cases)
from main import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "pytorch_export_reference.json"
TOLERANCE = 1e-9     # relative, per epoch; measured agreement is ~5e-16


def relative_error(mine, reference) -> float:
    mine, reference = np.asarray(mine, float), np.asarray(reference, float)
    assert mine.shape == reference.shape
    return float(np.max(np.abs(mine - reference) / np.abs(reference)))


@pytest.fixture(scope="module")
def cases():
    return {**{name: reference_case(name) for name in REFERENCE}, **trained_cases()}


def run_scripts(kind, cases, directory) -> dict:
    """Write each case's script and run them all in one interpreter (one torch import)."""
    argv = []
    for name, case in cases.items():
        path = Path(directory) / f"{name}.py"
        path.write_text(script(kind, case), encoding="utf-8")
        argv += [name, str(path)]
    # One thread: these networks are tiny, and torch's thread pool only fights the other
    # tests for the machine's cores (it doubles the run time on a busy machine).
    done = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    return parse_losses(done.stdout)


def assert_prints_the_apps_losses(printed, trainer, name):
    """`printed` (epochs, losses) are the app's next EPOCHS epochs, numbered as the app does."""
    epochs, losses = app_losses(trainer)
    np.testing.assert_array_equal(printed[0], epochs, err_msg=name)
    assert epochs[0] == trainer.epoch
    assert relative_error(printed[1], losses) < TOLERANCE, name


def test_committed_torch_output_belongs_to_these_scripts_and_equals_the_apps_losses():
    reference = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert reference["epochs"] == EPOCHS and list(reference["cases"]) == REFERENCE
    for name in REFERENCE:
        case = reference_case(name)
        stored = reference["cases"][name]
        assert sha256(script("pytorch", case)) == stored["script_sha256"], (
            f"the PyTorch script for {name} changed since torch ran it: "
            "regenerate with tests/fixtures/make_export_reference.py")
        assert len(stored["losses"]) == EPOCHS
        assert_prints_the_apps_losses((stored["epochs"], stored["losses"]), case[0], name)


def test_exported_numpy_scripts_print_the_apps_losses(cases, tmp_path):
    printed = run_scripts("numpy", cases, tmp_path)
    assert set(printed) == set(cases)
    for name, (trainer, _, _) in cases.items():
        assert_prints_the_apps_losses(printed[name], trainer, name)


def test_exported_pytorch_scripts_print_the_apps_losses_live(cases, tmp_path):
    pytest.importorskip("torch")
    printed = run_scripts("pytorch", cases, tmp_path)
    reference = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
    for name, (trainer, _, _) in cases.items():
        assert_prints_the_apps_losses(printed[name], trainer, name)
        if name in reference:
            assert relative_error(printed[name][1], reference[name]["losses"]) < TOLERANCE, name


def test_the_cases_go_on_from_every_kind_of_state(cases):
    """What the comparisons above hold the scripts to, so none of it can quietly vanish."""
    def where(name):
        t = cases[name][0]
        return (t.config.optimizer.name, t.optimizer.step_count > 0, t.batch_in_epoch > 0,
                t.batch_size, t.config.shuffle and t.batch_size < t.n)
    assert where("sine_momentum_full_batch") == ("momentum", True, False, 40, False)
    assert where("sine_adam_batches_of_16") == ("adam", True, False, 16, True)
    assert where("moons_adam_mid_epoch") == ("adam", True, True, 12, True)
    assert where("noisy_minibatches_mid_epoch") == ("sgd", True, True, 1, True)
    assert where("sgd_then_momentum") == ("momentum", False, False, 10, False)
    for name in ("noisy_then_full_batch", "momentum_shuffled_resumed_then_single_samples"):
        t = cases[name][0]
        assert t.batch_in_epoch > 0 and t._pending_batch_size != t.config.batch_size
    assert cases["bce_ordered_resumed_mid_epoch"][0].batch_in_epoch > 0     # unshuffled
    assert cases["moons_adam_mid_epoch"][0].loss_fn.name == "cross_entropy"


def test_a_fresh_network_gets_no_state_block_and_a_trained_one_gets_all_of_it(cases):
    for kind in ("numpy", "pytorch"):
        fresh = script(kind, cases["cross_entropy_adam_shuffled"])
        assert "Where the app stopped" not in fresh and "base64" not in fresh
        assert "for t in range(epochs):" in fresh and "Training starts afresh" in fresh
    adam = script("pytorch", cases["moons_adam_mid_epoch"])
    block = adam[adam.index("# ── Where the app stopped"):adam.index("# ── End of the app's state")]
    assert "in epoch 3, after 2 of its 5 batches (17 steps)" in block
    assert '"step": torch.tensor(17.0), "exp_avg": m, "exp_avg_sq": v' in block
    assert "for _ in range(4):\n    order = torch.from_numpy(shuffler.permutation(N))" in block
    # The model, the loss, the optimiser stay at the top, before the state block.
    assert adam.index("optimizer = torch.optim.Adam(") < adam.index("# ── Where the app stopped")
    assert "for start in range(24, N, batch_size):" in adam
    assert "for t in range(4, 3 + epochs):" in adam
    momentum = script("pytorch", cases["sine_momentum_full_batch"])
    assert 'optimizer.state[p]["momentum_buffer"] = v' in momentum
    assert "for t in range(50, 50 + epochs):" in momentum
    switched = script("pytorch", cases["noisy_then_full_batch"])
    assert "for start in range(60, N, 1):" in switched and "batches of 1; the whole set" in switched


def loaded_up_to_the_loop(text: str) -> dict:
    """Run a numpy script up to its training loop and return its namespace."""
    namespace = {}
    exec(text[:text.index("\nepochs = ")], namespace)
    return namespace


@pytest.mark.parametrize("name", ["moons_adam_mid_epoch", "sine_momentum_full_batch",
                                  "noisy_minibatches_mid_epoch"])
def test_numpy_state_block_holds_the_apps_optimiser_and_shuffler_exactly(cases, name):
    trainer = cases[name][0]
    state = trainer.state()
    ns = loaded_up_to_the_loop(script("numpy", cases[name]))
    opt = state.optimizer
    names = {"velocity": "velocities", "exp_avg": "exp_avgs", "exp_avg_sq": "exp_avg_sqs"}
    for key, variable in names.items():
        if opt[key] is not None:
            assert ns["steps"] == opt["step_count"] > 0
            np.testing.assert_array_equal(np.concatenate([b.ravel() for b in ns[variable]]), opt[key])
    if trainer.config.shuffle and trainer.batch_size < trainer.n:
        mine, app = ns["shuffler"].get_state(), state.rng
        np.testing.assert_array_equal(mine[1], app[1])
        assert mine[2] == app[2]
    if trainer.batch_in_epoch:
        np.testing.assert_array_equal(ns["order"], state.order)


def test_pytorch_state_block_lays_the_moments_out_as_torch_does(cases):
    torch = pytest.importorskip("torch")
    trainer = cases["moons_adam_mid_epoch"][0]
    text = script("pytorch", cases["moons_adam_mid_epoch"])
    ns = {}
    exec(text[:text.index("\nepochs = ")], ns)
    opt = trainer.optimizer.state()
    moments = [ns["optimizer"].state[p] for p in ns["model"].parameters()]
    assert [m["step"].item() for m in moments] == [17.0] * 4
    assert moments[0]["step"].dtype == torch.float64 and moments[0]["exp_avg"].shape == (8, 2)
    for key in ("exp_avg", "exp_avg_sq"):
        app = param_blocks(opt[key], trainer.net.sizes)           # [b; W] per layer
        for layer in range(2):
            np.testing.assert_array_equal(moments[2 * layer][key].numpy(), app[layer][1:].T)
            np.testing.assert_array_equal(moments[2 * layer + 1][key].numpy(), app[layer][0])


def test_a_shuffler_the_seed_does_not_reach_is_refused():
    trainer, dataset, title = fixed_case("cross_entropy_adam_shuffled")
    trainer.run_epochs(2)
    trainer.rng = np.random.RandomState(12345)        # not the seed's: no script can follow it
    with pytest.raises(ExportError, match="shuffler's state"):
        numpy_script(trainer, 5, dataset, title)


def test_clipping_and_short_last_batches_are_really_exercised():
    _, _, _, opt, _, _, _, _ = FIXED["half_sse_momentum_clip"]
    trainer = fixed_case("half_sse_momentum_clip")[0]
    trainer.run_batches(1)
    assert np.linalg.norm(trainer.grad) > opt["clip"]
    for name in ("cross_entropy_adam_shuffled", "bce_sgd_ordered_batches"):
        trainer = fixed_case(name)[0]
        assert trainer.n % trainer.batch_size != 0


def test_numpy_script_holds_the_current_weights_exactly_in_lecture_layout(cases):
    trainer, dataset, _ = cases["lecture_house_prices_trained"]
    text = script("numpy", cases["lecture_house_prices_trained"])
    ns = loaded_up_to_the_loop(text)
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
    printed = np.array([line.split() for line in out.stdout.splitlines()], float)
    epochs, losses = app_losses(trainer, 20)
    assert printed.shape == (20, 2) and np.array_equal(printed[:, 0], epochs) and epochs[0] == 20
    assert relative_error(printed[:, 1], losses) < TOLERANCE


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
