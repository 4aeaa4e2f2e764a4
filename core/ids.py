"""Ids from user input: a malformed id is a 400 or a 404 with a reason, never a 500."""

import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """An id from a query string or a form, or None for anything that is not one (never an exception)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def parse_id_list(values, *, limit: int, too_many: str, noun: str = "sample") -> list[uuid.UUID]:
    """Ids from a form or a query (repeated fields, or comma-separated values), in order and without duplicates.
    ValueError with a sentence for none, more than `limit` (`too_many` says what to do) or a malformed one."""
    raw = [part.strip() for value in values for part in str(value).split(",") if part.strip()]
    if not raw:
        raise ValueError(f"Select at least one {noun} first.")
    if len(raw) > limit:
        raise ValueError(too_many)
    ids = []
    for value in raw:
        pk = parse_uuid(value)
        if pk is None:
            raise ValueError(f"“{value[:40]}” is not a {noun} id.")
        ids.append(pk)
    return list(dict.fromkeys(ids))
