"""The reader tests use the portal's people and cards."""

from tests.portal.conftest import town

__all__ = ["town"]
