"""Exports: the PyTorch and numpy scripts print the app's losses — from the start, and going
on with a run from where it stands (optimiser state, shuffler, an epoch half done); the
data exports hold the history and the weights exactly, in the lecture's numbering."""
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import Network, TrainConfig, Trainer, load_scenario
from core.datasets import Dataset, load_dataset, split
from core.errors import ExportError, SaveError
from core.network import param_blocks
from core.export_code import (EMBED_MAX_NUMBERS, EMBED_MAX_SAMPLES, export_numpy, export_pytorch,
                              numpy_script, pytorch_script)
from core.session import DataSource
from core.export_data import export_history_csv, export_weights_csv, export_weights_npz
from export_cases import (EPOCHS, FIXED, REFERENCE, RUNNER, app_losses, big_cases, fixed_case,
                          parse_losses, reference_case, script, sha256, trained_cases)
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


# -- data sets too big to embed: a data file beside the script ------------------------------
BIG_EPOCHS = 8
SCRIPT_LIMIT = 20_000      # bytes; embedded, these data sets' scripts run to 128 kB and 1.3 MB


@pytest.fixture(scope="module")
def big():
    return big_cases()


def test_a_big_data_set_goes_beside_the_script_and_the_scripts_still_print_the_apps_losses(big, tmp_path):
    torch_installed = importlib.util.find_spec("torch") is not None
    kinds = {"numpy": export_numpy, **({"pytorch": export_pytorch} if torch_installed else {})}
    written, argv = tmp_path / "written", []
    written.mkdir()
    for name, (trainer, dataset, title) in big.items():
        assert trainer.n > EMBED_MAX_SAMPLES or trainer.X.size + trainer.Y.size > EMBED_MAX_NUMBERS
        for kind, export in kinds.items():
            path = written / f"{name}_{kind}.py"
            data = export(path, trainer, BIG_EPOCHS, dataset, title)
            assert data == written / f"{name}_{kind}_data.npz" and data.is_file()
            assert path.stat().st_size < SCRIPT_LIMIT, (name, kind)
            text = path.read_text(encoding="utf-8")
            assert f"with np.load(Path(__file__).with_name('{data.name}'), allow_pickle=False)" in text
            with np.load(data, allow_pickle=False) as npz:
                expected = {"x": trainer.X, "y": trainer.Y}
                if trainer.X_test is not None:
                    expected.update(x_test=trainer.X_test, y_test=trainer.Y_test)
                assert sorted(npz.files) == sorted(expected)
                for key, array in expected.items():
                    assert npz[key].dtype == np.float64
                    np.testing.assert_array_equal(npz[key], array, err_msg=key)
            argv += [f"{name} {kind}", path.name]
    assert len(list(written.iterdir())) == len(argv)      # each script and its data file
    # Script and data moved together to another folder, run from a third: the script finds
    # its data beside itself, not in the working directory.
    moved = shutil.move(written, tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv[1::2] = [str(Path(moved) / name) for name in argv[1::2]]
    done = subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True,
                          timeout=300, cwd=elsewhere, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    printed = parse_losses(done.stdout)
    assert set(printed) == set(argv[0::2])
    for name, (trainer, _, _) in big.items():
        epochs, losses = app_losses(trainer, BIG_EPOCHS)
        for kind in kinds:
            np.testing.assert_array_equal(printed[f"{name} {kind}"][0], epochs)
            assert relative_error(printed[f"{name} {kind}"][1], losses) < TOLERANCE, (name, kind)


def test_the_threshold_is_where_the_data_leave_the_script(tmp_path):
    def case(n, width):
        X = np.random.RandomState(n).normal(size=(n, width))
        dataset = Dataset("edge", X, X[:, :1], [f"x{i + 1}" for i in range(width)], ["y"])
        return Trainer(Network([width, 2, 1], ["tanh", "linear"], seed=1), X, X[:, :1]), dataset
    numbers_width = EMBED_MAX_NUMBERS // 100 - 1            # 100 samples: x and y fill it exactly
    for (n, width), loads in [((EMBED_MAX_SAMPLES, 2), False), ((EMBED_MAX_SAMPLES + 1, 2), True),
                              ((100, numbers_width), False), ((101, numbers_width), True)]:
        trainer, dataset = case(n, width)
        for make in (numpy_script, pytorch_script):
            assert ("np.load(Path(__file__)" in make(trainer, 1, dataset)) is loads, (n, width)
    # Below it: exactly the embedded script, and nothing written beside it.
    trainer, dataset = case(EMBED_MAX_SAMPLES, 2)
    for kind, export, make in (("numpy", export_numpy, numpy_script),
                               ("pytorch", export_pytorch, pytorch_script)):
        folder = tmp_path / kind
        folder.mkdir()
        assert export(folder / "small.py", trainer, 3, dataset, "small") is None
        assert [p.name for p in folder.iterdir()] == ["small.py"]
        text = (folder / "small.py").read_text(encoding="utf-8")
        assert text == make(trainer, 3, dataset, "small", "small.py") and "Path" not in text


def test_a_script_with_a_data_file_says_where_the_data_came_from(big):
    trainer, dataset, title = big["moons_2400_adam_mid_epoch"]
    options = {"target": "label", "features": ["a", "b"], "kinds": {}, "missing": "drop",
               "standardise": True, "test_fraction": 0.25, "seed": 0}
    source = DataSource.from_csv(dataset, "/data/lecture sets/moons.csv", options, "ab12" * 16)
    for make in (numpy_script, pytorch_script):
        text = make(trainer, 3, dataset, title, "moons.py", source)
        assert "# Made from the CSV file\n#   /data/lecture sets/moons.csv\n" in text
        assert f"(SHA-256 {'ab12' * 16} as read)" in text
        assert ("# imported with target='label', features=['a', 'b'], missing='drop', standardise=True,\n"
                "#   test_fraction=0.25, seed=0.") in text
        assert "moons_data.npz also holds the app's held-out test set (x_test, y_test)" in text
        assert "# 2,400 samples are too many to write out here" in text
    scenario = DataSource(dataset, "scenario", scenario="moons", seed=3, remedy=True)
    assert "# Made by Backprop Lab's scenario 'moons' (seed 3, remedy applied)." in numpy_script(
        trainer, 3, dataset, title, "moons.py", scenario)


def test_a_data_file_that_cannot_be_written_fails_the_export_and_leaves_the_old_files(
        big, tmp_path, monkeypatch):
    trainer, dataset, title = big["wide_60000_numbers_fresh"]
    script_path, data_path = tmp_path / "wide.py", tmp_path / "wide_data.npz"
    script_path.write_text("old script", encoding="utf-8")
    data_path.write_bytes(b"old data")

    def disk_full(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(SaveError, match=r"cannot write .*wide_data\.npz: No space left on device"):
        export_numpy(script_path, trainer, 3, dataset, title)
    assert script_path.read_text(encoding="utf-8") == "old script" and data_path.read_bytes() == b"old data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.py", "wide_data.npz"]   # no temporary files
    monkeypatch.undo()
    # A new export whose data file cannot be written leaves no script either.
    (tmp_path / "new_data.npz").mkdir()
    with pytest.raises(SaveError, match=r"new_data\.npz"):
        export_pytorch(tmp_path / "new.py", trainer, 3, dataset, title)
    assert not (tmp_path / "new.py").exists()
    # And a script that cannot be written takes back the data file this export made.
    (tmp_path / "folder.py").mkdir()
    with pytest.raises(SaveError, match=r"folder\.py"):
        export_numpy(tmp_path / "folder.py", trainer, 3, dataset, title)
    assert not (tmp_path / "folder_data.npz").exists()


def test_headless_export_of_a_big_csv_writes_the_data_file_and_says_so(tmp_path, capsys):
    rng = np.random.RandomState(3)
    table = rng.normal(size=(2600, 3)).round(3)
    csv_path = tmp_path / "big.csv"
    np.savetxt(csv_path, np.column_stack([table, table.sum(axis=1)]), delimiter=",", fmt="%.3f",
               header="a,b,c,total", comments="")
    py, session = tmp_path / "out" / "big.py", tmp_path / "s.json"
    py.parent.mkdir()
    assert main(["--headless", "--data", str(csv_path), "--target", "total", "--epochs", "3", "--quiet",
                 "--export-numpy", str(py), "--save-session", str(session)]) == 0
    assert f"{py}: the data are in {py.with_name('big_data.npz')} beside it" in capsys.readouterr().out
    text = py.read_text(encoding="utf-8")
    assert f"#   {csv_path.resolve()}\n" in text and "target='total'" in text
    from core.session import load_session
    trainer = load_session(session).trainer
    assert trainer.n == 2080
    out = subprocess.run([sys.executable, str(py)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    printed = np.array([line.split() for line in out.stdout.splitlines()], float)
    epochs, losses = app_losses(trainer, 3)
    assert np.array_equal(printed[:, 0], epochs) and relative_error(printed[:, 1], losses) < TOLERANCE


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
