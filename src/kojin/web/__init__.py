"""Shared web plumbing: the FastAPI application, error shape, language."""
