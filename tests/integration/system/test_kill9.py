"""kill -9 during an ingest leaves no partial or duplicated rows; a rerun completes the set.

The writer is a child process. In the first test it writes batches through
``Repository.upsert_prices`` (one transaction per call, as every ingest write is) and is killed
while a batch's transaction is half executed (an engine hook pauses it there). In the second it
runs the scheduler's backfill job against the local fake provider and is killed mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from data.store.repository import Repository
from settings import load_settings
from tests.support.backends import store_url
from tests.support.fake_provider import FakeCoinGecko
from tests.support.faults import seed_without, start_app
from tests.support.processes import process_env, wait_for
from tests.support.sample import ROOT

BATCHES, ROWS = 5, 12_000     # 12 000 rows = 3 statements of 5 000 inside one transaction
KILL_IN_BATCH = 2

WRITER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from sqlalchemy import event
    from data.store.repository import Repository

    url, batches, rows, pause_in = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    repo = Repository.from_url(url)
    state = {"batch": -1, "statements": 0}

    @event.listens_for(repo.engine, "after_cursor_execute")
    def _pause_mid_transaction(conn, cursor, statement, params, context, executemany):
        if executemany and state["batch"] == pause_in:
            state["statements"] += 1
            if state["statements"] == 2:      # 10 000 rows written, not committed
                print("mid", flush=True)
                time.sleep(60)

    ts = pd.date_range("1990-01-01", periods=rows, freq="D", tz="UTC")
    for batch in range(batches):
        state["batch"], state["statements"] = batch, 0
        closes = [float(batch * 100_000 + i + 1) for i in range(rows)]
        frame = pd.DataFrame({"ts": ts, "symbol": f"K{batch:02d}", "open": closes, "high": closes,
                              "low": closes, "close": closes, "volume": 1.0, "source": "test"})
        changed = repo.upsert_prices(frame)
        print(f"committed {batch} {changed}", flush=True)
    print("done", flush=True)
""")


def _counts(repo: Repository) -> dict[str, int]:
    with repo.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT symbol, count(*) FROM prices GROUP BY symbol ORDER BY symbol")).all()
    return {s: int(n) for s, n in rows}


