"""Each party's migrations build exactly the schema its ``store.py`` declares.

First revisions spell out the schema they shipped with and later ones change
it with ``op.*`` calls, so a change to ``store.py`` without a revision (or a
revision that does not match it) shows up here as a difference.
"""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kojin.app import Kojin
from kojin.core.db import PARTIES, register_party

# Parties made at run time (one store per agency, per insurer), by package.
RUN_TIME_PARTIES = {"agency_drift_check": "kojin.agency", "insurer_drift_check": "kojin.eligibility.insurer"}


@pytest.mark.parametrize("party", sorted(PARTIES) + sorted(RUN_TIME_PARTIES))
def test_migrated_store_matches_its_declared_tables(kojin: Kojin, party: str) -> None:
    if party in RUN_TIME_PARTIES:
        register_party(party, RUN_TIME_PARTIES[party])
        kojin.db.migrate(party)
    store = importlib.import_module(f"{PARTIES[party]}.store")
    with kojin.db.engine(party).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), store.metadata)
    # Tables created by later revisions may live outside ``metadata``; only
    # differences about the declared tables count.
    declared = [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_table")]
    assert declared == []


def test_numbering_history_uses_one_code_index_per_status(kojin: Kojin) -> None:
    # n003: the full index on the code is gone; active and retired numbers each
    # have a partial one, so enrolment pays for a single random-keyed code index.
    from sqlalchemy import inspect

    with kojin.numbering.engine.connect() as conn:
        names = {ix["name"] for ix in inspect(conn).get_indexes("numbers")}
    assert "ix_numbers_code" not in names
    assert {"uq_numbers_active_code", "ix_numbers_retired_code"} <= names
