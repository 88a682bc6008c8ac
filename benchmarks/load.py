"""Load test: simulated dashboard sessions against gunicorn on loopback.

    python -m benchmarks.load [--sessions 1000] [--page-load-tabs 200] [--interval 30]
                              [--rounds 4] [--workers 2] [--rates 2,4,...] [--step-seconds 10]

The server is production's: ``gunicorn -c gunicorn.conf.py`` (gevent workers), bound to a
loopback socket (``benchmarks.load_server``).

(0) page load: the first ``--page-load-tabs`` tabs open, 4 at a time (the page-load figure),
    then the rest;
(a) steady: the ``--sessions`` tabs refresh every ``--interval`` s, starts spread evenly over
    one interval, for ``--rounds`` rounds (default 1,000 tabs, 30 s, 4 rounds: 33 ticks/s);
(b) burst: the same tabs refresh at rising open-loop rates (ticks/s) for ``--step-seconds``
    each, until a step has an error or a p95 over 100 ms; the last passing rate is the maximum
    sustained refresh rate.

Prints a table, writes benchmarks/load_results.json (everything) and the issue-17 rows
("load: ...") into benchmarks/results.json. See docs/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.load_client import (
    TARGET_P95_MS,
    Client,
    Stats,
    open_rate,
    open_tabs,
    saturated,
    sequential,
    steady,
    step_passes,
)
from benchmarks.load_server import ServerSpec, gunicorn, server_errors

RESULTS = Path(__file__).resolve().parent / "load_results.json"
DEFAULT_RATES = (1, 2, 4, 7, 10, 15, 20, 30, 40, 60, 80, 120)
SEQUENTIAL_TICKS = 20
ALONE_TABS = 5           # tabs opened one at a time before the others: the page-load floor
TARGET_PAGE_LOAD_MS = 250.0
KINDS = {"refresh": ["refresh"], "tick (all)": ["refresh", "tick-other"]}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--page-load-tabs", type=int, default=200,
                        help="the first tabs opened, whose page loads are the page-load figure")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between refreshes")
    parser.add_argument("--rounds", type=int, default=4, help="refreshes per session")
    parser.add_argument("--open-concurrency", type=int, default=4,
                        help="page loads at a time while the tabs open")
    parser.add_argument("--workers", type=int, default=ServerSpec.workers,
                        help="gunicorn workers (BTCFOLIO_WORKERS of gunicorn.conf.py)")
    parser.add_argument("--connections", type=int, default=256,
                        help="client connection pool (every tab shares it)")
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)),
                        help="burst steps, ticks/s (comma separated, rising)")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--no-burst", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--results", type=Path, default=common.DEFAULT_RESULTS,
                        help="results.json to write the issue figures into")
    return parser.parse_args(argv)


async def _open(client: Client, args: argparse.Namespace) -> tuple[list, dict[str, Any]]:
    """Open every tab: a few alone (the floor), the measured first ones, then the rest."""
    alone, first, rest = Stats(), Stats(), Stats()
    measured = min(args.page_load_tabs, args.sessions)
    started = time.perf_counter()
    tabs = await open_tabs(client, min(ALONE_TABS, args.sessions), 1, alone)
    begun = time.perf_counter()
    tabs += await open_tabs(client, max(0, measured - len(tabs)), args.open_concurrency, first)
    first_seconds = time.perf_counter() - begun
    _say(f"opened {len(tabs)} tabs in {time.perf_counter() - started:.0f} s")
    tabs += await open_tabs(client, args.sessions - measured, args.open_concurrency, rest)
    open_seconds = time.perf_counter() - started
    _say(f"opened {len(tabs)}/{args.sessions} tabs in {open_seconds:.0f} s")
    page_load = {"tabs": args.sessions, "loaded": len(tabs), "measured_tabs": measured,
                 "concurrency": args.open_concurrency, "seconds": round(open_seconds, 1),
                 "measured_seconds": round(first_seconds, 1),
                 **first.summary(["page"]), "tab": first.summary(["tab"]),
                 "alone": {"tabs": min(ALONE_TABS, args.sessions), **alone.summary(["page"]),
                           "tab": alone.summary(["tab"])},
                 "rest": {**rest.summary(["page"]), "tab": rest.summary(["tab"])},
                 "error_samples": alone.samples + first.samples + rest.samples}
    return tabs, page_load


async def _run(base: str, args: argparse.Namespace) -> dict[str, Any]:
    async with Client(base, connections=args.connections,
                      keepalive_seconds=max(1.0, ServerSpec.keep_alive_seconds - 2)) as client:
        stats = Stats()
        tabs, page_load = await _open(client, args)
        alone = Stats()
        if tabs:
            await asyncio.sleep(1.1)  # a tick in the page load's second would be a 204
            await sequential(client, tabs[0], SEQUENTIAL_TICKS, alone)
        started = time.perf_counter()
        await steady(client, tabs, args.interval, args.rounds, stats)
        result: dict[str, Any] = {
            "page_load": page_load,
            "one_tab_sequential": {name: alone.summary(kinds) for name, kinds in KINDS.items()},
            "steady": {
                "sessions": len(tabs), "interval_s": args.interval, "rounds": args.rounds,
                "seconds": round(time.perf_counter() - started, 1),
                **{name: stats.summary(kinds) for name, kinds in KINDS.items()},
                # Refreshes the server answered with a full render (it had lost the tab's view).
                "full_renders": stats.statuses[("refresh", "full")],
                "error_samples": stats.samples,
            },
            "burst": {"step_seconds": args.step_seconds, "steps": [],
                      "max_sustained_ticks_per_s": None},
        }
        result["steady"]["met"] = (len(tabs) == args.sessions
                                   and step_passes(result["steady"]["tick (all)"]))
        if tabs and not args.no_burst:
            result["burst"].update(await _burst(client, tabs, args))
        return result


async def _burst(client: Client, tabs: list, args: argparse.Namespace) -> dict[str, Any]:
    """Rising open-loop rates until saturation; the highest rate meeting the target."""
    steps, best = [], None
    for rate in sorted(float(r) for r in args.rates.split(",")):
        step = Stats()
        begun = time.perf_counter()
        await open_rate(client, tabs, rate, args.step_seconds, step)
        ticks = step.summary(KINDS["tick (all)"])
        summary = {"ticks_per_s": rate, "equivalent_sessions_at_30s": round(rate * 30),
                   "answered_per_s": round(ticks.get("requests", 0)
                                           / (time.perf_counter() - begun), 1),
                   **ticks, "refresh_p95_ms": step.summary(KINDS["refresh"]).get("p95_ms"),
                   "passed": step_passes(ticks), "error_samples": step.samples}
        steps.append(summary)
        _print_step(summary)
        best = rate if summary["passed"] else best
        if saturated(ticks):
            break
    return {"steps": steps, "max_sustained_ticks_per_s": best}


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - progress of a long command-line run


def _print_step(step: dict[str, Any]) -> None:
    print(f"  burst {step['ticks_per_s']:>6g} ticks/s  {step['requests']:>5} req  "  # noqa: T201
          f"{step['errors']:>3} err  p95 {step.get('p95_ms', '-')} ms  "
          f"{'ok' if step['passed'] else 'FAIL'}", flush=True)
    for sample in step["error_samples"]:
        print("    error:", sample)  # noqa: T201


def _row(label: str, s: dict[str, Any], met: str = "") -> str:
    return (f"| {label} | {s.get('requests', 0)} | {s.get('errors', 0)} | {s.get('p50_ms', '-')} "
            f"| {s.get('p95_ms', '-')} | {s.get('p99_ms', '-')} | {s.get('max_ms', '-')} "
            f"| {met} |")


def table(result: dict[str, Any]) -> str:
    """Markdown table: page loads, the steady run, each burst step, and the burst's answer."""
    pl, st = result["page_load"], result["steady"]
    rows = ["| scenario | requests | errors | p50 ms | p95 ms | p99 ms | max ms | target met |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            _row(f"open {pl['alone']['tabs']} tabs one at a time: page-load requests",
                 pl["alone"]),
            _row(f"open the first {pl['measured_tabs']} tabs ({pl['concurrency']} at a time): "
                 "page-load requests", pl,
                 "yes" if page_load_met(pl) else "**no**"),
            _row(f"open the first {pl['measured_tabs']} tabs: whole tab loads", pl["tab"]),
            _row(f"open {pl['loaded']}/{pl['tabs']} tabs in all: the other tabs' requests",
                 pl["rest"])]
    one = result["one_tab_sequential"]
    rows.append(_row(f"1 tab, {SEQUENTIAL_TICKS} ticks back to back (service time): "
                     "`update_dashboard`", one["refresh"]))
    rows.append(_row("1 tab, back to back: all tick requests", one["tick (all)"]))
    label = f"{st['sessions']} sessions, refresh every {st['interval_s']:g} s"
    rows.append(_row(f"{label}: `update_dashboard`", st["refresh"]))
    rows.append(_row(f"{label}: all tick requests", st["tick (all)"],
                     "yes" if st["met"] else "**no**"))
    for step in result["burst"]["steps"]:
        rows.append(_row(f"burst {step['ticks_per_s']:g} ticks/s (≈ "
                         f"{step['equivalent_sessions_at_30s']} sessions at 30 s)", step,
                         "yes" if step["passed"] else "no"))
    best = result["burst"]["max_sustained_ticks_per_s"]
    if result["burst"]["steps"]:
        rows.append("")
        rows.append(f"Maximum sustained refresh rate (0 errors, p95 ≤ {TARGET_P95_MS:g} ms): "
                    + (f"**{best:g} ticks/s** (≈ {round(best * 30)} sessions refreshing every "
                       "30 s)" if best else "**not reached at any step**"))
    return "\n".join(rows)


