"""Repeatable performance measurements of btcfolio against same-run baselines.

``python -m benchmarks [--quick]`` prints a table and writes ``benchmarks/results.json``.
One module per figure; ``dataset`` builds the stores they share. See docs/benchmarks.md.
"""

import os

# One BLAS thread unless the caller says otherwise. Set before numpy loads (this package is
# imported first by ``python -m benchmarks``): on 2 shared cores OpenBLAS's thread pool turns
# a 1 ms matrix product into 10-20 ms of waiting for a busy core, which measures the machine
# rather than the code. Production should do the same (docs/benchmarks.md).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
