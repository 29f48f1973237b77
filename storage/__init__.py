"""Storage of every fetched version and parsed record (SQLAlchemy; SQLite by default).

``db`` finds and migrates the database, ``models`` are its tables, ``store.Store`` is what the
crawler and the CLI call; ``issuers`` decides which body a name means, ``changes`` what moved
between two versions, ``summaries`` the per-report listing of ``nianbao reports``.

Start-up: ``engine = connect(database_url()); migrate(engine); store = Store(engine)``.
"""
