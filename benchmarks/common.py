"""Shared bits of the harness: the result row, timing and percentile helpers, the table."""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

RESULT_KEYS = ("name", "value", "unit", "baseline", "ratio", "target", "met")
DEFAULT_RESULTS = Path(__file__).with_name("results.json")
LOAD_PREFIX = "load: "  # rows written by ``python -m benchmarks.load``


@dataclass(frozen=True)
class Result:
    """One figure: measured value, its same-run baseline, and the target it is held to.

    ``ratio`` is value / baseline for times, sizes and memory (lower is better) and
    rate / floor rate for throughputs (higher is better); ``target`` is a readable text
    ("<= 10 ms", ">= 50 % of floor") and ``met`` says whether the figure meets it.
    """

    name: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    target: str
    met: bool

    def as_json(self) -> dict:
        """The row as written to the results JSON (every field, by name)."""
        return asdict(self)


def ratio(value: float, baseline: float | None) -> float | None:
    """The ratio value / baseline (3 decimals); None without a usable baseline."""
    return None if not baseline else round(value / baseline, 3)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call in milliseconds, and its result (GC off during the call)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        out = fn()
        return (time.perf_counter() - start) * 1000.0, out
    finally:
        if enabled:
            gc.enable()


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation) of samples."""
    return float(np.percentile(np.asarray(samples, dtype=float), q))


def median(values: list[float]) -> float:
    """The median as a plain float (the figure every timing reports)."""
    return float(statistics.median(values))


def table(results: list[Result]) -> str:
    """A fixed-width text table of the results."""
    width = max([40] + [len(r.name) for r in results])
    head = f"{'figure':<{width}} {'value':>12} {'unit':<8} {'baseline':>12} {'ratio':>8}  " \
           f"{'target':<22} met"
    lines = [head, "-" * len(head)]
    for r in results:
        base = "-" if r.baseline is None else f"{r.baseline:,.3f}"
        rat = "-" if r.ratio is None else f"{r.ratio:,.3f}"
        lines.append(f"{r.name:<{width}} {r.value:>12,.3f} {r.unit:<8} {base:>12} {rat:>8}  "
                     f"{r.target:<22} {'yes' if r.met else 'NO'}")
    return "\n".join(lines)


def is_load_row(row: dict) -> bool:
    """A row of the load test (``python -m benchmarks.load`` owns them)."""
    return str(row.get("name", "")).startswith(LOAD_PREFIX)


def write_results(path: Path, rows: list[dict], *, keep: Callable[[dict], bool]) -> list[dict]:
    """Write ``rows`` to the results file, after the existing rows ``keep`` says to keep.

    ``python -m benchmarks`` and ``python -m benchmarks.load`` share one results.json: each
    replaces its own rows and leaves the other's. Returns what was written.
    """
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = []
    names = {r["name"] for r in rows}
    kept = [r for r in existing if isinstance(r, dict) and keep(r) and r.get("name") not in names]
    out = kept + rows
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out