def page_load_met(page_load: dict[str, Any]) -> bool:
    """Every tab loaded, no error, page-load request p95 within the target."""
    return bool(page_load["loaded"] == page_load["tabs"] and page_load.get("errors", 1) == 0
                and page_load.get("p95_ms", float("inf")) <= TARGET_PAGE_LOAD_MS)


def result_rows(result: dict[str, Any]) -> list[common.Result]:
    """The issue-17 figures of a load run as results.json rows (names start "load: ")."""
    pl, st, alone = result["page_load"], result["steady"], result["one_tab_sequential"]
    ticks, floor = st["tick (all)"], alone["tick (all)"]
    p95, base95 = pl.get("p95_ms", float("nan")), pl["alone"].get("p95_ms")
    tab95 = pl["tab"].get("p95_ms", float("nan"))
    out = [
        common.Result(f"load: page-load request p95, {pl['measured_tabs']} tabs opening", p95,
                      "ms", base95, common.ratio(p95, base95), f"<= {TARGET_PAGE_LOAD_MS:g} ms",
                      page_load_met(pl)),
        common.Result(f"load: whole tab load p95, {pl['measured_tabs']} tabs opening", tab95,
                      "ms", pl["alone"]["tab"].get("p95_ms"),
                      common.ratio(tab95, pl["alone"]["tab"].get("p95_ms")), "(reported)", True),
    ]
    name = f"load: {st['sessions']} sessions every {st['interval_s']:g} s"
    tick95 = ticks.get("p95_ms", float("nan"))
    out.append(common.Result(f"{name}, tick p95", tick95, "ms", floor.get("p95_ms"),
                             common.ratio(tick95, floor.get("p95_ms")),
                             f"<= {TARGET_P95_MS:g} ms, 0 errors", bool(st["met"])))
    errors = ticks.get("errors", 0) + pl.get("errors", 0)
    out.append(common.Result(f"{name}, errors", errors, "errors", None, None, "0",
                             errors == 0 and pl["loaded"] == pl["tabs"]))
    best = result["burst"]["max_sustained_ticks_per_s"]
    if result["burst"]["steps"]:
        out.append(common.Result("load: max sustained ticks/s (p95 <= 100 ms)", best or 0.0,
                                 "ticks/s", None, None, "(reported)", True))
    return out