def _duplicates(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return conn.execute(sa.text(
            'SELECT count(*) FROM (SELECT symbol, "interval", ts FROM prices '
            'GROUP BY symbol, "interval", ts HAVING count(*) > 1) d')).scalar_one()


def _run_writer(url: str, pause_in: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(BATCHES), str(ROWS), str(pause_in)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("backend", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill9_mid_transaction_leaves_whole_batches_only(backend, tmp_path):
    with store_url(backend, tmp_path) as url:
        repo = Repository.from_url(url)
        proc = _run_writer(url, KILL_IN_BATCH)
        try:
            lines = []
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                line = proc.stdout.readline().strip()
                lines.append(line)
                if line == "mid" or not line:
                    break
            assert lines[-1] == "mid", lines
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        # Batches 0 and 1 were committed; batch 2 had 10 000 of its rows written but not
        # committed: none of them may be visible.
        assert _counts(repo) == {"K00": ROWS, "K01": ROWS}
        assert _duplicates(repo) == 0

        rerun = _run_writer(url, pause_in=-1)
        out, _ = rerun.communicate(timeout=45)
        assert rerun.returncode == 0
        committed = [line.split() for line in out.splitlines() if line.startswith("committed")]
        # Rewriting batches 0-1 changes nothing (idempotent); 2-4 are written in full.
        assert [int(c[2]) for c in committed] == [0, 0, ROWS, ROWS, ROWS]
        assert _counts(repo) == {f"K{b:02d}": ROWS for b in range(BATCHES)}
        assert _duplicates(repo) == 0
        repo.engine.dispose()


BACKFILL = textwrap.dedent("""
    import os
    from datetime import datetime, timezone
    from data.scheduling.jobs import build_jobs
    from data.store.repository import Repository
    from settings import load_settings

    settings = load_settings(None, os.environ)
    repo = Repository.from_url(settings.store.url)
    print(build_jobs(settings, repo, os.environ).backfill(datetime.now(timezone.utc)), flush=True)
""")


def test_kill9_during_backfill_job_then_rerun_completes(tmp_path):
    fake = FakeCoinGecko().start()
    try:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        env = process_env(tmp_path, fake.url, BTCFOLIO__STORE__URL=url,
                          BTCFOLIO__SCHEDULER__BACKFILL_DAYS="20000")
        repo = Repository.from_url(url)
        coins = [s for s, a in load_settings(None, env).assets.items() if "coingecko" in a.symbols]

        proc = subprocess.Popen([sys.executable, "-c", BACKFILL], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: fake.calls()["history"] >= 3, 30, "backfill under way")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        partial = _counts(repo)
        assert len(partial) < len(coins), "the kill came too late to interrupt the backfill"
        full = max(partial.values(), default=None)
        # Every symbol is either absent or complete: no half-written symbol.
        assert all(n == full for n in partial.values()), partial
        assert _duplicates(repo) == 0

        rerun = subprocess.run([sys.executable, "-c", BACKFILL], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        final = _counts(repo)
        assert sorted(final) == sorted(coins)
        assert len(set(final.values())) == 1 and next(iter(final.values())) >= 19_999
        assert _duplicates(repo) == 0
        repo.engine.dispose()
    finally:
        fake.stop()


# ---- kill -9 of the app itself (embedded scheduler) mid-backfill, then restart ------------
BACKFILLED = {"ETH", "SOL", "AVAX", "MATIC", "USDT", "USDC"}   # seeded without history
APP_ENV = {"BTCFOLIO__SCHEDULER__EMBEDDED": "true",
           "BTCFOLIO__SCHEDULER__BACKFILL_DAYS": "1000",
           "BTCFOLIO__SCHEDULER__BACKFILL_CHECK_SECONDS": "1"}


def _bars(url: str) -> list[tuple]:
    """Every stored daily bar (symbol, ts, close, source), duplicates kept."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(
                "SELECT symbol, ts, close, source FROM prices WHERE \"interval\" = '1d'")))
    finally:
        engine.dispose()


def _complete(url: str, expected: set) -> bool:
    return set(_bars(url)) >= expected


def test_kill9_of_the_app_mid_backfill_then_restart_matches_an_uninterrupted_run(tmp_path):
    fake = FakeCoinGecko().start()
    fake.long_history_delay = 1.0   # each backfill answer is slow: the kill lands mid-run
    seed = str(seed_without(tmp_path, BACKFILLED))
    try:
        # The reference: one uninterrupted run of the app on its own store.
        ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
        app = start_app(tmp_path, fake.url, store_url=ref_url, base_env=APP_ENV,
                        log_name="reference.log", BTCFOLIO__STORE__SEED_FILE=seed)
        wait_for(lambda: {s for s, *_ in _bars(ref_url) if s in BACKFILLED} == BACKFILLED
                 and min(sum(1 for b in _bars(ref_url) if b[0] == s) for s in BACKFILLED)
                 >= 1000, 60, "the uninterrupted backfill")
        assert app.stop() == 0
        # Only the backfilled symbols: gap healing (its own job) adds rows of the others on its
        # own schedule, which a kill moves in time without losing anything of the backfill.
        reference = [b for b in _bars(ref_url) if b[0] in BACKFILLED]
        assert len(reference) == len(set(reference))

        url = f"sqlite:///{tmp_path / 'store.db'}"
        calls = fake.calls()["history"]
        app = start_app(tmp_path, fake.url, store_url=url, base_env=APP_ENV,
                        BTCFOLIO__STORE__SEED_FILE=seed)
        # The first of six symbols backfilled, the others still to come: kill the app process.
        wait_for(lambda: sum(1 for s, *_ in _bars(url) if s == "AVAX") >= 1000, 30,
                 "the first symbol backfilled")
        os.kill(app.proc.pid, signal.SIGKILL)
        app.proc.wait(timeout=10)
        partial = [b for b in _bars(url) if b[0] in BACKFILLED]
        assert fake.calls()["history"] > calls
        assert len(partial) == len(set(partial)), "duplicated rows after kill -9"
        assert set(partial) < set(reference), "the kill came too late to interrupt the backfill"

        app = start_app(tmp_path, fake.url, store_url=url, base_env=APP_ENV,
                        log_name="restart.log", BTCFOLIO__STORE__SEED_FILE=seed)
        try:
            wait_for(lambda: _complete(url, set(reference)), 60,
                     "the restarted app to store every row of the uninterrupted run")
        except AssertionError:
            missing = set(reference) - set(_bars(url))
            raise AssertionError(f"{len(missing)} rows lost, e.g. {sorted(missing)[:3]}") from None
        finally:
            assert app.stop() == 0
        final = [b for b in _bars(url) if b[0] in BACKFILLED]
        assert len(final) == len(set(final)), "duplicated rows after the restart"
        assert final == reference
    finally:
        fake.stop()
