"""``python -m benchmarks [--quick] [--only NAME ...] [--out PATH]``: run, print, write JSON."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from benchmarks import common

FIGURES = ("refresh", "correlation", "ingest", "startup", "gaps", "ledger", "optimize", "wire")
DEFAULT_OUT = common.DEFAULT_RESULTS


def run(names: tuple[str, ...] | list[str], *, quick: bool) -> list[common.Result]:
    """Every figure of the named modules, in order."""
    import importlib

    out: list[common.Result] = []
    for name in names:
        started = time.perf_counter()
        out.extend(importlib.import_module(f"benchmarks.{name}").results(quick=quick))
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)  # noqa: T201
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the chosen figures, print their table and merge them into the results JSON; exit 0."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: fewer repeats, 100k ingest rows (figures are rough)")
    parser.add_argument("--only", nargs="+", choices=FIGURES, default=list(FIGURES))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON path")
    args = parser.parse_args(argv)
    # The app logs every failed (offline) provider call: not benchmark output.
    logging.basicConfig(level=logging.CRITICAL)
    results = run(args.only, quick=args.quick)
    print(common.table(results))  # noqa: T201 - the CLI's output
    # The load test's rows (``python -m benchmarks.load``) stay; this run's replace the rest.
    common.write_results(args.out, [r.as_json() for r in results], keep=common.is_load_row)
    print(f"wrote {args.out}", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
