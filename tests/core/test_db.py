"""Bulk jobs on SQLite leave the WAL to be checkpointed every few batches, then fold it in."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from kojin.app import Kojin
from kojin.core.db import bulk_checkpoints
from kojin.demo.population import generate_households
from kojin.registry.service import HouseholdDraft


@pytest.mark.sqlite_only
def test_bulk_checkpoints_raise_and_restore_the_threshold(kojin: Kojin) -> None:
    with kojin.register.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        bulk_checkpoints(conn, True)
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 100_000
        bulk_checkpoints(conn, False)
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


@pytest.mark.sqlite_only
def test_bulk_enrolment_folds_its_wal_in_at_the_end(kojin: Kojin, tmp_path: Path) -> None:
    drafts: list[HouseholdDraft] = list(generate_households("13105", 300, seed=5, today=date(2026, 11, 24)))
    enrolled = kojin.register.enroll_batches([drafts[:50], drafts[50:]], municipality_code="13105", validated=True)
    for party, table in (("registry", "residents"), ("numbering", "numbers")):
        # The database file alone, without its WAL, already holds every row.
        alone = tmp_path / f"{party}.sqlite3"
        shutil.copyfile(kojin.db.sqlite_path(party), alone)
        with sqlite3.connect(alone) as copy:
            assert copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == enrolled
