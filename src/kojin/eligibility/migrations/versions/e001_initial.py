"""eligibility: insurers, qualification copies, registrations, medication, check-ups, clinics, visits

Revision ID: e001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.eligibility.store import metadata

revision = "e001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
