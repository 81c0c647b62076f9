"""Alembic environment: always run on the connection the store hands over (never a config URL)."""

from alembic import context

from tracelight.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
