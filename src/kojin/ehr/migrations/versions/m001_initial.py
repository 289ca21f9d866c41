"""ehr: documents, items, consents, views

Revision ID: m001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.ehr.store import metadata

revision = "m001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
