"""hub: keys, agencies, persons, codes, request ids, §23 records

Revision ID: h001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.hub.store import metadata

revision = "h001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
