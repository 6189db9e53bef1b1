"""Sessions: save → load → train equals never having stopped, bit for bit; saves are
atomic; every kind of bad file gets a clear SessionError and changes nothing."""
import errno
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import core.atomic
from core import Network, OptimizerConfig, TrainConfig, Trainer, load_scenario
from core.datasets import load_dataset, split
from core.errors import SaveError, SessionError
from core.session import (FORMAT_VERSION, CsvChangedError, DataSource, load_session,
                          save_session, session_document, write_session)
from main import main

RUNS = {
    # name: dataset, sizes, activations, loss, optimiser, batch size
    "sgd_full_batch": ("sine", [1, 6, 1], ["tanh", "linear"], "half_sse",
                       dict(name="sgd", lr=0.01), None),
    "momentum_full_batch": ("sine", [1, 5, 3, 1], ["sigmoid", "relu", "linear"], "mse",
                            dict(name="momentum", lr=0.05, momentum=0.9, l2=1e-3), None),
    "adam_full_batch": ("moons", [2, 6, 2], ["tanh", "softmax"], "cross_entropy",
                        dict(name="adam", lr=0.01, clip=0.5), None),
    "sgd_minibatch": ("xor", [2, 5, 1], ["leaky_relu", "sigmoid"], "binary_cross_entropy",
                      dict(name="sgd", lr=0.1), 7),
    "momentum_minibatch": ("moons", [2, 8, 2], ["relu", "softmax"], "cross_entropy",
                           dict(name="momentum", lr=0.05, momentum=0.8, clip=1.0), 16),
    "adam_minibatch": ("sine", [1, 8, 1], ["tanh", "linear"], "sse",
                       dict(name="adam", lr=0.01, beta1=0.8, beta2=0.99, l2=1e-3), 9),
}


def make_run(name, seed=0):
    data, sizes, acts, loss, opt, batch = RUNS[name]
    ds = split(load_dataset(data, n=60, seed=1), 0.2)
    net = Network(sizes, acts, init="xavier", seed=seed)
    config = TrainConfig(loss=loss, optimizer=OptimizerConfig(**opt), batch_size=batch, seed=3)
    trainer = Trainer(net, ds.X, ds.Y, config, ds.X_test, ds.Y_test, log_every=3)
    return trainer, DataSource(ds)


def assert_same_training(a: Trainer, b: Trainer):
    """Bit-for-bit: weights, gradient, optimiser, shuffler, position and history."""
    np.testing.assert_array_equal(a.net.params, b.net.params)
    np.testing.assert_array_equal(a.grad, b.grad)
    sa, sb = a.state(), b.state()
    for key in ("step_count", "update", "velocity", "exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(np.asarray(sa.optimizer[key], float),
                                      np.asarray(sb.optimizer[key], float))
    np.testing.assert_array_equal(sa.rng[1], sb.rng[1])
    assert sa.rng[0] == sb.rng[0] and sa.rng[2:] == sb.rng[2:]
    assert (sa.epoch, sa.steps, sa.batch_in_epoch, sa.epoch_samples) == \
        (sb.epoch, sb.steps, sb.batch_in_epoch, sb.epoch_samples)
    assert sa.epoch_loss_sum == sb.epoch_loss_sum
    for x, y in zip(a.history.loss.arrays(), b.history.loss.arrays()):
        np.testing.assert_array_equal(x, y)
    assert a.history.log_epochs == b.history.log_epochs
    for key, values in a.history.logs.items():
        np.testing.assert_array_equal(np.array(values, float), np.array(b.history.logs[key], float))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_reopened_session_trains_exactly_as_never_stopped(name, tmp_path):
    stopped, source = make_run(name)
    never_stopped, _ = make_run(name)
    for trainer in (stopped, never_stopped):
        trainer.run_epochs(4)
        trainer.run_batches(1 if trainer.batches_per_epoch == 1 else 2)   # mid-epoch if batched
    if never_stopped.batches_per_epoch > 1:
        assert never_stopped.batch_in_epoch == 2
    path = tmp_path / "s.json"
    save_session(path, stopped, source)
    reopened = load_session(path).trainer
    assert_same_training(reopened, never_stopped)
    reopened.run_epochs(7)
    never_stopped.run_epochs(7)
    assert_same_training(reopened, never_stopped)
    # Saving again from the reopened run, and once more, still changes nothing.
    save_session(path, reopened, source)
    again = load_session(path).trainer
    again.run_batches(5)
    never_stopped.run_batches(5)
    assert_same_training(again, never_stopped)


