"""A party's secret row made from two engines at once ends as one row, the same for both."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    create_engine,
    select,
    text,
)

from kojin.core.config import Settings
from kojin.core.errors import KojinError
from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV, is_sealed
from kojin.core.keys import insert_if_absent, open_secret, party_secret

_metadata = MetaData()
_keys = Table(
    "party_keys",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@pytest.fixture
def engines(database: str, settings: Settings, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines (as two processes would have) on one fresh store."""
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
        pair = (create_engine(url), create_engine(url))
        yield pair
    else:
        schema = f"{settings.schema_prefix}keys_{uuid.uuid4().hex[:6]}"
        database_url = settings.database_url
        assert database_url is not None  # not SQLite: the PostgreSQL run set it
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        args = {"options": f"-c search_path={schema}"}
        pair = (
            create_engine(database_url, connect_args=args),
            create_engine(database_url, connect_args=args),
        )
        try:
            yield pair
        finally:
            for engine in pair:
                engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        return
    for engine in pair:
        engine.dispose()


def _race(engines: tuple[Engine, ...]) -> tuple[list[bytes], list[BaseException]]:
    """party_secret from every engine, all released at once by a barrier."""
    start = threading.Barrier(len(engines))
    got: list[bytes] = []
    failed: list[BaseException] = []

    def make(engine: Engine) -> None:
        start.wait()
        try:
            got.append(party_secret(engine, _keys))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=make, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got, failed


def test_two_engines_at_once_make_one_key(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    for _ in range(10):
        _metadata.drop_all(first)
        _metadata.create_all(first)
        got, failed = _race((first, second, first, second))
        assert failed == []
        with first.connect() as conn:
            stored = conn.execute(select(_keys.c.key)).scalars().all()
        assert len(stored) == 1
        assert got == [bytes(stored[0])] * 4


def test_an_existing_row_is_kept(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    _metadata.create_all(first)
    key = party_secret(first, _keys)
    assert party_secret(second, _keys) == key
    assert len(key) == 32
    row = insert_if_absent(second, _keys, {"id": 1, "key": b"other", "created_at": None})
    assert bytes(row.key) == key


def _stored(engine: Engine) -> bytes:
    with engine.connect() as conn:
        return bytes(conn.execute(select(_keys.c.key).where(_keys.c.id == 1)).scalar_one())


def test_a_party_secret_is_sealed_under_the_passphrase(
    engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = engines
    _metadata.create_all(first)
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "correct horse battery staple")
    secret = party_secret(first, _keys)
    stored = _stored(first)
    assert is_sealed(stored) and secret not in stored
    # Another process with the passphrase reads the same secret.
    assert party_secret(second, _keys) == secret
    assert open_secret(stored, "party_keys") == secret
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "another passphrase")
    with pytest.raises(KojinError) as wrong:
        party_secret(second, _keys)
    assert wrong.value.code == "key.passphrase_wrong"


def test_a_clear_party_secret_is_sealed_in_place_when_the_passphrase_is_set(
    engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = engines
    _metadata.create_all(first)
    monkeypatch.delenv(KEY_PASSPHRASE_ENV, raising=False)
    clear = party_secret(first, _keys)
    assert _stored(first) == clear
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "correct horse battery staple")
    assert party_secret(second, _keys) == clear
    stored = _stored(first)
    assert is_sealed(stored) and clear not in stored
    assert party_secret(first, _keys) == clear
