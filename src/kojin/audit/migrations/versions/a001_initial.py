"""audit: leaves, nodes, tree heads and the log key

Revision ID: a001
Revises:
"""

from kojin.audit.store import metadata
from kojin.core.migrations import initial_revision

revision = "a001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
