"""A party's one-row secrets, created on first use and race-free between processes.

Several parties keep a secret (a signing or HMAC key, a passphrase) as row 1
of a small table and make it the first time they need it. Two processes
starting at once must end up with the same row: a check-then-insert lets both
insert (one then fails, or worse, each caches its own key). Here the insert is
``INSERT … ON CONFLICT DO NOTHING`` on the primary key, and the row is then read
back, so every caller gets the value that was actually stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, Table, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from kojin.core.key_passphrase import is_sealed, key_passphrase, seal, unseal


def insert_if_absent(engine: Engine, table: Table, values: Mapping[str, Any]) -> Row[Any]:
    """The row of ``table`` whose primary key ``values`` names: as stored, inserted from ``values`` if absent."""
    key = and_(*(column == values[column.name] for column in table.primary_key.columns))
    with engine.connect() as conn:
        row = conn.execute(select(table).where(key)).first()
    if row is not None:
        return row
    with engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
        else:
            try:
                with conn.begin_nested():
                    conn.execute(insert(table).values(**values))
            except IntegrityError:
                pass  # another process stored it first
    with engine.connect() as conn:
        return conn.execute(select(table).where(key)).one()


def party_secret(engine: Engine, table: Table, column: str = "key", *, created_at: datetime | None = None) -> bytes:
    """Row 1's 32-byte secret in ``column``, made from the OS CSPRNG on first use (sealed: :func:`row_secret`)."""
    return row_secret(engine, table, column, secrets.token_bytes(32), created_at=created_at)


def row_secret(engine: Engine, table: Table, column: str, fresh: bytes, *, created_at: datetime | None = None) -> bytes:
    """Row 1's secret in ``column``, ``fresh`` stored on first use.

    With ``KOJIN_KEY_PASSPHRASE`` set the row holds the secret sealed under it
    (:mod:`kojin.core.key_passphrase`); a secret stored in the clear before the
    passphrase was set is sealed in place here, the first time it is read.
    """
    passphrase = key_passphrase()
    values = {"id": 1, column: seal(fresh, passphrase) if passphrase else fresh}
    values["created_at"] = created_at or datetime.now(UTC)
    stored = bytes(insert_if_absent(engine, table, values)._mapping[column])
    if passphrase is not None and not is_sealed(stored):
        sealed = seal(stored, passphrase)
        with engine.begin() as conn:
            # Only the clear value is replaced: a process that sealed it meanwhile wins.
            conn.execute(update(table).where(table.c.id == 1, table.c[column] == stored).values({column: sealed}))
        return stored
    return open_secret(stored, table.name)


def sealed_if_asked(secret: bytes) -> bytes:
    """``secret`` as a row should hold it: sealed when ``KOJIN_KEY_PASSPHRASE`` is set, else as it is."""
    passphrase = key_passphrase()
    return seal(secret, passphrase) if passphrase else secret


def open_secret(stored: bytes, what: str) -> bytes:
    """A party secret as read from its row: unsealed when it was sealed under the passphrase."""
    return unseal(stored, key_passphrase(), what=what) if is_sealed(stored) else stored
