"""pki: CAs, keys, certificates, revocations, CRLs, serial links, cards, PIN resets

Revision ID: p001
Revises:
"""

from kojin.core.migrations import initial_revision
from kojin.pki.store import metadata

revision = "p001"
down_revision = None
branch_labels = None
depends_on = None

upgrade, downgrade = initial_revision(metadata)
