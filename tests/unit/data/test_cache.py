"""Cache: freshness windows and keys that never hold API keys (filesystem and Redis backends)."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from data.models import Quote
from data.providers.cache import PriceCache, make_backend
from tests.support.sample import NOW


def test_quote_fresh_then_usable_then_stale(tmp_path):
    cache = PriceCache(make_backend(str(tmp_path)), quote_ttl=30, stale_if_error=300)
    cache.put_quote(Quote("BTC", 60000.0, NOW, "coingecko"), fetched_at=NOW)
    assert cache.fresh_quote("BTC", now=NOW + timedelta(seconds=30)).price_usd == 60000.0
    assert cache.fresh_quote("BTC", now=NOW + timedelta(seconds=31)) is None
    assert not cache.get_quote("BTC", now=NOW + timedelta(seconds=300)).stale
    assert cache.get_quote("BTC", now=NOW + timedelta(seconds=301)).stale
    assert cache.get_quote("ETH", now=NOW) is None


def test_history_keyed_by_symbol_interval_and_window(tmp_path):
    import pandas as pd

    cache = PriceCache(make_backend(str(tmp_path)), history_ttl=3600)
    frame = pd.DataFrame({"close": [1.0]})
    end = NOW + timedelta(days=1)
    cache.put_history("BTC", "1d", NOW, end, frame, "coingecko", fetched_at=NOW)
    assert cache.get_history("BTC", "1d", NOW, end, now=NOW)[1] == "coingecko"
    assert cache.get_history("BTC", "1h", NOW, end, now=NOW) is None
    assert cache.get_history("BTC", "1d", NOW, end + timedelta(days=1), now=NOW) is None
    assert cache.get_history("BTC", "1d", NOW, end, now=NOW + timedelta(seconds=3601)) is None


@pytest.mark.redis
def test_redis_keys_and_values_hold_no_api_key():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable: {exc}")
    backend = make_backend("unused", url)
    backend.key_prefix = f"btcfolio-test:{uuid.uuid4().hex}:"
    cache = PriceCache(backend)
    cache.put_quote(Quote("BTC", 60000.0, NOW, "coinmarketcap"), fetched_at=NOW)
    keys = client.keys(backend.key_prefix + "*")
    assert [k.decode() for k in keys] == [backend.key_prefix + "quote:BTC"]
    assert cache.fresh_quote("BTC", now=NOW).price_usd == 60000.0
    client.delete(*keys)


def test_unreachable_redis_is_a_logged_miss_not_a_crash(caplog):
    cache = PriceCache(make_backend("unused", "redis://127.0.0.1:1/0"))
    cache.put_quote(Quote("BTC", 60000.0, NOW, "x"), fetched_at=NOW)
    assert cache.get_quote("BTC", now=NOW) is None
    assert "cache write of quote:BTC failed" in caplog.text
