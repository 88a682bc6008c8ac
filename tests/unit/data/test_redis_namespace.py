"""cache.redis_key_prefix namespaces every Redis key, so installs (and tests) can share a Redis."""

from __future__ import annotations

import pytest

from data.providers import registry as registry_module
from data.providers.cache import PriceCache
from data.providers.registry import build_registry
from errors import ConfigError
from settings import load_settings
from tests.support.sample import ROOT


def _settings(tmp_path, **env):
    return load_settings(ROOT / "config.yaml", {"BTCFOLIO_DATA_DIR": str(tmp_path),
                                                "REDIS_URL": "redis://127.0.0.1:1/0", **env})


def test_cache_and_rate_limit_keys_use_the_configured_prefix(tmp_path, monkeypatch):
    settings = _settings(tmp_path, BTCFOLIO__CACHE__REDIS_KEY_PREFIX="home-a")
    cache = PriceCache.from_settings(settings.cache)
    assert cache.backend.key_prefix == "home-a:cache:"
    seen = {}
    monkeypatch.setattr(registry_module, "ProviderRateLimiter",
                        lambda rates, **kw: seen.update(kw))
    build_registry(settings, {}, cache)
    assert seen["key_prefix"] == "home-a:ratelimit"
    assert seen["redis_url"] == "redis://127.0.0.1:1/0"


def test_default_prefix_is_btcfolio(tmp_path):
    assert PriceCache.from_settings(_settings(tmp_path).cache).backend.key_prefix == (
        "btcfolio:cache:")


def test_prefix_with_glob_characters_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="cache.redis_key_prefix"):
        _settings(tmp_path, BTCFOLIO__CACHE__REDIS_KEY_PREFIX="a*b")
