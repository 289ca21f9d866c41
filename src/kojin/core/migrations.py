"""The shared body of every party's Alembic ``env.py``.

Each party's ``migrations/env.py`` is two lines that call :func:`run`. The
connection comes from :meth:`kojin.core.db.Database.migrate`, already pointed
at the party's own store, so a migration cannot touch another party's tables.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import context, op
from sqlalchemy import MetaData


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("kojin migrations run only through Database.migrate()")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def initial_revision(metadata: MetaData) -> tuple[Callable[[], None], Callable[[], None]]:
    """``upgrade`` and ``downgrade`` of a party's first revision.

    The first revision creates the tables exactly as declared in the party's
    ``store.py``; every later revision uses explicit ``op.*`` calls, so that
    history stays reproducible once a store has shipped.
    """

    def upgrade() -> None:
        metadata.create_all(op.get_bind())

    def downgrade() -> None:
        metadata.drop_all(op.get_bind())

    return upgrade, downgrade
