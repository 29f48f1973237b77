"""Alembic environment: run by ``nianbao.storage.db.migrate`` or by the ``alembic`` command.

``migrate`` hands over an open connection (``config.attributes["connection"]``) so the upgrade
runs inside its transaction and lock. The ``alembic`` command (developers: ``alembic.ini`` at
the repository root) connects to ``nianbao.storage.db.database_url()`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from nianbao.storage.db import connect, database_url
from nianbao.storage.models import Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = connect(database_url())
    try:
        with engine.begin() as connection:
            _configure(connection)
            context.run_migrations()
    finally:
        engine.dispose()


def run_offline() -> None:
    """``alembic upgrade --sql``: print the DDL instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
