"""kill -9 during the first start leaves a fresh store or a complete one, never a half-seeded one.

Red-team failure: a kill right after "portfolio initialized" was recorded lost the sample
portfolio for good (the claim was written before the holdings). A child process runs
``open_store`` (what every entry point runs) and pauses at one instant (an engine hook inside a
transaction, or a wrapper between steps); the test kills it there with SIGKILL, then a restart
must end with exactly what an uninterrupted first start writes.
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

from data.store.seed import open_store
from settings import load_settings
from tests.support.backends import store_url
from tests.support.sample import ROOT

OPENER = textwrap.dedent("""
    import os, sys, time
    import sqlalchemy as sa
    from sqlalchemy import event
    from data.store import repository, seed
    from settings import load_settings

    instant = sys.argv[1]
    state = {"creates": 0}

    def pause(where):
        print(where, flush=True)
        time.sleep(120)

    # On every engine, the migration's own connection included.
    @event.listens_for(sa.engine.Engine, "after_cursor_execute")
    def _pause(conn, cursor, statement, params, context, executemany):
        text = statement.lstrip().upper()
        if instant == "mid-migration" and text.startswith("CREATE TABLE"):
            state["creates"] += 1
            if state["creates"] == 3:
                pause("paused")
        elif instant == "mid-seed" and executemany and "INTO PRICES" in text:
            pause("paused")
        elif instant == "mid-portfolio" and "INTO LEDGER_ENTRIES" in text:
            pause("paused")
        elif instant == "seed-claim" and "INTO META" in text and "seeded_sample" in str(params):
            pause("paused")

    def before(name):
        def wrapped(*args, **kwargs):
            pause("paused")
        return wrapped

    if instant == "after-migration":
        seed.seed_store = before("seed_store")
    elif instant == "after-seed":
        seed.init_portfolio = before("init_portfolio")
    elif instant == "after-portfolio":
        repository.Repository.sync_assets = lambda self, universe: pause("paused")

    seed.open_store(load_settings(None, os.environ))
    print("done", flush=True)
""")
INSTANTS = ["mid-migration", "after-migration", "mid-seed", "seed-claim", "after-seed",
            "mid-portfolio", "after-portfolio"]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "BTCFOLIO__STORE__URL": url, "PYTHONPATH": str(ROOT)}


def _contents(url: str) -> dict:
    """Everything a first start writes: holdings, assets, price rows, run-once keys."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            def rows(sql):
                return sorted(tuple(r) for r in conn.execute(sa.text(sql)))
            return {"holdings": rows("SELECT portfolio, asset, quantity, ts FROM ledger_entries"),
                    "assets": rows("SELECT symbol, name, category, kind FROM assets"),
                    "prices": rows("SELECT symbol, count(*), min(ts), max(ts), sum(close) "
                                   "FROM prices GROUP BY symbol"),
                    "meta": rows("SELECT key FROM meta WHERE key IN "
                                 "('seeded_sample', 'portfolio_initialized')")}
    finally:
        engine.dispose()


def _kill_at(instant: str, url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", OPENER, instant], cwd=ROOT, env=_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, line = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline().strip()
            if line in ("paused", "done") or (not line and proc.poll() is not None):
                break
        assert line == "paused", f"{instant}: never reached ({line!r}) {proc.stderr.read()[-800:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What one uninterrupted first start writes."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ref') / 'store.db'}"
    repo = open_store(load_settings(None, _env(url)))
    repo.engine.dispose()
    contents = _contents(url)
    assert contents["holdings"] and contents["prices"] and len(contents["meta"]) == 2
    return contents


@pytest.mark.parametrize("instant", INSTANTS)
@pytest.mark.parametrize("backend", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kill9_first_start_then_restart_is_complete(backend, instant, tmp_path, reference):
    if backend == "postgresql" and instant not in ("mid-portfolio", "after-seed", "mid-seed"):
        pytest.skip("PostgreSQL runs the instants where its transactions differ from SQLite's")
    with store_url(backend, tmp_path) as url:
        _kill_at(instant, url)
        restart = subprocess.run([sys.executable, "-c", OPENER, "none"], cwd=ROOT,
                                 env=_env(url), capture_output=True, text=True, timeout=120)
        assert restart.returncode == 0, restart.stderr[-1500:]
        assert _contents(url) == reference
