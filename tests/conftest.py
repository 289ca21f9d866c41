"""Shared fixtures: a whole kojin on SQLite, and on PostgreSQL when asked.

``KOJIN_TEST_POSTGRES=1`` (or a URL, or ``--db=postgres``) runs every
store-backed test on both databases. With ``KOJIN_REQUIRE_POSTGRES=1`` a
skipped PostgreSQL test fails the run, which is how CI proves they ran.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from kojin.app import Kojin, build
from kojin.core.config import Settings
from kojin.core.db import PARTIES
from kojin.core.i18n import reset_language

if TYPE_CHECKING:
    from tests.clinic.world import World

# TestClient's requests name the host "testserver": let the Host allow-list answer it.
os.environ.setdefault("KOJIN_ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver")

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kojin_test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres", "both"),
        default=None,
        help="databases for store-backed tests (default sqlite; KOJIN_TEST_POSTGRES adds postgres)",
    )


def _postgres_url(config: pytest.Config) -> str | None:
    choice = config.getoption("--db")
    env = os.environ.get("KOJIN_TEST_POSTGRES", "")
    if choice == "sqlite":
        return None
    if choice in ("postgres", "both") or env:
        return env if "://" in env else DEFAULT_PG
    return None


def _databases(config: pytest.Config) -> list[str]:
    choice = config.getoption("--db")
    if choice == "postgres":
        return ["postgres"]
    return ["sqlite", "postgres"] if _postgres_url(config) else ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        databases = _databases(metafunc.config)
        # Browser tests exercise pages, not stores: the store-backed tests
        # already run on both databases, so pages run on the default only.
        if metafunc.definition.get_closest_marker("browser") is not None and "sqlite" in databases:
            databases = ["sqlite"]
        # What only SQLite has (its WAL): never a PostgreSQL test that skips.
        if metafunc.definition.get_closest_marker("sqlite_only") is not None:
            databases = [d for d in databases if d == "sqlite"]
        params = [pytest.param(db, marks=[pytest.mark.postgres] if db == "postgres" else []) for db in databases]
        metafunc.parametrize("database", params, scope="session")


def _ensure_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("select 1 from pg_database where datname = :n"), {"n": parsed.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template(request: pytest.FixtureRequest, database: str) -> Iterator[Settings | None]:
    """One migrated set of schemas per test worker, emptied between tests."""
    if database != "postgres":
        yield None
        return
    url = _postgres_url(request.config) or DEFAULT_PG
    try:
        _ensure_pg_database(url)
    except Exception as exc:  # the server is not there: say so, do not hide it
        pytest.skip(f"PostgreSQL not reachable at {url}: {type(exc).__name__}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    prefix = f"t{worker}_{uuid.uuid4().hex[:6]}_"
    settings = Settings(data_dir=Path("kojin-test-unused"), database_url=url, schema_prefix=prefix)
    kojin = build(settings)
    kojin.close()
    yield settings
    build(settings, migrate=False).db.drop_all()


# Installation-wide keys and CAs survive between tests, as they would between
# a deployment's days; everything a test writes is emptied.
KEEP_TABLES = {
    "alembic_version",
    "numbering_keys",
    "cas",
    "ca_keys",
    "ca_secrets",
    "crls",
    "linkage_keys",
    "challenge_keys",
    "relying_parties",
}


# Per schema prefix, the statements that empty every store. DELETE, not TRUNCATE: a test
# leaves a few rows in a few tables, and TRUNCATE makes new files for every
# table and index (about half a second a test, seconds when both workers do it
# at once); foreign keys are not checked while emptying everything anyway. All
# the stores' schemas are in one database, so one transaction on one connection
# empties them all (one per store cost a connection and a commit each).
_EMPTY_SQL: dict[tuple[str, ...], str] = {}


def _empty_sql(conn: Connection, prefix: str) -> str:
    # Stores made by a test (an agency's) appear later: the statements are per set of schemas.
    like = prefix.replace("_", r"\_") + "%"
    schemas = tuple(
        sorted(
            str(n)
            for (n,) in conn.execute(text("select nspname from pg_namespace where nspname like :like"), {"like": like})
        )
    )
    if schemas not in _EMPTY_SQL:
        tables = [
            (schema, table)
            for schema, table in conn.execute(
                text("select schemaname, tablename from pg_tables where schemaname like :like"), {"like": like}
            )
            if table not in KEEP_TABLES
        ]
        sequences = [
            (schema, seq)
            for schema, seq, owner in conn.execute(
                text(
                    "select n.nspname, s.relname, t.relname from pg_class s"
                    " join pg_namespace n on n.oid = s.relnamespace"
                    " join pg_depend d on d.objid = s.oid and d.deptype in ('a', 'i')"
                    " join pg_class t on t.oid = d.refobjid"
                    " where s.relkind = 'S' and n.nspname like :like"
                ),
                {"like": like},
            )
            if owner not in KEEP_TABLES
        ]
        statements = ["set local session_replication_role = replica"]
        statements += [f'delete from "{schema}"."{table}"' for schema, table in tables]
        statements += [f'select setval(\'"{schema}"."{seq}"\', 1, false)' for schema, seq in sequences]
        _EMPTY_SQL[schemas] = "; ".join(statements)
    return _EMPTY_SQL[schemas]


def _empty_pg(kojin: Kojin) -> None:
    with kojin.db.engine(next(iter(PARTIES))).begin() as conn:
        conn.exec_driver_sql(_empty_sql(conn, kojin.settings.schema_prefix))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stores migrated once; each test gets a copy (migrating per test is slow)."""
    data = tmp_path_factory.mktemp("template") / "data"
    build(Settings(data_dir=data)).close()
    return data


