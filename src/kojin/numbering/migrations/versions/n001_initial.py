"""numbering: keys and numbers

Revision ID: n001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.numbering.store import metadata

revision = "n001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
