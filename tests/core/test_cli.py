"""The headless command line: listing, the JSON record, repeatability, and the error
contract (one line on stderr, exit code 2, never a traceback)."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from core import load_scenario, scenario_names

ROOT = Path(main.__file__).resolve().parent
JSON_KEYS = {"scenario", "epochs_run", "loss", "final_loss", "diverged", "diverged_epoch",
             "grad_norm_per_layer", "dead_fraction_per_layer", "saturated_fraction_per_layer",
             "update_ratio_per_layer", "epochs_per_second"}
PER_LAYER = ["grad_norm_per_layer", "dead_fraction_per_layer", "saturated_fraction_per_layer",
             "update_ratio_per_layer"]


def run_cli(*args):
    """main.py in a fresh interpreter, as a user runs it."""
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def headless_json(tmp_path, capsys, *args, name="run.json"):
    out = tmp_path / name
    assert main.main(["--headless", "--quiet", *args, "--json", str(out)]) == 0
    capsys.readouterr()
    return json.loads(out.read_text())


def test_list_scenarios_names_every_scenario_with_its_title(capsys):
    assert main.main(["--list-scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == scenario_names()
    assert {"lecture-house-prices", "lecture-pytorch"} <= set(scenario_names())
    for line, name in zip(lines, scenario_names()):
        assert load_scenario(name).title in line


def test_headless_json_has_every_documented_key_and_matches_the_trainer(tmp_path, capsys):
    record = headless_json(tmp_path, capsys, "--scenario", "lecture-house-prices",
                           "--epochs", "300", "--log-every", "50")
    assert JSON_KEYS <= set(record)
    assert record["scenario"] == "lecture-house-prices"
    assert record["epochs_run"] == 300 and record["diverged"] is False
    assert record["diverged_epoch"] is None
    assert len(record["loss"]) == 6 + 1   # epochs 0, 50, ..., 250, and the last (299)
    for key in PER_LAYER:
        assert len(record[key]) == len(record["loss"])
        assert all(len(row) == 2 and all(math.isfinite(v) for v in row) for row in record[key])
    assert record["epochs_per_second"] > 0

    # The same run in Python gives the same numbers.
    trainer = load_scenario("lecture-house-prices", seed=0).make_trainer(log_every=50)
    trainer.run_epochs(300)
    assert record["final_loss"] == trainer.history.loss.last()
    assert record["loss"][:6] == trainer.history.logs["loss"]
    assert record["grad_norm_per_layer"][:6] == trainer.history.logs["grad_norm"]


def test_the_same_command_twice_gives_the_same_json(tmp_path, capsys):
    args = ["--scenario", "lecture-pytorch", "--epochs", "200", "--seed", "5", "--log-every", "20"]
    first = headless_json(tmp_path, capsys, *args, name="a.json")
    second = headless_json(tmp_path, capsys, *args, name="b.json")
    first.pop("epochs_per_second"), second.pop("epochs_per_second")
    assert first == second


def test_the_seed_changes_the_run(tmp_path, capsys):
    args = ["--scenario", "lecture-house-prices", "--epochs", "100"]
    seed0 = headless_json(tmp_path, capsys, *args, "--seed", "0", name="a.json")
    seed1 = headless_json(tmp_path, capsys, *args, "--seed", "1", name="b.json")
    assert seed0["final_loss"] != seed1["final_loss"]
    assert seed0["loss"] != seed1["loss"]


def test_lr_flag_sets_the_learning_rate(tmp_path, capsys):
    args = ["--scenario", "lecture-house-prices", "--epochs", "50"]
    slow = headless_json(tmp_path, capsys, *args, name="a.json")
    fast = headless_json(tmp_path, capsys, *args, "--lr", "0.1", name="b.json")
    assert fast["final_loss"] < slow["final_loss"]


def test_a_diverging_run_reports_its_epoch_and_keeps_the_json_finite(tmp_path, capsys):
    record = headless_json(tmp_path, capsys, "--scenario", "lecture-pytorch", "--lr", "10",
                           "--epochs", "500", "--log-every", "7")
    assert record["diverged"] is True
    assert 0 < record["diverged_epoch"] == record["epochs_run"] < 500
    assert math.isfinite(record["final_loss"])
    values = record["loss"] + [v for key in PER_LAYER for row in record[key] for v in row]
    assert all(v is not None and math.isfinite(v) for v in values)


def test_the_printed_loss_lines_follow_the_lecture(capsys):
    assert main.main(["--headless", "--epochs", "300", "--log-every", "100"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert [int(line.split()[1]) for line in lines] == [0, 100, 200]
    trainer = load_scenario("lecture-house-prices", seed=0).make_trainer()
    trainer.run_epochs(1)
    assert float(lines[0].split()[3]) == pytest.approx(trainer.history.loss.last(), rel=1e-5)


@pytest.mark.parametrize("args, mentions", [
    (["--headless", "--lr", "abc"], "abc"),
    (["--headless", "--lr", "-1"], "--lr"),
    (["--headless", "--epochs", "-3"], "-3"),
    (["--headless", "--epochs", "many"], "many"),
    (["--headless", "--seed", "1.5"], "1.5"),
    (["--headless", "--scenario", "no-such-scenario"], "no-such-scenario"),
    (["--headless", "--epochs", "5", "--json", "/no/such/directory/run.json"], "run.json"),
    (["--headless", "--no-such-flag"], "--no-such-flag"),
    (["--headless", "--scenario", "missing-file.toml"], "missing-file.toml"),
    (["--headless", "--target", "price"], "needs --data"),
    (["--headless", "--data", "houses.csv", "--scenario", "dead-relus"], "--scenario"),
    (["--json", "run.json"], "--json works with --headless"),
    (["--export-pytorch", "net.py"], "File → Export"),
    (["--hidden", "8,8"], "needs --data"),
    (["--headless", "--seed", "4294967296"], "4294967296"),
    (["--headless", "--sample", "3"], "--explain"),
    (["--headless", "--scenario", ""], "--scenario"),
    (["--headless", "--test-fraction", "0.5"], "needs --data"),
], ids=["lr-abc", "lr-negative", "epochs-negative", "epochs-word", "seed-float",
        "unknown-scenario", "unwritable-json", "unknown-flag", "missing-scenario-file",
        "target-without-data", "data-and-scenario", "window-json", "window-export", "window-hidden",
        "seed-too-big", "sample-without-explain", "empty-scenario", "test-fraction-without-data"])
def test_bad_arguments_give_one_line_and_exit_code_2(args, mentions):
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert mentions in lines[0]


def test_a_json_path_that_is_a_directory_is_an_error_not_a_traceback(tmp_path, capsys):
    code = main.main(["--headless", "--quiet", "--epochs", "3", "--json", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and str(tmp_path) in err
    assert not list(tmp_path.iterdir())   # no temporary file left behind


def test_the_json_is_valid_strict_json(tmp_path, capsys):
    """JSON has no NaN: a run without a test split writes null test losses, not NaN."""
    record_text_path = tmp_path / "run.json"
    assert main.main(["--headless", "--quiet", "--epochs", "20",
                      "--json", str(record_text_path)]) == 0
    text = record_text_path.read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert np.isfinite(json.loads(text)["final_loss"])


def test_a_reader_that_goes_away_ends_the_run_quietly():
    # main.py ... | head -2: the pipe closes under a run that is still printing.
    process = subprocess.Popen([sys.executable, "main.py", "--headless", "--epochs", "20000",
                                "--log-every", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=120)
    process.stderr.close()
    assert "Traceback" not in err and "Exception" not in err, err
    assert process.returncode == 141