def test_the_file_is_strict_json_with_lossless_floats_and_all_settings(tmp_path):
    trainer, source = make_run("adam_minibatch")
    trainer.run_epochs(2)
    path = tmp_path / "s.json"
    save_session(path, trainer, source, view={"colour_mode": "gradient", "zoom": 1.25},
                 name="mine", title="My run")

    def no_constants(token):
        raise AssertionError(f"{token} is not JSON")
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)
    assert doc["format"] == "backprop-lab-session" and doc["format_version"] == FORMAT_VERSION
    assert doc["training"]["optimizer"] == {"name": "adam", "lr": 0.01, "momentum": 0.9,
                                            "beta1": 0.8, "beta2": 0.99, "eps": 1e-08,
                                            "l2": 0.001, "clip": None}
    assert doc["training"]["batch_size"] == 9 and doc["network"]["sizes"] == [1, 8, 1]
    np.testing.assert_array_equal(np.array(doc["state"]["params"]["values"]), trainer.net.params)
    assert len(doc["state"]["rng"]["key"]["values"]) == 624
    session = load_session(path)
    assert (session.name, session.title) == ("mine", "My run")
    assert session.view == {"colour_mode": "gradient", "zoom": 1.25}
    np.testing.assert_array_equal(session.dataset.X_test, source.dataset.X_test)


def test_big_arrays_go_base64_and_come_back_exactly(tmp_path):
    ds = load_dataset("moons", n=2500, seed=0)     # X has 5000 numbers
    net = Network([2, 3, 2], ["tanh", "softmax"])
    trainer = Trainer(net, ds.X, ds.Y, TrainConfig(loss="cross_entropy", batch_size=500))
    trainer.run_batches(2)
    path = tmp_path / "big.json"
    save_session(path, trainer, DataSource(ds))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "base64" in doc["dataset"]["X"] and "values" in doc["state"]["order"]
    again = load_session(path).trainer
    np.testing.assert_array_equal(again.X, trainer.X)
    again.run_batches(4)
    trainer.run_batches(4)
    assert_same_training(again, trainer)


def test_divergence_pending_batch_size_and_broken_derivative_survive(tmp_path):
    sc = load_scenario("lecture-pytorch")
    sc.network.set_broken_sigmoid_derivative(True)
    trainer = sc.make_trainer()
    trainer.set_learning_rate(1e300)
    trainer.run_epochs(5)
    assert trainer.diverged
    path = tmp_path / "diverged.json"
    save_session(path, trainer, DataSource.from_scenario(sc), title=sc.title)
    session = load_session(path)
    again = session.trainer
    assert (again.diverged_epoch, again.diverged_reason) == (trainer.diverged_epoch, trainer.diverged_reason)
    assert again.net.broken_sigmoid_derivative
    assert session.source.kind == "scenario" and session.source.scenario == "lecture-pytorch"
    assert session.title == sc.title

    batched, source = make_run("sgd_minibatch")
    batched.run_batches(2)
    batched.set_batch_size(4)              # waits for the end of the epoch
    save_session(path, batched, source)
    again = load_session(path).trainer
    for t in (again, batched):
        t.run_epochs(2)
    assert again.config.batch_size == 4
    assert_same_training(again, batched)


def test_float32_networks_and_the_wrong_data_set(tmp_path):
    ds = load_dataset("sine", n=30, seed=0)
    net = Network([1, 4, 1], ["tanh", "linear"], dtype="float32", seed=1)
    trainer = Trainer(net, ds.X, ds.Y, TrainConfig(loss="mse", batch_size=8))
    trainer.run_batches(3)
    path = tmp_path / "f32.json"
    save_session(path, trainer, DataSource(ds))
    again = load_session(path).trainer
    assert again.net.dtype == np.float32
    for t in (again, trainer):
        t.run_epochs(2)
    assert_same_training(again, trainer)
    with pytest.raises(SaveError, match="not the one the network trains on"):
        save_session(path, trainer, DataSource(load_dataset("sine", n=30, seed=1)))


