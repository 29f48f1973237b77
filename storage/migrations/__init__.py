"""Alembic migrations of the nianbao database (run by ``storage.db.migrate``)."""
