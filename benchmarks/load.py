"""Load test: simulated dashboard sessions against gunicorn on loopback.

    python -m benchmarks.load [--sessions 200] [--interval 30] [--rounds 4] [--workers 2]
                              [--threads 4] [--rates 2,4,...] [--step-seconds 10]

(a) steady: ``--sessions`` tabs open evenly over one interval, then each refreshes every
    ``--interval`` s for ``--rounds`` rounds (default 200 tabs, 30 s, 4 rounds: 2.5 minutes);
(b) burst: the same tabs refresh at rising open-loop rates (ticks/s) for ``--step-seconds``
    each, until a step has an error or a p95 over 100 ms; the last passing rate is the maximum
    sustained refresh rate.

Prints a table and writes benchmarks/load_results.json. See docs/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.load_client import TARGET_P95_MS, Client, Stats, open_rate, step_passes, steady
from benchmarks.load_server import ServerSpec, gunicorn

RESULTS = Path(__file__).resolve().parent / "load_results.json"
DEFAULT_RATES = (2, 4, 7, 10, 15, 20, 30, 40, 60, 80, 120)
KINDS = {"refresh": ["refresh"], "tick (all)": ["refresh", "tick-other"], "page load": ["page"]}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between refreshes")
    parser.add_argument("--rounds", type=int, default=4, help="refreshes per session")
    parser.add_argument("--workers", type=int, default=ServerSpec.workers)
    parser.add_argument("--threads", type=int, default=ServerSpec.threads)
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)),
                        help="burst steps, ticks/s (comma separated, rising)")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


async def _run(base: str, args: argparse.Namespace) -> dict[str, Any]:
    async with Client(base) as client:
        stats = Stats()
        started = time.perf_counter()
        tabs = await steady(client, args.sessions, args.interval, args.rounds, stats)
        result: dict[str, Any] = {
            "steady": {
                "sessions": args.sessions, "sessions_loaded": len(tabs),
                "interval_s": args.interval, "rounds": args.rounds,
                "seconds": round(time.perf_counter() - started, 1),
                **{name: stats.summary(kinds) for name, kinds in KINDS.items()},
                "error_samples": stats.samples,
            },
            "burst": {"steps": [], "max_sustained_ticks_per_s": None},
        }
        result["steady"]["met"] = (len(tabs) == args.sessions
                                   and step_passes(result["steady"]["tick (all)"]))
        if args.no_burst or not tabs:
            return result
        for rate in sorted(float(r) for r in args.rates.split(",")):
            step = Stats()
            await open_rate(client, tabs, rate, args.step_seconds, step)
            summary = {"ticks_per_s": rate, "requests_per_s": round(
                sum(len(v) for v in step.latencies.values()) / args.step_seconds, 1),
                "equivalent_sessions_at_30s": round(rate * 30),
                **step.summary(KINDS["tick (all)"]), "refresh_p95_ms":
                step.summary(KINDS["refresh"]).get("p95_ms"),
                "passed": step_passes(step.summary(KINDS["tick (all)"])),
                "error_samples": step.samples}
            result["burst"]["steps"].append(summary)
            _print_step(summary)
            if not summary["passed"]:
                break
            result["burst"]["max_sustained_ticks_per_s"] = rate
        return result


def _print_step(step: dict[str, Any]) -> None:
    print(f"  burst {step['ticks_per_s']:>6g} ticks/s  {step['requests']:>5} req  "  # noqa: T201
          f"{step['errors']:>3} err  p95 {step.get('p95_ms', '-')} ms  "
          f"{'ok' if step['passed'] else 'FAIL'}", flush=True)
    for sample in step["error_samples"]:
        print("    error:", sample)  # noqa: T201


def table(result: dict[str, Any]) -> str:
    """Markdown table of the steady run and the burst's answer."""
    st = result["steady"]
    rows = ["| scenario | requests | errors | p50 ms | p95 ms | p99 ms | max ms | target met |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    label = f"{st['sessions']} sessions, every {st['interval_s']:g} s"
    for name in KINDS:
        s = st[name]
        met = {"tick (all)": "yes" if st["met"] else "**no**"}.get(name, "")
        rows.append(f"| {label}: {name} | {s['requests']} | {s['errors']} | {s.get('p50_ms')} "
                    f"| {s.get('p95_ms')} | {s.get('p99_ms')} | {s.get('max_ms')} | {met} |")
    for step in result["burst"]["steps"]:
        rows.append(f"| burst {step['ticks_per_s']:g} ticks/s (≈ "
                    f"{step['equivalent_sessions_at_30s']} sessions at 30 s) | {step['requests']} "
                    f"| {step['errors']} | {step.get('p50_ms')} | {step.get('p95_ms')} "
                    f"| {step.get('p99_ms')} | {step.get('max_ms')} | "
                    f"{'yes' if step['passed'] else 'no'} |")
    best = result["burst"]["max_sustained_ticks_per_s"]
    if result["burst"]["steps"]:
        rows.append("")
        rows.append(f"Maximum sustained refresh rate (0 errors, p95 ≤ {TARGET_P95_MS:g} ms): "
                    + (f"**{best:g} ticks/s** (≈ {round(best * 30)} sessions refreshing every "
                       f"30 s)" if best else "**none of the steps**"))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    spec = ServerSpec(workers=args.workers, threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="btcfolio-load-") as tmp:
        with gunicorn(Path(tmp), spec) as base:
            print(f"gunicorn {spec.workers} workers x {spec.threads} threads at {base}; "  # noqa: T201
                  f"{args.sessions} sessions every {args.interval:g} s x {args.rounds}",
                  flush=True)
            result = asyncio.run(_run(base, args))
    result["setup"] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "gunicorn": {"workers": spec.workers, "threads": spec.threads, "worker_class": "gthread"},
        "tick": "update_dashboard + update_rebalance (every callback the interval triggers)",
        "latency": "from the tick's scheduled time to the applied answer",
        "target_p95_ms": TARGET_P95_MS,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))  # noqa: T201
    for sample in result["steady"]["error_samples"]:
        print("error:", sample)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
