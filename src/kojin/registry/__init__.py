"""The municipality's resident register (住民基本台帳)."""
