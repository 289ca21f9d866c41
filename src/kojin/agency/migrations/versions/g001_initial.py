"""agency: keys, people, copies (副本), §23 log

Revision ID: g001
Revises:
"""

from kojin.agency.store import metadata
from kojin.core.migrations import initial_revision

revision = "g001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
