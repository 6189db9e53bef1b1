"""Benchmarks run single-threaded (these are 2-core machines shared with the GUI and the
tests): pin the BLAS and OpenMP pools before numpy or torch loads them.  Also make the
lecture-loop transcription in tests/core importable."""
import os
import sys
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