@pytest.fixture
def settings(tmp_path: Path, database: str, pg_template: Settings | None) -> Settings:
    if database == "postgres" and pg_template is not None:
        return Settings(
            data_dir=tmp_path / "data",
            database_url=pg_template.database_url,
            schema_prefix=pg_template.schema_prefix,
        )
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def kojin(settings: Settings, database: str, sqlite_template: Path) -> Iterator[Kojin]:
    """A whole, migrated kojin with empty stores."""
    if database == "sqlite":
        shutil.copytree(sqlite_template, settings.data_dir)
    system = build(settings, migrate=False)
    if database == "postgres":
        _empty_pg(system)
        system.initialise()
    try:
        yield system
    finally:
        system.close()


# -- the clinic world: insurers, members, clinics and card holders ---------------------
# Built once per test session on SQLite and copied per test; on PostgreSQL each test
# builds it afresh in the emptied schemas. The clinic, eligibility and insurance CLI
# tests share it.


@pytest.fixture(scope="session")
def world_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from tests.clinic.world import build_world

    data = tmp_path_factory.mktemp("clinic-world") / "data"
    shutil.copytree(sqlite_template, data)
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        spec = build_world(kojin).spec()
    finally:
        kojin.close()
    return data, spec


@pytest.fixture
def world(request: pytest.FixtureRequest, settings: Settings, database: str) -> Iterator[World]:
    from tests.clinic.world import World, build_world

    if database == "sqlite":
        data, spec = request.getfixturevalue("world_template")
        shutil.copytree(data, settings.data_dir)
        kojin = build(settings, migrate=False)
        try:
            yield World.from_spec(kojin, spec)
        finally:
            kojin.close()
        return
    yield build_world(request.getfixturevalue("kojin"))


@pytest.fixture(autouse=True)
def _language_per_test() -> Iterator[None]:
    """A CLI test run with --lang en must not leave English behind for the next test."""
    reset_language()
    yield
    reset_language()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when CI required PostgreSQL, browser or fuzz tests and they did not run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(session.config, "workerinput"):
        return
    required = {
        "postgres": os.environ.get("KOJIN_REQUIRE_POSTGRES") == "1",
        "browser": os.environ.get("KOJIN_REQUIRE_BROWSER") == "1",
        "fuzz": os.environ.get("KOJIN_REQUIRE_FUZZ") == "1",
    }
    for marker, needed in required.items():
        if not needed:
            continue
        ran = [r for r in reporter.stats.get("passed", []) if marker in r.keywords]
        skipped = [r for r in reporter.stats.get("skipped", []) if marker in r.keywords]
        if skipped or not ran:
            reporter.write_line(
                f"REQUIRED {marker} tests did not all run: {len(ran)} passed, {len(skipped)} skipped",
                red=True,
            )
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def point_cli_at(kojin: Kojin, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``kojin …`` commands run on this test's stores, as its local administrator.

    The CLI builds kojin from the environment; on PostgreSQL a command must name
    its operator, so the local administrator's key file is named for it too.
    """
    settings = kojin.settings
    monkeypatch.setenv("KOJIN_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("KOJIN_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("KOJIN_SCHEMA_PREFIX", settings.schema_prefix)
    else:
        monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
        monkeypatch.delenv("KOJIN_SCHEMA_PREFIX", raising=False)
    monkeypatch.setenv("KOJIN_OPERATOR", str(kojin.staff.ensure_local_admin(settings.data_dir)))
