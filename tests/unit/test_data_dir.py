"""The data directory: store, cache and lock go there, never into the working directory."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from data.scheduling.locks import make_leader_lock
from settings import load_settings
from tests.support.sample import ROOT

CONFIG = ROOT / "config.yaml"


def test_data_dir_from_env_holds_store_cache_and_lock(tmp_path):
    s = load_settings(CONFIG, {"BTCFOLIO_DATA_DIR": str(tmp_path / "d")})
    assert s.data_dir == str(tmp_path / "d")
    assert s.store.url == f"sqlite:///{tmp_path / 'd' / 'btcfolio.db'}"
    assert s.cache.dir == str(tmp_path / "d" / "cache")
    assert Path(make_leader_lock(s, token="x").path).parent == tmp_path / "d"


def test_data_dir_default_is_the_platform_user_data_dir_not_the_cwd():
    s = load_settings(CONFIG, {})
    expected = Path(platformdirs.user_data_dir("btcfolio", appauthor=False))
    assert Path(s.data_dir) == expected
    assert s.store.url == f"sqlite:///{expected / 'btcfolio.db'}"
    assert Path(s.cache.dir) == expected / "cache"          # not ./.cache as before


def test_data_dir_relative_env_is_made_absolute_and_absolute_urls_are_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(CONFIG, {"BTCFOLIO_DATA_DIR": "rel",
                               "BTCFOLIO__CACHE__DIR": "/srv/cache",
                               "DATABASE_URL": "postgresql://u@db/btc"})
    assert s.data_dir == str(tmp_path / "rel")
    assert s.cache.dir == "/srv/cache"
    assert s.store.url == "postgresql://u@db/btc"


def test_data_dir_env_wins_over_config_key(tmp_path):
    s = load_settings(CONFIG, {"BTCFOLIO__DATA_DIR": str(tmp_path / "cfg"),
                               "BTCFOLIO_DATA_DIR": str(tmp_path / "env")})
    assert s.data_dir == str(tmp_path / "env")
    assert load_settings(CONFIG, {"BTCFOLIO__DATA_DIR": str(tmp_path / "cfg")}).data_dir == str(
        tmp_path / "cfg")
