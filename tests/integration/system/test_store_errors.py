"""Store errors name the cause and the file in one line; a zero-length file is not a new store;
/api/health is degraded when writes fail; look-alike Unicode symbols are refused.

Red-team failures: a store directory that cannot be created exited with a traceback; a
read-only or broken store said only ``store error (sqlite): OperationalError``; a zero-length
store file was silently re-seeded; /api/health said ok while the disk was full; ``ſol`` was
accepted as SOL.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import event

from app import create_app
from data.store.repository import Repository
from data.store.seed import open_store
from errors import StorageError
from tests.support.sample import ROOT


def _app_env(url: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "BTCFOLIO__SERVER__PORT": "1"}


def _start(tmp_path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=_app_env(url))


def test_store_directory_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = _start(tmp_path, f"sqlite:///{blocker}/sub/store.db")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    # One line naming the folder and the cause (data/store/setup.prepare_store says it first).
    assert any(f"{blocker}/sub" in line and "Not a directory" in line
               for line in lines), proc.stderr[-500:]


def test_zero_length_store_file_is_an_error_not_a_new_store(tmp_path, settings):
    store = tmp_path / "store.db"
    store.write_bytes(b"")
    with pytest.raises(StorageError, match=f"store file {store} is empty") as info:
        open_store(settings.model_copy(update={"store": settings.store.model_copy(
            update={"url": f"sqlite:///{store}"})}))
    assert "\n" not in str(info.value)
    assert store.stat().st_size == 0  # nothing seeded over it
    proc = _start(tmp_path, f"sqlite:///{store}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"store file {store} is empty (0 bytes)" in proc.stderr
    assert store.stat().st_size == 0


def test_broken_store_file_names_cause_and_file(tmp_path):
    store = tmp_path / "store.db"
    store.write_bytes(b"this is not an SQLite database, just text " * 200)
    with pytest.raises(StorageError) as info:
        Repository.from_url(f"sqlite:///{store}")
    message = str(info.value)
    assert "file is not a database" in message and str(store) in message
    assert "\n" not in message and "SELECT" not in message and "CREATE" not in message


def test_read_only_store_names_cause_and_file_and_health_is_degraded(tmp_path, repo, settings):
    path = repo.engine.url.database
    read_only = Repository(Repository.from_url(f"sqlite:///file:{path}?mode=ro&uri=true").engine)
    with pytest.raises(StorageError) as info:
        read_only.set_holding("SLV", 1.0)
    message = str(info.value)
    assert "attempt to write a readonly database" in message and path in message
    client = create_app(settings, read_only, environ={}).server.test_client()
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded"
    assert health["store"]["writable"] is False
    assert "readonly database" in health["store"]["error"] and path in health["store"]["error"]
    assert client.get("/api/portfolio").status_code == 200  # reads still served
    assert not (ROOT / "file%3A").exists()  # the start-up lock sits next to the store file


def test_full_store_makes_health_degraded(settings, repo):
    client = create_app(settings, repo, environ={}).server.test_client()
    assert client.get("/api/health").get_json()["store"] == {
        **client.get("/api/health").get_json()["store"], "writable": True, "error": None}

    # SQLite's own limit gives the error a full disk gives (SQLITE_FULL), on every connection.
    @event.listens_for(repo.engine, "connect")
    def _full(dbapi_conn, _record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    repo.engine.dispose()
    ts = pd.date_range("1990-01-01", periods=5000, freq="D", tz="UTC")
    frame = pd.DataFrame({"ts": ts, "symbol": "FULL", "open": 1.0, "high": 1.0, "low": 1.0,
                          "close": 1.0, "volume": 1.0, "source": "test"})
    with pytest.raises(StorageError, match="database or disk is full"):
        repo.upsert_prices(frame)  # what the scheduler's history job does
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded" and health["store"]["writable"] is False
    assert "database or disk is full" in health["store"]["error"]
    assert repo.engine.url.database in health["store"]["error"]


@pytest.mark.parametrize("symbol", ["ſol", "ＳＯＬ", "ſOL", "ﬀ", "ıNJ", "SOL\u200b", "Ｅth"])
def test_look_alike_symbols_are_refused(client_and_repo, symbol):
    client, repo, settings = client_and_repo
    before = repo.load_holdings(settings.portfolio.name)
    resp = client.post("/api/holdings", json={"symbol": symbol, "quantity": 1})
    assert resp.status_code == 400
    assert any(word in resp.get_json()["error"] for word in ("ASCII", "control characters"))
    assert client.delete(f"/api/holdings/{symbol}").status_code == 404
    assert client.get("/api/correlation", query_string={"assets": f"BTC,{symbol}"}
                      ).status_code == 400
    assert repo.load_holdings(settings.portfolio.name) == before


def test_plain_symbols_in_any_case_still_work(client_and_repo):
    client, repo, settings = client_and_repo
    assert client.post("/api/holdings", json={"symbol": " sol ", "quantity": 2}).status_code == 201
    assert repo.load_holdings(settings.portfolio.name)["SOL"] == 2.0


@pytest.fixture
def client_and_repo(settings, repo):
    return create_app(settings, repo, environ={}).server.test_client(), repo, settings
