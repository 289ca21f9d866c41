"""linkage: comparison keys, review cases, decisions, links

Revision ID: l001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.linkage.store import metadata

revision = "l001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
