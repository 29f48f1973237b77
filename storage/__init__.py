"""Storage of every fetched version and parsed record (SQLAlchemy; SQLite by default)."""
