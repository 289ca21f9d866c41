from __future__ import annotations

from tests.eligibility.conftest import world, world_template

__all__ = ["world", "world_template"]
