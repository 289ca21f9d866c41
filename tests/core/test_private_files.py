"""The data directory is its owner's only: 0700, every store, key and export file 0600."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kojin.app import build
from kojin.card.issuance import load_card_secret
from kojin.core.config import Settings
from kojin.core.db import Database
from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV
from kojin.entrypoints.cli import app


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """The umask most systems start with (0o022): files would be 0644 unless kojin closes them."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _open_to_others(directory: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            path = Path(root) / name
            if stat.S_IMODE(path.lstat().st_mode) & 0o077:
                found.append(f"{path.relative_to(directory)} {stat.S_IMODE(path.lstat().st_mode):o}")
    return found


def test_a_fresh_installation_leaves_nothing_readable_by_other_users(tmp_path: Path) -> None:
    data = tmp_path / "kojin-data"
    kojin = build(Settings(data_dir=data, database_url=None))
    try:
        load_card_secret(kojin.settings.cards_dir)
        kojin.staff.ensure_local_admin(data)
        kojin.exchange_log.sign_tree_head()
        stores = sorted(p.name for p in data.glob("*.sqlite3*"))
        # The WAL files exist while the engines are open: SQLite made them with the store's mode.
        assert "registry.sqlite3" in stores and "registry.sqlite3-wal" in stores
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert _open_to_others(data) == []
        assert all(stat.S_IMODE((data / name).stat().st_mode) == 0o600 for name in stores)
    finally:
        kojin.close()


def test_a_store_left_readable_is_closed_at_start_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "kojin-data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    sqlite3.connect(data / "registry.sqlite3").close()
    os.chmod(data / "registry.sqlite3", 0o644)
    (data / "cards").mkdir()
    (data / "cards" / "card.json").write_text("{}")
    os.chmod(data / "cards" / "card.json", 0o664)
    # An operator's key that was open is refused on use (a copy may exist), not quietly closed.
    (data / "operator.key").write_text("{}")
    os.chmod(data / "operator.key", 0o644)
    with caplog.at_level(logging.WARNING, logger="kojin.files"):
        first = Database(Settings(data_dir=data, database_url=None))
        again = Database(Settings(data_dir=data, database_url=None))
    assert sorted(str(p.relative_to(data)) for p in first.fixed_files) == [
        ".",
        "cards",
        "cards/card.json",
        "registry.sqlite3",
    ]
    assert again.fixed_files == []
    assert _open_to_others(data) == ["operator.key 644"] and stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "registry.sqlite3").stat().st_mode) == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.name == "kojin.files"]
    assert len(warnings) == 1 and "registry.sqlite3" in warnings[0]


def test_init_says_what_it_closed_and_that_keys_are_unencrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    monkeypatch.setenv("KOJIN_DATA_DIR", str(data))
    monkeypatch.setenv("KOJIN_LANG", "en")
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    monkeypatch.delenv(KEY_PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv("KOJIN_AUDIT_PASSPHRASE", raising=False)
    runner = CliRunner()
    plain = runner.invoke(app, ["init"], catch_exceptions=False)
    assert plain.exit_code == 0
    assert "readable by other users" in plain.output and "keys are stored unencrypted" in plain.output
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "correct horse")
    sealed = runner.invoke(app, ["init"], catch_exceptions=False)
    assert sealed.exit_code == 0
    assert "unencrypted" not in sealed.output and "readable by other users" not in sealed.output


def test_the_secrets_in_store_rows_are_sealed_in_place_and_numbers_stay_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from kojin.agency.store import agency_keys
    from kojin.core.key_passphrase import KEY_PASSPHRASE_ENV, is_sealed
    from kojin.demo.agencies import ensure_demo_agencies
    from kojin.numbering.store import numbering_keys
    from kojin.pki.keys import store_passphrase
    from kojin.pki.store import ca_secrets

    monkeypatch.delenv(KEY_PASSPHRASE_ENV, raising=False)
    settings = Settings(data_dir=tmp_path / "data", database_url=None)
    kojin = build(settings)
    number = kojin.numbering.assign("12345678903")
    ca_passphrase = store_passphrase(kojin.db.engine("pki"))
    ensure_demo_agencies(kojin)
    signing = kojin.agencies.get("13105").keys.sign_public
    kojin.close()
    monkeypatch.setenv(KEY_PASSPHRASE_ENV, "correct horse battery staple")
    kojin = build(settings)
    try:
        with kojin.db.engine("numbering").connect() as conn:
            stored = bytes(conn.execute(select(numbering_keys.c.key)).scalar_one())
        assert is_sealed(stored)
        kojin.numbering._derivation = None  # read the key again, sealed this time
        assert kojin.numbering.assign("12345678903") == number
        # The CA keys' own passphrase, kept in the pki store, is unchanged and sealed once read.
        assert store_passphrase(kojin.db.engine("pki")) == ca_passphrase
        with kojin.db.engine("pki").connect() as conn:
            assert is_sealed(bytes(conn.execute(select(ca_secrets.c.passphrase)).scalar_one()))
        assert store_passphrase(kojin.db.engine("pki")) == ca_passphrase
        # An agency's own keys: the same keys, sealed in place once read.
        agency = kojin.agencies.get("13105")
        assert agency.keys.sign_public == signing
        with agency.engine.connect() as conn:
            row = conn.execute(select(agency_keys)).one()
        assert all(is_sealed(bytes(row._mapping[c])) for c in ("sign_private", "box_private", "channel_key"))
    finally:
        kojin.close()
