"""Alembic environment: run on the connection `hub.db.upgrade` hands over (never from alembic.ini)."""
from alembic import context

from hub.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("hub migrations run through hub.db.upgrade(engine), which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
