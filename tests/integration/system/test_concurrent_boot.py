"""Processes opening one fresh store at the same instant all come up, and it is seeded once.

Red-team failure: 3 of 10 gunicorn starts on a fresh SQLite store died with "Worker failed to
boot" because the workers migrated at once. gunicorn's workers import for seconds and rarely
reach the store in the same millisecond on a busy machine, so this test takes away the luck:
each process imports everything, then all wait for one "go" file and open the store together
(what every worker's ``app:server`` does). The gunicorn version is in test_gunicorn_serving.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

from tests.support.backends import pg_schema
from tests.support.sample import ROOT

OPENER = textwrap.dedent("""
    import os, sys, time
    from data.store.seed import open_store
    from settings import load_settings

    settings = load_settings(None, os.environ)
    go = sys.argv[1]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    try:
        open_store(settings)
    except Exception as exc:
        print(f"failed: {exc.__class__.__name__}: {exc}", flush=True)
        sys.exit(1)
    print("ok", flush=True)
""")
PROCESSES = 6


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BTCFOLIO") and k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "BTCFOLIO__STORE__URL": url, "PYTHONPATH": str(ROOT)}


def _open_together(url: str, go) -> list[tuple[int, str]]:
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, str(go)], cwd=ROOT, env=_env(url),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(PROCESSES)]
    try:
        for proc in procs:  # every process imported and is polling for the go file
            assert proc.stdout.readline().strip() == "ready"
        go.write_text("go")
        return [(proc.wait(timeout=180), proc.stdout.read()) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()


def _counts(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sa.text(sql)).scalar_one() for sql in (
                "SELECT count(*) FROM prices", "SELECT count(*) FROM ledger_entries",
                "SELECT count(*) FROM meta WHERE key IN ('seeded_sample', "
                "'portfolio_initialized')"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_start_on_sqlite_all_processes_come_up(tmp_path, attempt):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    started = time.monotonic()
    results = _open_together(url, tmp_path / "go")
    assert [code for code, _ in results] == [0] * PROCESSES, [out for _, out in results]
    prices, holdings, claims = _counts(url)
    assert prices > 10_000 and holdings == 8 and claims == 2
    assert time.monotonic() - started < 180


@pytest.mark.postgres
def test_concurrent_first_start_on_postgresql_all_processes_come_up(tmp_path):
    with pg_schema() as url:
        results = _open_together(url, tmp_path / "go")
        assert [code for code, _ in results] == [0] * PROCESSES, [out for _, out in results]
        prices, holdings, claims = _counts(url)
        assert prices > 10_000 and holdings == 8 and claims == 2
