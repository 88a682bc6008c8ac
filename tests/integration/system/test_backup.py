"""python -m data.backup: backup then restore into a new data dir gives the same /api/portfolio."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

import services
from app import create_app
from data.store.backup import main, sqlite_path
from errors import ConfigError
from settings import load_settings
from tests.support.sample import ROOT

CONFIG = ROOT / "config.yaml"


def _env(data_dir) -> dict[str, str]:
    return {"BTCFOLIO_DATA_DIR": str(data_dir)}


def _portfolio(env: dict[str, str]) -> dict:
    app = create_app(load_settings(CONFIG, env), environ={})
    try:
        return app.server.test_client().get("/api/portfolio").get_json()
    finally:
        services.repository().engine.dispose()


def test_backup_then_restore_into_new_data_dir_gives_same_portfolio(tmp_path, capsys):
    old, new = _env(tmp_path / "old"), _env(tmp_path / "new")
    create_app(load_settings(CONFIG, old), environ={})      # first start: seeded store
    services.repository().set_holding("ETH", 7.25)          # the user's own, not the sample
    services.repository().remove_holding("AAPL")
    before = _portfolio(old)
    assert before["holdings"].keys() >= {"ETH"} and "AAPL" not in before["holdings"]

    backup = tmp_path / "b.db"
    assert main(["create", str(backup)], old) == 0
    assert f"backup written: {backup}" in capsys.readouterr().out
    assert main(["restore", str(backup)], new) == 0
    assert (tmp_path / "new" / "btcfolio.db").is_file()
    assert _portfolio(new) == before


def test_backup_default_file_is_in_the_data_dir(tmp_path, capsys):
    env = _env(tmp_path / "d")
    create_app(load_settings(CONFIG, env), environ={})
    assert main(["create"], env) == 0
    written = list((tmp_path / "d" / "backups").glob("btcfolio-*Z.db"))
    assert len(written) == 1 and str(written[0]) in capsys.readouterr().out


def test_restore_refuses_to_overwrite_without_force_and_keeps_the_old_store(tmp_path, capsys):
    env = _env(tmp_path / "d")
    create_app(load_settings(CONFIG, env), environ={})
    backup = tmp_path / "b.db"
    assert main(["create", str(backup)], env) == 0
    assert main(["restore", str(backup)], env) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main(["restore", str(backup), "--force"], env) == 0
    assert (tmp_path / "d" / "btcfolio.db.before-restore").is_file()


def test_restore_rejects_a_file_that_is_not_a_btcfolio_store(tmp_path, capsys):
    junk, other = tmp_path / "junk.db", tmp_path / "other.db"
    junk.write_text("not a database at all, just text " * 200)
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    env = _env(tmp_path / "d")
    assert main(["restore", str(junk)], env) == 1
    assert "is not a SQLite store" in capsys.readouterr().err
    assert main(["restore", str(other)], env) == 1
    assert "is not a btcfolio store (no alembic_version, assets, prices)" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.db")], env) == 1
    assert not (tmp_path / "d" / "btcfolio.db").exists()       # nothing changed


def test_backup_of_postgres_store_names_the_pg_dump_command():
    with pytest.raises(ConfigError, match=r"pg_dump -Fc .* btcfolio\.dump mydb"):
        sqlite_path("postgresql://u@db:5432/mydb")


def test_backup_cli_runs_as_module_and_fails_in_one_line_without_store(tmp_path):
    env = {"BTCFOLIO_DATA_DIR": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "data.backup", "create"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"backup error: no store at {tmp_path / 'empty' / 'btcfolio.db'}: nothing to back up"]
