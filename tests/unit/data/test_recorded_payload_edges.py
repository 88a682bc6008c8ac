"""Edge cases that only the recorded payloads show: old CoinGecko bodies without timestamps or
volumes, a Yahoo chart with split/dividend events, and Yahoo's in-progress bar of today."""

from __future__ import annotations

import pandas as pd
import pytest

from data.providers.adapters.base import validate_prices
from data.providers.adapters.coingecko import CoinGeckoAdapter
from data.providers.adapters.yahoofinance import YahooFinanceAdapter
from errors import BadResponseError
from tests.support.recorded import load


def test_coingecko_2018_quote_without_last_updated_at_is_a_bad_response():
    # 2018's minimal body {"bitcoin": {"usd": ...}}: without a time a quote cannot be dated.
    payload = load("coingecko", "simple_price_pycoingecko_2018.json")
    with pytest.raises(BadResponseError, match="BTC: quote has no last_updated_at"):
        CoinGeckoAdapter._parse_quotes(payload, {"bitcoin": "BTC"})


def test_coingecko_history_with_prices_only_has_nan_volume_and_last_price_per_hour():
    payload = load("coingecko", "coins_market_chart_prices_only_pycoingecko_2018.json")
    bars = validate_prices(CoinGeckoAdapter._parse_history(payload, "BTC", "1h"))
    points = pd.DataFrame(payload["prices"], columns=["ms", "price"])
    points["hour"] = pd.to_datetime(points["ms"], unit="ms", utc=True).dt.floor("h")
    expected = points.groupby("hour")["price"].last()
    assert list(bars["ts"]) == list(expected.index)
    assert bars["close"].tolist() == pytest.approx(expected.tolist())
    assert bars["volume"].isna().all()          # total_volumes absent: unknown, not 0


def test_yahoo_chart_with_split_and_dividend_events_keeps_raw_closes_by_ny_date():
    payload = load("yahoo", "chart_AAPL_1d_2020-08-31_2020-11-07_events_TRIMMED.json")
    result = payload["chart"]["result"][0]
    assert set(result["events"]) == {"dividends", "splits"}
    bars = validate_prices(YahooFinanceAdapter._parse_history(payload, "AAPL", "1d"))
    days = [d.date().isoformat() for d in bars["ts"]]
    # 09:30 New York opens keyed by their trading date, not shifted by the UTC offset.
    assert days == ["2020-08-31", "2020-09-01", "2020-09-02", "2020-09-03", "2020-09-04",
                    "2020-11-06"]
    # Raw closes (post-split 129.04 on the split day), never the dividend-adjusted adjclose.
    assert bars["close"].tolist() == pytest.approx(result["indicators"]["quote"][0]["close"])


def test_yahoo_in_progress_bar_of_today_is_keyed_to_its_date_not_the_trade_time():
    payload = load("yahoo", "chart_BTC-USD_range1d_partial_day.json")
    bars = validate_prices(YahooFinanceAdapter._parse_history(payload, "BTC", "1d"))
    assert list(bars["ts"]) == [pd.Timestamp("2025-02-19", tz="UTC")]   # trade at 05:02 UTC
    assert bars["close"].iloc[0] == pytest.approx(95219.0234375)
