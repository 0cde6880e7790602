"""Database drivers that are optional extras. Kept free of heavy imports so the command line
can recognise a missing driver without loading SQLAlchemy."""

from __future__ import annotations

POSTGRES_EXTRA = "pip install 'cicie[postgres]'"


class MissingDriver(ImportError):
    """A PostgreSQL URL on an installation without the `postgres` extra."""