# -- atomic writes ---------------------------------------------------------------------------
class DiskFullAfter:
    """A file object that writes `budget` characters, then fails like a full disk."""

    def __init__(self, real, budget):
        self.real, self.budget = real, budget

    def write(self, text):
        if len(text) > self.budget:
            self.real.write(text[:self.budget])
            self.real.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self.budget -= len(text)
        return self.real.write(text)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.fixture
def saved(tmp_path):
    trainer, source = make_run("momentum_minibatch")
    trainer.run_epochs(3)
    path = tmp_path / "s.json"
    save_session(path, trainer, source)
    trainer.run_epochs(2)
    return path, path.read_bytes(), trainer, source


def assert_only(directory: Path, *names):
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)


def test_a_save_failing_half_way_leaves_the_old_file_intact(saved, monkeypatch):
    path, before, trainer, source = saved
    size = len(before)
    real_fdopen = os.fdopen
    monkeypatch.setattr(core.atomic.os, "fdopen",
                        lambda fd, *a, **k: DiskFullAfter(real_fdopen(fd, *a, **k), size // 2))
    with pytest.raises(SaveError, match=r"s\.json: No space left on device.*unchanged"):
        save_session(path, trainer, source)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert_only(path.parent, "s.json")
    assert load_session(path).trainer.epoch == 3


@pytest.mark.parametrize("failure", ["fsync", "bug", "interrupt"])
def test_other_failures_mid_save_leave_no_trace(saved, monkeypatch, failure):
    path, before, trainer, source = saved
    if failure == "fsync":
        def broken(fd):
            raise OSError(errno.EIO, "Input/output error")
        monkeypatch.setattr(core.atomic.os, "fsync", broken)
        expected = SaveError
    else:
        expected = RuntimeError if failure == "bug" else KeyboardInterrupt
        document = session_document(trainer, source)
        document["view"] = {"last": "FAIL-HERE"}   # the view is written last
        real_dumps = json.dumps

        def failing(value, *a, **k):
            if value == "FAIL-HERE":
                raise expected("mid-write")
            return real_dumps(value, *a, **k)
        monkeypatch.setattr("core.session.json.dumps", failing)
    with pytest.raises(expected):
        if failure == "fsync":
            save_session(path, trainer, source)
        else:
            write_session(path, document)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert_only(path.parent, "s.json")


def test_saving_where_nothing_can_be_written_is_a_save_error(tmp_path):
    trainer, source = make_run("sgd_full_batch")
    with pytest.raises(SaveError, match="no-such-dir"):
        save_session(tmp_path / "no-such-dir" / "s.json", trainer, source)


def test_a_new_file_gets_ordinary_permissions(tmp_path):
    trainer, source = make_run("sgd_full_batch")
    path = tmp_path / "s.json"
    save_session(path, trainer, source)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# -- bad files -------------------------------------------------------------------------------
def edit(doc_text, change):
    doc = json.loads(doc_text)
    change(doc)
    return json.dumps(doc)


BAD_FILES = {
    "png": (lambda good: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
    "empty": (lambda good: b"", "invalid JSON"),
    "truncated": (lambda good: good[:len(good) // 2], "truncated or corrupt"),
    "json list": (lambda good: b"[1, 2, 3]", "JSON list"),
    "other program": (lambda good: b'{"name": "x", "version": 3}', "not a Backprop Lab session"),
    "newer version": (lambda good: edit(good, lambda d: d.update(format_version=99)).encode(),
                      "newer Backprop Lab"),
    "missing field": (lambda good: edit(good, lambda d: d.pop("state")).encode(),
                      "'state' is missing"),
    "missing rng": (lambda good: edit(good, lambda d: d["state"].pop("rng")).encode(),
                    "'state.rng' is missing"),
    "wrong shape": (lambda good: edit(good, lambda d: d["state"]["params"].update(
        shape=[5], values=[0.0] * 5)).encode(), "'state.params' has shape 5"),
    "too few values": (lambda good: edit(good, lambda d: d["state"]["grad"]["values"].pop()).encode(),
                       "'state.grad' must list"),
    "text for a number": (lambda good: edit(good, lambda d: d["state"]["params"]["values"].__setitem__(
        0, "zero")).encode(), "'state.params' holds something that is not a number"),
    "bad order": (lambda good: edit(good, lambda d: d["state"]["order"].update(
        values=[0] * len(d["state"]["order"]["values"]))).encode(), "permutation"),
    "bad network": (lambda good: edit(good, lambda d: d["network"].update(
        activations=["softmax", "softmax"])).encode(), "softmax"),
    "bad optimiser": (lambda good: edit(good, lambda d: d["training"]["optimizer"].update(
        lr=-1)).encode(), "'training.optimizer' is invalid: lr must be"),
    "wrong data width": (lambda good: edit(good, lambda d: d["network"].update(
        sizes=[3, 8, 2])).encode(), "do not fit"),
    "history from the future": (lambda good: edit(good, lambda d: d["history"].update(
        log_epochs=[0, 10**6])).encode(), "log_epochs"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_every_bad_file_gets_a_clear_message_and_changes_nothing(saved, kind):
    path, good, trainer, source = saved
    before = trainer.state()
    bad = path.with_name("bad.json")
    content, message = BAD_FILES[kind]
    bad.write_bytes(content(good))
    with pytest.raises(SessionError) as caught:
        load_session(bad)
    text = str(caught.value)
    assert text.startswith("bad.json: ") and message in text, text
    assert "\n" not in text
    after = trainer.state()
    np.testing.assert_array_equal(after.params, before.params)
    assert after.epoch == before.epoch and path.read_bytes() == good


def test_a_missing_file_or_a_folder_is_a_session_error(tmp_path):
    with pytest.raises(SessionError, match="cannot read the session file"):
        load_session(tmp_path / "nowhere.json")
    with pytest.raises(SessionError, match="cannot read the session file"):
        load_session(tmp_path)


def test_a_changed_csv_is_refused_a_moved_one_found_a_missing_one_noted(tmp_path):
    csv_path = tmp_path / "data" / "houses.csv"
    csv_path.parent.mkdir()
    csv_path.write_text("a,b,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    trainer, _ = make_run("sgd_full_batch")
    ds = split(load_dataset("sine", n=60, seed=1), 0.2)
    source = DataSource.from_csv(ds, csv_path, {"target": "y"})
    path = tmp_path / "s.json"
    save_session(path, trainer, source)
    session = load_session(path)
    assert session.warnings == [] and session.source.csv_options == {"target": "y"}
    assert session.source.csv_sha256 == source.csv_sha256

    csv_path.write_text("a,b,y\n1,2,3\n4,5,7\n", encoding="utf-8")
    with pytest.raises(CsvChangedError, match=r"houses\.csv has changed since"):
        load_session(path)
    assert load_session(path, check_csv=False).trainer.epoch == trainer.epoch

    csv_path.write_text("a,b,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    os.replace(csv_path, tmp_path / "houses.csv")      # moved next to the session
    assert load_session(path).warnings == []
    (tmp_path / "houses.csv").unlink()
    assert "no longer there" in load_session(path).warnings[0]


# -- headless --------------------------------------------------------------------------------
def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def test_headless_save_then_load_equals_one_long_run(tmp_path, capsys):
    a, b, full = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "full.json"
    common = ["--headless", "--quiet", "--log-every", "10"]
    assert run(common + ["--epochs", "200", "--save-session", str(tmp_path / "s1.json"),
                         "--json", str(a)], capsys)[0] == 0
    assert run(["--headless", "--quiet", "--load-session", str(tmp_path / "s1.json"),
                "--epochs", "300", "--save-session", str(tmp_path / "s2.json"),
                "--json", str(b)], capsys)[0] == 0
    assert run(common + ["--epochs", "500", "--save-session", str(tmp_path / "s3.json"),
                         "--json", str(full)], capsys)[0] == 0
    np.testing.assert_array_equal(load_session(tmp_path / "s2.json").trainer.net.params,
                                  load_session(tmp_path / "s3.json").trainer.net.params)
    a, b, full = (json.loads(p.read_text()) for p in (a, b, full))
    assert b["epochs_run"] == 300 and b["final_loss"] == full["final_loss"]
    tail = [i for i, e in enumerate(full["log_epochs"]) if e >= 200]
    assert b["log_epochs"] == [full["log_epochs"][i] for i in tail]
    assert b["loss"] == [full["loss"][i] for i in tail]
    assert b["grad_norm_per_layer"] == [full["grad_norm_per_layer"][i] for i in tail]
    head = [i for i, e in enumerate(a["log_epochs"]) if e % 10 == 0]
    assert [a["loss"][i] for i in head] == full["loss"][:len(head)]


def test_headless_load_without_epochs_trains_nothing_and_flags_cannot_clash(tmp_path, capsys):
    session = tmp_path / "s.json"
    assert run(["--headless", "--quiet", "--epochs", "5", "--save-session", str(session)], capsys)[0] == 0
    record = tmp_path / "r.json"
    assert run(["--headless", "--quiet", "--load-session", str(session), "--json", str(record)],
               capsys)[0] == 0
    assert json.loads(record.read_text())["epochs_run"] == 0
    code, err = run(["--headless", "--load-session", str(session), "--scenario", "lecture-pytorch"], capsys)
    assert code == 2 and "--scenario" in err and err.count("\n") == 1
    (tmp_path / "bad.json").write_text("[]")
    code, err = run(["--headless", "--load-session", str(tmp_path / "bad.json")], capsys)
    assert code == 2 and "bad.json: not a Backprop Lab session" in err and err.count("\n") == 1


def test_a_link_is_followed_and_a_pipe_is_written_not_replaced(tmp_path):
    from core.atomic import atomic_write_text
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old", encoding="utf-8")
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"
    # A named pipe (like /dev/stdout): a rename would put a file where the pipe was.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        atomic_write_text(pipe, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_a_headless_csv_session_names_its_file_and_notices_a_change(tmp_path, capsys):
    csv_path, saved = tmp_path / "plants.csv", tmp_path / "s.json"
    rows = [f"{x:.4f},{2 * x + 1:.4f}" for x in np.random.default_rng(0).uniform(0, 5, 30)]
    csv_path.write_text("x,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, err = run(["--headless", "--quiet", "--data", str(csv_path), "--target", "y",
                     "--epochs", "3", "--save-session", str(saved)], capsys)
    assert code == 0, err
    source = json.loads(saved.read_text(encoding="utf-8"))["source"]
    assert source["kind"] == "csv" and Path(source["path"]) == csv_path.resolve()
    assert source["options"]["target"] == "y" and len(source["sha256"]) == 64
    csv_path.write_text("x,y\n" + "\n".join(rows[:-1]) + "\n", encoding="utf-8")
    code, err = run(["--headless", "--quiet", "--load-session", str(saved), "--epochs", "1"], capsys)
    assert code == 2 and "plants.csv has changed since" in err and "--embedded-data" in err
    # ... and the session's own copy of the data can still be trained on, on request.
    code, err = run(["--headless", "--quiet", "--load-session", str(saved), "--epochs", "1",
                     "--embedded-data"], capsys)
    assert code == 0, err
    code, err = run(["--headless", "--embedded-data"], capsys)
    assert code == 2 and "--load-session" in err


def test_a_continued_scenario_session_still_gets_its_verdict(tmp_path, capsys):
    saved = tmp_path / "noisy.json"
    code, _ = run(["--headless", "--quiet", "--scenario", "noisy-minibatches", "--epochs", "12",
                   "--save-session", str(saved)], capsys)
    assert code == 0
    assert main(["--headless", "--quiet", "--load-session", str(saved), "--epochs", "12"]) == 0
    assert "failure: with batches of 1" in capsys.readouterr().out
