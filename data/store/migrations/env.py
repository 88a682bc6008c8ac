"""Alembic environment: runs on the connection handed in by data.store.repository.migrate()."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
