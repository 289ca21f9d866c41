"""Bulk inserts for the hot paths (一斉付番, seeding, benchmarks).

SQLAlchemy's per-row parameter handling costs more than SQLite's own insert,
so the bulk path hands tuples straight to the driver: ``executemany`` on
SQLite, ``COPY … FROM STDIN`` on PostgreSQL. Values still pass through each
column type's own bind processor, so what lands is exactly what the ORM-free
Core path would have written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) inside ``conn``'s transaction."""
    if not rows:
        return
    dialect = conn.dialect
    processors = [
        (i, p)
        for i, c in enumerate(columns)
        if (p := table.c[c].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        # Bulk rows repeat the same dates and timestamps; processing each
        # distinct value once is most of the cost saved.
        memo: dict[tuple[int, Any], Any] = {}
        converted: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for i, process in processors:
                key = (i, values[i])
                if key in memo:
                    values[i] = memo[key]
                else:
                    values[i] = memo[key] = process(values[i])
            converted.append(values)
        rows = converted
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", [tuple(r) for r in rows])


def select_in(
    conn: Connection, table: Table, columns: Sequence[str], key: str, values: Sequence[str], *, where: str = ""
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE key IN values [AND where]`` for thousands of values.

    The values travel as one parameter (a JSON array unpacked by ``json_each`` on
    SQLite, an array with ``= ANY`` on PostgreSQL) instead of thousands of bound
    names, whose compilation costs more than the look-ups themselves. ``where``
    is a fixed SQL fragment written by the caller, never user input.
    """
    if not values:
        return []
    names = ", ".join(columns)
    extra = f" AND {where}" if where else ""
    if conn.dialect.name == "postgresql":
        sql = f"SELECT {names} FROM {table.name} WHERE {key} = ANY(%(values)s){extra}"
        return [tuple(r) for r in conn.exec_driver_sql(sql, {"values": list(values)})]
    sql = f"SELECT {names} FROM {table.name} WHERE {key} IN (SELECT value FROM json_each(?)){extra}"
    return [tuple(r) for r in conn.exec_driver_sql(sql, (json.dumps(list(values)),))]
