"""Bulk inserts for the hot paths (一斉付番, seeding, benchmarks).

SQLAlchemy's per-row parameter handling costs more than SQLite's own insert,
so the bulk path hands tuples straight to the driver: ``executemany`` on
SQLite, ``COPY … FROM STDIN`` on PostgreSQL. Values still pass through each
column type's own bind processor (here, or by the caller through
:func:`converter` while it builds the rows), so what lands is exactly what the
Core path would have written.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError


def bulk_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    converted: bool = False,
    or_ignore: bool = False,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) inside ``conn``'s transaction; how many landed.

    ``converted`` says the caller already passed every value through
    :func:`converter` (the hot paths do, while building the rows); otherwise
    values are converted here, column by column. ``or_ignore`` (SQLite only)
    skips rows that a unique index refuses instead of failing them all.
    """
    if not rows:
        return 0
    dialect = conn.dialect
    if not converted:
        processors = [(i, p) for i, c in enumerate(columns) if (p := _processor(table, c, dialect)) is not None]
        if processors:
            rows = _processed(rows, processors)
    names = ", ".join(columns)
    driver_error: type[Exception] = dialect.loaded_dbapi.Error
    if dialect.name == "postgresql":
        sql = f"COPY {table.name} ({names}) FROM STDIN"
        driver = conn.connection.driver_connection
        assert driver is not None
        if or_ignore:
            raise ValueError("or_ignore is for SQLite; COPY cannot skip rows")
        try:
            with driver.cursor() as pg_cursor, pg_cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except driver_error as exc:
            raise DBAPIError.instance(sql, None, exc, driver_error) from exc
        return len(rows)
    marks = ", ".join("?" for _ in columns)
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    sql = f"{verb} INTO {table.name} ({names}) VALUES ({marks})"
    # The driver's own cursor, inside the connection's transaction: Core's
    # executemany inspects every parameter set again, which is most of its cost.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    except driver_error as exc:
        # Callers catch SQLAlchemy's exceptions (IntegrityError …), as from Core.
        raise DBAPIError.instance(sql, None, exc, driver_error) from exc
    finally:
        cursor.close()


class _Memo(dict[Any, Any]):
    """Processed values by value: a miss runs the processor once."""

    __slots__ = ("_process",)

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self._process = process

    def __missing__(self, value: Any) -> Any:
        if len(self) > _MEMO_MAX:
            self.clear()
        out = self[value] = self._process(value)
        return out


# Birth dates span ~40,000 days; this bounds a memo fed unusual values.
_MEMO_MAX = 200_000


def _identity(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=256)
def _processor(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor


@functools.lru_cache(maxsize=256)
def _memo(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any]:
    processor = _processor(table, column, dialect)
    return _identity if processor is None else _Memo(processor).__getitem__


def converter(conn: Connection, table: Table, column: str) -> Callable[[Any], Any]:
    """What the driver is handed for a value of ``table.column``: its bind processor, memoised.

    Bulk rows repeat the same dates and timestamps, so each distinct value
    is processed once per process; a column without a processor gets the
    identity. Only for hashable values (dates, times, strings, numbers).
    """
    return _memo(table, column, conn.dialect)


def _processed(
    rows: Sequence[Sequence[Any]], processors: list[tuple[int, Callable[[Any], Any]]]
) -> list[tuple[Any, ...]]:
    """``rows`` with each processed column's values passed through its processor.

    Column by column, so the transposing and mapping run in C; each distinct
    value is processed once.
    """
    columns = list(zip(*rows, strict=True))
    for i, process in processors:
        column = columns[i]
        try:
            distinct = set(column)
        except TypeError:  # unhashable values (JSON documents): one by one
            columns[i] = tuple(map(process, column))
            continue
        mapping = {value: process(value) for value in distinct}
        columns[i] = tuple(map(mapping.__getitem__, column))
    return list(zip(*columns, strict=True))


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
    dialect = conn.dialect.name
    sql = select_in_statement(dialect, table.name, columns, key, where)
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return [tuple(r) for r in conn.exec_driver_sql(sql, (select_in_values(dialect, values),))]


def select_in_statement(dialect: str, table: str, columns: Sequence[str], key: str, where: str = "") -> str:
    """The statement of :func:`select_in` with ``?`` marks: the values' one parameter first, then ``where``'s."""
    names = ", ".join(columns)
    extra = f" AND {where}" if where else ""
    if dialect == "postgresql":
        return f"SELECT {names} FROM {table} WHERE {key} = ANY(?){extra}"
    return f"SELECT {names} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?)){extra}"


def select_in_values(dialect: str, values: Sequence[str]) -> Any:
    """The values as :func:`select_in_statement`'s one parameter."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))
