"""registry: residents, households, history, counters, outbox

Revision ID: r001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.registry.store import metadata

revision = "r001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
