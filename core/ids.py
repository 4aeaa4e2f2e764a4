"""Ids from user input: a malformed id is a 400 or a 404 with a reason, never a 500."""

import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """An id from a query string or a form, or None for anything that is not one (never an exception)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
