"""Scenario files: the bundled ones load; a bad one is a ScenarioError naming the file and
the field, and on the command line one line on stderr with exit code 2."""
import subprocess
import sys
from pathlib import Path

import pytest

import main
from core import ScenarioError, load_scenario, scenario_names
from core.scenarios import scenario_from_file

GOOD = """\
name = "tiny"
title = "A tiny scenario"
narrative = "Two moons, one hidden layer."

[dataset]
name = "moons"
n = 40
test_fraction = 0.25

[network]
hidden = [4]
activations = ["tanh", "sigmoid"]
init = "xavier"

[training]
loss = "binary_cross_entropy"
optimizer = "adam"
lr = 0.01
batch_size = 8
epochs = 20
seed = 3

[diagnostic]
plot = "loss"

[remedy]
description = "Wider."
[remedy.network]
hidden = [8]
"""


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


# (test id, the good file edited, text that must appear in the message)
BAD = [
    ("missing-name", lambda t: edit(t, 'name = "tiny"\n', ""), "'name'"),
    ("missing-lr", lambda t: edit(t, "lr = 0.01\n", ""), "training.lr"),
    ("missing-epochs", lambda t: edit(t, "epochs = 20\n", ""), "training.epochs"),
    ("misspelt-network-table", lambda t: edit(t, "[network]", "[netwrk]"), "'netwrk' is not a known"),
    ("misspelt-batch-size", lambda t: edit(t, "batch_size = 8", "bach_size = 8"),
     "'training.bach_size' is not a known"),
    ("test-fraction-in-training", lambda t: edit(t, "seed = 3", "seed = 3\ntest_fraction = 0.2"),
     "'training.test_fraction' is not a known"),
    ("lr-is-text", lambda t: edit(t, "lr = 0.01", 'lr = "fast"'), "training.lr"),
    ("lr-negative", lambda t: edit(t, "lr = 0.01", "lr = -0.01"), "training.lr"),
    ("lr-nan", lambda t: edit(t, "lr = 0.01", "lr = nan"), "training.lr"),
    ("epochs-float", lambda t: edit(t, "epochs = 20", "epochs = 2.5"), "training.epochs"),
    ("epochs-zero", lambda t: edit(t, "epochs = 20", "epochs = 0"), "training.epochs"),
    ("batch-negative", lambda t: edit(t, "batch_size = 8", "batch_size = -1"), "training.batch_size"),
    ("title-number", lambda t: edit(t, 'title = "A tiny scenario"', "title = 3"), "'title'"),
    ("hidden-text", lambda t: edit(t, "hidden = [4]", 'hidden = "4"'), "network.hidden"),
    ("hidden-zero", lambda t: edit(t, "hidden = [4]", "hidden = [0]"), "network.hidden"),
    ("bad-activation", lambda t: edit(t, '"tanh", "sigmoid"', '"tanhh", "sigmoid"'),
     "network.activations"),
    ("activation-not-text", lambda t: edit(t, '"tanh", "sigmoid"', '["tanh"], "sigmoid"'),
     "network.activations"),
    ("too-few-activations", lambda t: edit(t, '"tanh", "sigmoid"', '"sigmoid"'),
     "network.activations"),
    ("hidden-softmax", lambda t: edit(t, '"tanh", "sigmoid"', '"softmax", "sigmoid"'),
     "network.activations"),
    ("bad-init", lambda t: edit(t, 'init = "xavier"', 'init = "glorot"'), "network.init"),
    ("unknown-loss", lambda t: edit(t, '"binary_cross_entropy"', '"hinge"'), "training.loss"),
    ("ce-on-sigmoid", lambda t: edit(t, '"binary_cross_entropy"', '"cross_entropy"'),
     "training.loss"),
    ("bce-on-tanh", lambda t: edit(t, '"tanh", "sigmoid"', '"tanh", "tanh"'), "training.loss"),
    ("unknown-optimiser", lambda t: edit(t, '"adam"', '"rmsprop"'), "training.optimizer"),
    ("unknown-dataset", lambda t: edit(t, 'name = "moons"', 'name = "mnist"'), "dataset.name"),
    ("dataset-name-number", lambda t: edit(t, 'name = "moons"', "name = 7"), "dataset.name"),
    ("dataset-unknown-parameter", lambda t: edit(t, "n = 40", "m = 40"), "dataset"),
    ("dataset-negative-size", lambda t: edit(t, "n = 40", "n = -5"), "dataset.n"),
    ("dataset-no-samples", lambda t: edit(t, "n = 40", "n = 0"), "dataset.n"),
    ("dataset-noise-text", lambda t: edit(t, "n = 40", 'noise = "lots"'), "dataset.noise"),
    ("dataset-noise-nan", lambda t: edit(t, "n = 40", "noise = nan"), "dataset.noise"),
    ("dataset-parameter-of-another", lambda t: edit(t, "n = 40", "classes = 3"),
     "'dataset.classes' is not a known"),
    ("test-fraction-leaves-nothing", lambda t: edit(t, "test_fraction = 0.25", "test_fraction = 0.99"),
     "dataset.test_fraction"),
    ("seed-too-big", lambda t: edit(t, "seed = 3", "seed = 99999999999"), "training.seed"),
    ("momentum-one", lambda t: edit(t, "seed = 3", "seed = 3\nmomentum = 1.0"), "training.momentum"),
    ("hidden-impossible", lambda t: edit(t, "hidden = [4]", "hidden = [1000000000000]"),
     "network.hidden"),
    # The remedy's fields are checked whenever the file is read, named as the remedy's.
    ("remedy-lr-text", lambda t: t + '[remedy.training]\nlr = "fast"\n', "remedy.training.lr"),
    ("remedy-misspelt-field", lambda t: t + "[remedy.training]\nlearning_rate = 0.5\n",
     "'remedy.training.learning_rate' is not a known"),
    ("remedy-bad-activation", lambda t: edit(t, "hidden = [8]", 'hidden = [8]\nactivations = ["tan", "sigmoid"]'),
     "remedy.network.activations"),
    ("test-fraction-one", lambda t: edit(t, "test_fraction = 0.25", "test_fraction = 1.0"),
     "dataset.test_fraction"),
    ("bad-plot", lambda t: edit(t, 'plot = "loss"', 'plot = "accuracy"'), "diagnostic.plot"),
    ("remedy-without-description", lambda t: edit(t, 'description = "Wider."\n', ""),
     "remedy.description"),
    ("invalid-toml", lambda t: edit(t, "lr = 0.01", "lr = = 0.01"), "line"),
]


