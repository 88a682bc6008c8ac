"""Configuration: validation errors name the key, env overrides nest and parse, secrets stay in env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from errors import ConfigError
from settings import load_settings
from tests.support.sample import ROOT


def _write(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    mutate(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_settings_bundled_config_is_valid():
    s = load_settings(ROOT / "config.yaml", {})
    assert s.refresh.interval_seconds == 30
    assert set(s.assets) == {"BTC", "ETH", "SOL", "AVAX", "MATIC", "USDT", "USDC",
                             "SPY", "QQQ", "AAPL", "GLD", "SLV"}
    cats = {sym: a.category for sym, a in s.assets.items()}
    assert cats["SOL"] == "high_vol_crypto" and cats["BTC"] == "stable_crypto"
    assert cats["GLD"] == "commodities" and cats["USDC"] == "stablecoins" and cats["SPY"] == "stocks"
    holdings = s.portfolio.holdings
    assert 5 <= len(holdings) <= 10 and "MATIC" not in holdings
    assert len({s.assets[h].category for h in holdings}) >= 4


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r["refresh"].update(interval_secs=30), "refresh.interval_secs: unknown key"),
    (lambda r: r["refresh"].update(interval_seconds="soon"), "refresh.interval_seconds: "),
    (lambda r: r["assets"]["SPY"].pop("category"), "assets.SPY.category: required key is missing"),
    (lambda r: r["portfolio"]["holdings"].update(DOGE=3), "portfolio.holdings.DOGE: not an asset"),
    (lambda r: r["assets"]["GLD"].update(category="metals"), "assets.GLD.category: unknown category"),
    (lambda r: r["sources"]["yahoo"].update(base_url="http://x/v8"), "sources.yahoo.base_url: must"),
    (lambda r: r["portfolio"]["holdings"].update(BTC=-1), "quantity of BTC must be a positive"),
])
def test_settings_mistake_is_one_line_naming_the_key(tmp_path, mutate, expected):
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, mutate), {})
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_settings_env_overrides_nest_and_parse_as_yaml():
    env = {"BTCFOLIO__REFRESH__INTERVAL_SECONDS": "15",
           "BTCFOLIO__SOURCES__COINGECKO__BASE_URL": "http://127.0.0.1:9999",
           "BTCFOLIO__SOURCES__YAHOO__ENABLED": "false",
           "BTCFOLIO__ASSETS__BTC__NAME": "Sound money"}
    s = load_settings(ROOT / "config.yaml", env)
    assert s.refresh.interval_seconds == 15
    assert s.sources["coingecko"].base_url == "http://127.0.0.1:9999"
    assert s.sources["yahoo"].enabled is False
    assert s.assets["BTC"].name == "Sound money"


def test_settings_env_override_of_unknown_key_is_rejected():
    with pytest.raises(ConfigError, match="refresh.bogus: unknown key"):
        load_settings(ROOT / "config.yaml", {"BTCFOLIO__REFRESH__BOGUS": "1"})


def test_settings_database_and_redis_urls_and_config_file_from_env(tmp_path):
    other = _write(tmp_path, lambda r: r["refresh"].update(interval_seconds=60))
    s = load_settings(None, {"BTCFOLIO_CONFIG": str(other),
                             "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                             "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert s.refresh.interval_seconds == 60
    assert s.store.url == f"sqlite:///{tmp_path / 'x.db'}"
    assert s.cache.redis_url == "redis://127.0.0.1:6379/0"


def test_settings_api_key_comes_from_env_only():
    s = load_settings(ROOT / "config.yaml", {})
    assert s.api_key("coinmarketcap", {"CMC_API_KEY": "k-123"}) == "k-123"
    assert s.api_key("coinmarketcap", {}) is None
    assert s.api_key("yahoo", {"CMC_API_KEY": "k"}) is None


def test_settings_invalid_yaml_is_one_line(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("refresh: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad, {})


@pytest.mark.parametrize("mutate", [
    lambda r: r["refresh"].update(interval_secs=30),
    lambda r: r["assets"]["SPY"].pop("category"),
    lambda r: r["portfolio"]["holdings"].update(DOGE=3),
])
def test_settings_app_exits_2_with_one_line_and_no_traceback(tmp_path, mutate):
    path = _write(tmp_path, mutate)
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: ")
    assert "Traceback" not in proc.stderr
