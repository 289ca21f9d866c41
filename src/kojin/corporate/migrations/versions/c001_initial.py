"""corporate: corporations

Revision ID: c001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.corporate.store import metadata

revision = "c001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
