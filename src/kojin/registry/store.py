"""The register's store: residents, households, history, and an event outbox.

This store never holds an individual number: the register knows a person by
its own resident id and the 住民票コード, and asks J-LIS for the number only to
print the notice.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

residents = Table(
    "residents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("juminhyo_code", String(11), nullable=False),
    Column("municipality_code", String(5), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kana", String(100), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("prefecture", String(10), nullable=False),
    Column("city", String(40), nullable=False),
    Column("town", String(80), nullable=False),
    Column("block", String(80), nullable=False),
    Column("building", String(120), nullable=False),
    Column("household_id", Integer, nullable=False),
    Column("relationship", String(20), nullable=False),
    Column("nationality", String(2), nullable=False),
    Column("residence_status", String(40)),
    Column("period_of_stay_until", Date),
    Column("status", String(10), nullable=False),
    Column("registered_on", Date, nullable=False),
    # J-LIS hands out the codes and checks them against every code ever
    # numbered; here the register only guarantees one current record per code.
    Index(
        "uq_residents_active_code",
        "juminhyo_code",
        unique=True,
        sqlite_where=text("status = 'resident'"),
        postgresql_where=text("status = 'resident'"),
    ),
    # The last record of a code that has left, for a move-in to be compared with (r004).
    Index(
        "ix_residents_departed_code",
        "juminhyo_code",
        sqlite_where=text("status != 'resident'"),
        postgresql_where=text("status != 'resident'"),
    ),
    Index("ix_residents_household", "household_id"),
    # The duplicate check and the clerk's search name a birth date (r002).
    Index("ix_residents_birth_date", "birth_date"),
)

households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("municipality_code", String(5), nullable=False),
    Column("head_resident_id", Integer),
)

history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("resident_id", Integer, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("details", Text, nullable=False),
    Index("ix_history_resident", "resident_id"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(30), primary_key=True),
    Column("next", Integer, nullable=False),
)

# Events for other parties (the CA revokes a signature certificate when an
# address changes), written in the same transaction as the change they report.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_outbox_pending", "delivered_at"),
)

# A named bulk-enrolment job (a demo seed run) and how far it got: updated in
# each batch's own transaction, so after a crash the job resumes after the
# last batch the register committed and enrols nobody twice.
enrolment_runs = Table(
    "enrolment_runs",
    metadata,
    Column("run", String(80), primary_key=True),
    Column("households", Integer, nullable=False),
    Column("people", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
