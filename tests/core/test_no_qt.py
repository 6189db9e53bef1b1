"""core/ is pure numpy: importing any of it (and running the headless command line's
code) in a fresh interpreter loads no Qt, pyqtgraph or gui module."""
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "gui")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from core import load_scenario
load_scenario("lecture-house-prices").make_trainer().run_epochs(3)
import main
main.main(["--headless", "--quiet", "--epochs", "2"])
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_core_loads_no_qt_module():
    modules = ["core"] + [f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__)]
    assert {"core.headless", "core.scenarios", "core.trainer", "core.network"} <= set(modules)
    result = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True,
                            text=True, timeout=60, cwd=Path(core.__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert "core.headless" in loaded and "numpy" in loaded
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
