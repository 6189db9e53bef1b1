"""Backprop Lab's engine: pure numpy, no Qt (a test enforces it)."""
from .activations import ACTIVATIONS, get_activation
from .datasets import Dataset, load_dataset
from .errors import BackpropLabError, ConfigError, ScenarioError
from .history import History
from .losses import LOSSES, get_loss
from .network import Gradients, Network, Pass
from .numbering import neuron_name, param_ref, parse_param_name
from .optimizers import OptimizerConfig
from .scenarios import Scenario, load_scenario, scenario_names
from .trainer import Snapshot, TrainConfig, Trainer, TrainerState

__all__ = [
    "ACTIVATIONS", "LOSSES", "BackpropLabError", "ConfigError", "Dataset", "Gradients",
    "History", "Network", "OptimizerConfig", "Pass", "Scenario", "ScenarioError", "Snapshot",
    "TrainConfig", "Trainer", "TrainerState", "get_activation", "get_loss", "load_dataset",
    "load_scenario", "neuron_name", "param_ref", "parse_param_name", "scenario_names",
]