def _raise_file_limit() -> int:
    """Soft limit of open files up to the hard one (1,000 tabs need sockets); the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def main(argv: list[str] | None = None) -> int:
    """Run the load test against a fresh gunicorn, write its JSON and rows, print the table."""
    args = _parse_args(argv)
    spec = ServerSpec(workers=args.workers)
    files = _raise_file_limit()  # inherited by gunicorn too
    with tempfile.TemporaryDirectory(prefix="btcfolio-load-") as tmp:
        with gunicorn(Path(tmp), spec) as base:
            _say(f"gunicorn -c gunicorn.conf.py, {spec.workers} gevent workers at {base}; "
                 f"{args.sessions} sessions every {args.interval:g} s x {args.rounds}")
            result = asyncio.run(_run(base, args))
        result["server_log_errors"] = server_errors(Path(tmp))
    result["setup"] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "python": platform.python_version(), "open_files": files,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "gunicorn": {"config": "gunicorn.conf.py", "workers": spec.workers,
                     "worker_class": "gevent"},
        "client": {"connections": args.connections,
                   "keepalive_s": max(1.0, ServerSpec.keep_alive_seconds - 2)},
        "tick": "every server callback the interval triggers",
        "latency": "from the tick's scheduled time to the applied answer",
        "target_p95_ms": TARGET_P95_MS,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    common.write_results(args.results, [r.as_json() for r in result_rows(result)],
                         keep=lambda row: not common.is_load_row(row))
    print(table(result))  # noqa: T201
    for sample in result["page_load"]["error_samples"] + result["steady"]["error_samples"]:
        print("error:", sample)  # noqa: T201
    for line in result["server_log_errors"]:
        print("server log:", line)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
