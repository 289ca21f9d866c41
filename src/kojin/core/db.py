"""Database engines and migrations, one store per party (当事者ごとのデータストア).

Each party (the municipality's register, J-LIS numbering, the CA, the hub …)
owns one store. On the embedded default that is one SQLite file per party under
``kojin-data/``; on PostgreSQL it is one schema per party in one database. A
party's engine only ever sees its own store, which is what makes "no party
reads another's tables" a property of the wiring rather than a promise.

Migrations are Alembic scripts kept beside each party's ``store.py`` in
``<party>/migrations``; :meth:`Database.migrate` applies them.

The data directory is its owner's only (0700, files 0600; see
:mod:`kojin.core.private_files`): a ``Database`` gives the process a umask of
0o077, fixes what it finds open to other users, and creates each store file
0600 before SQLite opens it (SQLite gives ``-wal`` and ``-shm`` that mode too).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from kojin.core.config import Settings
from kojin.core.private_files import private_dir, private_file, restrict_umask, tighten

# Parties whose stores kojin knows: name -> package holding its migrations.
PARTIES: dict[str, str] = {}

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def stored_utc(value: datetime) -> datetime:
    """A time read back from a store, in UTC: everything is written in UTC, and SQLite hands it back naive."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def register_party(name: str, package: str) -> None:
    """Declare a party store; ``package`` holds ``migrations/``."""
    PARTIES[name] = package


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # 8 KiB pages for a new store (ignored once it has tables): the register's and
    # J-LIS's B-trees are a level shallower, so a bulk insert touches fewer pages.
    cursor.execute("PRAGMA page_size=8192")
    # WAL lets readers run beside the writer; FULL makes a commit durable
    # before it is acknowledged, so no acknowledged write is ever lost.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Up to 256 MiB of page cache per connection: the random-keyed indexes of a
    # multi-million-resident store (codes, numbers) stay hot, so an insert costs
    # the same at 1 M as at 100 k. Only connections that touch that much use it.
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.close()


# SQLite's default checkpoints the WAL into the database once it holds 1,000
# pages, i.e. at every bulk commit. A bulk batch rewrites most pages of each
# random-keyed index, so checkpointing every few batches instead copies each
# page once for several commits. Bounded, so the WAL stays under ~1 GiB.
_DEFAULT_CHECKPOINT_PAGES = 1000
_BULK_CHECKPOINT_PAGES = 262_144


def bulk_checkpoints(conn: Connection, on: bool) -> None:
    """Let ``conn``'s commits leave up to ~1 GiB in the WAL (on), or restore the default (off).

    Durability is unchanged: a commit is durable once it is in the WAL. Only
    SQLite has a WAL to tune; elsewhere this does nothing.
    """
    if conn.dialect.name == "sqlite":
        pages = _BULK_CHECKPOINT_PAGES if on else _DEFAULT_CHECKPOINT_PAGES
        # On the driver's connection: a pragma is no transaction, and going
        # through Core would begin one.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(f"PRAGMA wal_autocheckpoint={pages}")


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds into the database now (at the end of a bulk job), not in a later request."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)")


class Database:
    """Hands each party the engine for its own store, and migrates it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        restrict_umask()
        # What an older install left readable by other users, now closed (kojin up says so).
        self.fixed_files: list[Path] = tighten(settings.data_dir)

    def schema_for(self, party: str) -> str:
        schema = f"{self.settings.schema_prefix}{party}"
        if not _SCHEMA_RE.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        return schema

    def sqlite_path(self, party: str) -> Path:
        return self.settings.data_dir / f"{party}.sqlite3"

    def engine(self, party: str) -> Engine:
        with self._lock:
            if party not in self._engines:
                self._engines[party] = self._make_engine(party)
            return self._engines[party]

    def _make_engine(self, party: str) -> Engine:
        if self.settings.uses_sqlite:
            if self.settings.database_url:
                url = self.settings.database_url
            else:
                private_dir(self.settings.data_dir)
                private_file(self.sqlite_path(party))
                url = f"sqlite:///{self.sqlite_path(party)}"
            engine = create_engine(url, pool_size=8, max_overflow=16)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        server = make_url(self.settings.database_url or "")
        schema = self.schema_for(party)
        bootstrap = create_engine(server, isolation_level="AUTOCOMMIT")
        with bootstrap.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        bootstrap.dispose()
        # Every connection of this engine sees only its party's schema.
        return create_engine(
            server,
            connect_args={"options": f"-c search_path={schema}"},
            pool_size=8,
            max_overflow=16,
            pool_pre_ping=True,
        )

    def migrate(self, party: str) -> None:
        """Bring ``party``'s store to the newest migration."""
        from alembic import command
        from alembic.config import Config

        package = PARTIES[party]
        location = resources.files(package) / "migrations"
        cfg = Config()
        cfg.set_main_option("script_location", str(location))
        with self.engine(party).begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def migrate_all(self) -> None:
        for party in PARTIES:
            self.migrate(party)

    def drop_all(self) -> None:
        """Remove every party's store (used by tests and ``kojin reset``)."""
        self.dispose()
        if self.settings.uses_sqlite and not self.settings.database_url:
            for party in PARTIES:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.sqlite_path(party)}{suffix}").unlink(missing_ok=True)
            return
        engine = create_engine(self.settings.database_url or "", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for party in PARTIES:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema_for(party)}" CASCADE'))
        engine.dispose()

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
