"""The store: schema, migrations, repository, seed, holdings and ledger, backfills, backup."""