@pytest.fixture
def write(tmp_path):
    def write(text, name="bad.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


def test_the_good_file_loads_with_and_without_its_remedy(write):
    path = write(GOOD, "good.toml")
    sc = scenario_from_file(path)
    assert sc.name == "tiny" and sc.network.sizes == [2, 4, 1] and sc.seed == 3
    assert sc.dataset.X_test is not None and len(sc.X) == 30
    assert sc.config.batch_size == 8 and sc.config.optimizer.name == "adam"
    assert scenario_from_file(path, remedy=True).network.sizes == [2, 8, 1]
    sc.make_trainer().run_epochs(2)


@pytest.mark.parametrize("make, field", [(m, f) for _, m, f in BAD], ids=[i for i, _, _ in BAD])
def test_a_bad_field_names_the_file_and_the_field(write, make, field):
    path = write(make(GOOD))
    with pytest.raises(ScenarioError) as err:
        scenario_from_file(path)
    message = str(err.value)
    assert "bad.toml" in message and field in message
    assert "\n" not in message


def test_a_remedy_asked_of_a_scenario_without_one_names_the_file(write):
    path = write(GOOD[:GOOD.index("[remedy]")])
    with pytest.raises(ScenarioError, match=r"bad\.toml.*remedy"):
        scenario_from_file(path, remedy=True)


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8"])
def test_an_unreadable_file_is_named(tmp_path, kind):
    path = tmp_path / "broken.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-utf8":
        path.write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(ScenarioError, match=r"broken\.toml"):
        scenario_from_file(path)


@pytest.mark.parametrize("make, field", [(m, f) for _, m, f in BAD], ids=[i for i, _, _ in BAD])
def test_the_command_line_reports_a_bad_scenario_file_in_one_line(write, capsys, make, field):
    path = write(make(GOOD))
    assert main.main(["--headless", "--quiet", "--scenario", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "bad.toml" in lines[0] and field in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_a_bad_scenario_file_in_a_real_process_exits_2_without_traceback(write):
    path = write(edit(GOOD, "n = 40", "n = -5"))
    result = subprocess.run([sys.executable, str(Path(main.__file__)), "--headless",
                             "--scenario", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", scenario_names())
def test_every_bundled_scenario_loads_and_trains_a_few_epochs(name):
    for seed in (0, 1):
        sc = load_scenario(name, seed=seed)
        assert sc.name == name and sc.title and sc.narrative and sc.epochs >= 1
        trainer = sc.make_trainer()
        assert trainer.run_epochs(2) == 2
        if sc.has_remedy:
            assert load_scenario(name, seed=seed, remedy=True).remedy_applied
