"""What a failure scenario tells the GUI to put in front ([diagnostic] log_loss), and the
exploding-gradient metric's sentence when a gradient norm overflows."""
import math

import pytest

from core import ScenarioError, load_scenario
from core.metrics import exploding_gradients
from core.scenarios import scenario_from_file

BASE = """\
name = "tiny"
title = "A tiny scenario"
narrative = "Two moons, one hidden layer."

[dataset]
name = "moons"
n = 40

[network]
hidden = [4]
activations = ["tanh", "sigmoid"]

[training]
loss = "binary_cross_entropy"
lr = 0.1
epochs = 5

[diagnostic]
plot = "loss"
"""


@pytest.mark.parametrize("name", ["dead-relus", "exploding-gradients", "learning-rate-too-high"])
def test_scenarios_whose_loss_spans_decades_ask_for_a_log_loss_axis(name):
    assert load_scenario(name).log_loss is True
    assert load_scenario(name, remedy=True).log_loss is True


def test_log_loss_is_the_viewers_choice_unless_the_file_says(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(BASE, encoding="utf-8")
    assert scenario_from_file(path).log_loss is None
    path.write_text(BASE + "log_loss = false\n", encoding="utf-8")
    assert scenario_from_file(path).log_loss is False
    path.write_text(BASE + 'log_loss = "yes"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"tiny.toml: field 'diagnostic.log_loss'"):
        scenario_from_file(path)


def trainer_with_logged_norms(layer_norms):
    """An exploding-gradients trainer whose history logged these per-layer norms."""
    trainer = load_scenario("exploding-gradients").make_trainer()
    trainer.run_epochs(1)
    trainer.history.log_epochs[:] = list(range(len(layer_norms)))
    trainer.history.logs["grad_norm"][:] = layer_norms
    return trainer


def test_an_overflowed_gradient_norm_is_called_overflowed_not_infinitely_grown():
    trainer = trainer_with_logged_norms([[1.0, 2.0], [1e200, 1e200]])      # 1e200² overflows
    metric = exploding_gradients(trainer)
    assert metric.values["grad_norm_growth"] == math.inf
    assert metric.failure
    assert "overflowed" in metric.sentence and "∞" not in metric.sentence


def test_a_finite_growth_is_still_quoted_as_a_factor():
    trainer = trainer_with_logged_norms([[1.0, 0.0], [1e7, 0.0]])
    metric = exploding_gradients(trainer)
    assert metric.failure and "grew 1.0e+07×" in metric.sentence
