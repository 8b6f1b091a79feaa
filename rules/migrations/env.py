"""Alembic environment: run by ``remise db upgrade`` (rules.db.upgrade).

The connection comes from the caller (``config.attributes["connection"]``) so
that tests can migrate a private PostgreSQL schema or a temporary SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from rules.models import Base

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # plain `alembic` command line, with sqlalchemy.url set in its config
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as opened:
        _run(opened)
