"""Alembic environment: runs migrations on the engine hotpapers passes in, one process at a
time (PostgreSQL: an advisory lock held by the migration's transaction; SQLite: a file lock
taken by `db.migrate`)."""

from alembic import context
from sqlalchemy import text

from hotpapers.store.schema import metadata

engine = context.config.attributes["engine"]

MIGRATION_LOCK = 0x686F7470617065  # any fixed number: "hotpape"

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":  # others wait here; the revision is read after
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
