"""insurer: members, 資格確認書, counters

Revision ID: q001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.eligibility.insurer.store import metadata

revision = "q001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
