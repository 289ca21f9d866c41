"""The linkage CLI tests use the linkage tests' town and agency."""

from tests.linkage.conftest import agency, town

__all__ = ["agency", "town"]
