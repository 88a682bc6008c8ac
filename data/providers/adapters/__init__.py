"""Market-data adapters, one vendor per module, all behind ``base.PriceAdapter``.

What each provider offers (``capabilities`` / ``intervals`` on the class):

============== ============================== ===================================================
provider       quotes (one call)              history
============== ============================== ===================================================
coingecko      /api/v3/simple/price, 250 ids  market_chart/range: 1d, 1h (window <= 90 days for
                                              hourly points; CoinGecko picks the granularity:
                                              1 day -> 5 min, 2-90 days -> hourly, > 90 days ->
                                              daily). Demo plan: last 365 days only. No 1m.
coinmarketcap  /v2/cryptocurrency/quotes/     /v2/cryptocurrency/ohlcv/historical 1d, 1h: paid
               latest, 100 ids                plans only (``plan: pro``); otherwise quotes only.
alphavantage   GLOBAL_QUOTE, 1 symbol/call    TIME_SERIES_DAILY 1d (compact = last 100 trading
                                              days; full with ``plan: pro``), TIME_SERIES_INTRADAY
                                              1h/1m. Free key: 25 requests/day.
yahoo          /v7/finance/quote, 50 tickers  /v8/finance/chart: 1d any range, 1h within the last
                                              730 days, 1m within the last 30 days (8 days per
                                              request).
============== ============================== ===================================================

Every base URL comes from ``sources.<name>.base_url`` (scheme://host[:port]); the adapter adds
the documented paths, so any adapter can be pointed at any server (tests use local ones).
"""
