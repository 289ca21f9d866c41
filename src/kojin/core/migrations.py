"""The shared body of every party's Alembic ``env.py``.

Each party's ``migrations/env.py`` is two lines that call :func:`run`. The
connection comes from :meth:`kojin.core.db.Database.migrate`, already pointed
at the party's own store, so a migration cannot touch another party's tables.
Every revision, the first included, spells out its tables with explicit
``op.*`` calls: a revision that read ``store.py`` would change whenever the
store did, and history must stay reproducible once a store has shipped
(``tests/core/test_migrations.py`` keeps the two in step).
"""

from __future__ import annotations

from alembic import context


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("kojin migrations run only through Database.migrate()")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
