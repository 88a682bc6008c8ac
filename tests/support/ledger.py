"""A generic-CSV ledger used by the import, API and page tests."""

LEDGER_CSV = """\
date,type,account,asset,quantity,price,price_currency,fee,fee_asset,counter_asset,counter_quantity,to_account,external_id,note
2024-01-02,DEPOSIT,exchange,USD,20000,,,,,,,,,first savings
2024-01-03,BUY,exchange,ETH,3,2200,USD,5,USD,,,,,
2024-02-01,TRADE,exchange,SOL,40,,,,,ETH,1,,,swap
2024-03-01T15:30:00+00:00,DEPOSIT,exchange,BTC,0.1,,,,,,,,,
2024-04-01,TRANSFER,exchange,BTC,0.1,,,0.0001,BTC,,,cold,,to the hardware wallet
2024-05-03,BUY,exchange,SPY,10,510,USD,,,,,,,
2024-06-03,WITHDRAWAL,exchange,USD,2000,,,,,,,,,rent
2024-09-02,SELL,exchange,SOL,10,130,USD,1,USD,,,,,
"""
