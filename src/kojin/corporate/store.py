"""The corporate register's store: public data only."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, MetaData, String, Table

metadata = MetaData()

corporations = Table(
    "corporations",
    metadata,
    Column("corporate_number", String(13), primary_key=True),
    Column("name", String(150), nullable=False),
    Column("furigana", String(200), nullable=False),
    Column("kind", String(3), nullable=False),
    Column("prefecture", String(10), nullable=False),
    Column("city", String(40), nullable=False),
    Column("street", String(200), nullable=False),
    Column("postal_code", String(7), nullable=False),
    Column("assignment_date", Date, nullable=False),
    Column("close_date", Date),
    Column("close_cause", String(2)),
    Index("ix_corporations_name", "name"),
)
