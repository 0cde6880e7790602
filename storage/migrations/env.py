"""Alembic environment: runs with the connection `storage.migrate` hands it."""

from __future__ import annotations

from alembic import context

from storage import results_models  # noqa: F401  (its tables are part of the schema)
from storage.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through storage.migrate
    raise RuntimeError("run migrations with `cicie db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
