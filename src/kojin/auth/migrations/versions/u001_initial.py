"""auth: challenge key and used challenges

Revision ID: u001
Revises:
"""

from kojin.auth.store import metadata
from kojin.core.migrations import initial_revision

revision = "u001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
