"""How long a million-row CSV file takes to be ready to train, against pandas.read_csv
alone on the same file; and how long the window's event loop stalls while the file loads
on the loader's thread.  Printed, not asserted (`make bench`)."""
from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pandas as pd
import pytest

from core.csv_dataset import build_dataset, default_options, make_csv_setup
from core.csv_import import read_csv_table

ROWS, COLUMNS, ROUNDS = 1_000_000, 20, 3


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "million.csv"
    rng = np.random.RandomState(0)
    values = rng.normal(size=(ROWS, COLUMNS)).round(6)
    pd.DataFrame(values, columns=[f"x{i}" for i in range(COLUMNS)]).to_csv(path, index=False)
    return path


def ready_to_train(path, stages, progress=None):
    t0 = time.perf_counter()
    table = read_csv_table(path, progress=progress)
    t1 = time.perf_counter()
    dataset, _ = build_dataset(table, default_options(table))
    t2 = time.perf_counter()
    trainer = make_csv_setup(dataset, hidden=[8]).make_trainer()
    t3 = time.perf_counter()
    stages["read + describe"].append(t1 - t0)
    stages["build data set"].append(t2 - t1)
    stages["network + trainer"].append(t3 - t2)
    return trainer


def test_million_rows_load_about_as_fast_as_pandas(million_rows):
    """Two ways in: headless (no progress callback: pandas reads the path, on every core)
    and the window's (progress and cancel: pandas reads a stream, on one core)."""
    size_mb = million_rows.stat().st_size / 2 ** 20
    times = {"pandas.read_csv(path)": [], "headless: read, build, make trainer": [],
             "window: same, with progress + cancel": []}
    stages = {"read + describe": [], "build data set": [], "network + trainer": []}
    watched_stages = {key: [] for key in stages}
    for _ in range(ROUNDS):         # interleaved, so machine load hits all alike
        t0 = time.perf_counter()
        frame = pd.read_csv(million_rows)
        times["pandas.read_csv(path)"].append(time.perf_counter() - t0)
        del frame
        t0 = time.perf_counter()
        trainer = ready_to_train(million_rows, stages)
        times["headless: read, build, make trainer"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        watched = ready_to_train(million_rows, watched_stages, progress=lambda fraction: None)
        times["window: same, with progress + cancel"].append(time.perf_counter() - t0)
    for t in (trainer, watched):
        assert t.X.shape == (ROWS * 4 // 5, COLUMNS - 1) and t.X_test.shape[0] == ROWS // 5
    pandas_best = min(times["pandas.read_csv(path)"])
    print(f"\n{ROWS} rows × {COLUMNS} numeric columns ({size_mb:.0f} MB), best of {ROUNDS}:")
    for what, runs in times.items():
        print(f"  {what:38s} {min(runs):5.2f} s  ratio {min(runs) / pandas_best:4.2f}  "
              f"(runs: {', '.join(f'{t:.2f}' for t in runs)})")
    for title, parts in (("headless", stages), ("window", watched_stages)):
        print(f"  {title} stages: " + ", ".join(f"{k} {min(v):.2f} s" for k, v in parts.items()))


def test_window_stays_responsive_while_a_million_rows_load(million_rows, qtbot):
    """The loader thread runs pandas; the GUI thread's timer should keep firing."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    from gui.csv_loader import CSVLoader

    loader = CSVLoader()
    gaps, clock = [], QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    progress = []
    loader.progressed.connect(progress.append)
    t0 = time.perf_counter()
    with qtbot.waitSignal(loader.loaded, timeout=120_000):
        loader.read(million_rows)
    elapsed = time.perf_counter() - t0
    timer.stop()
    loader.shutdown()
    gaps.sort()
    p99 = gaps[int(0.99 * (len(gaps) - 1))]
    print(f"\nloading {ROWS} rows on the loader thread: {elapsed:.2f} s, "
          f"{len(progress)} progress updates; GUI timer (10 ms) gaps: median "
          f"{statistics.median(gaps):.0f} ms, p99 {p99:.0f} ms, max {gaps[-1]:.0f} ms")
    assert progress and progress[-1] == 1000
