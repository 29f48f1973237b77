"""Alembic migrations of the nianbao database (run by ``nianbao.storage.db.migrate``)."""
