"""All writes to accounts data go through here."""

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, hash_key
from core import storage as library_storage

# Updating last_used_at on every request would write to the database on every API call.
LAST_USED_RESOLUTION_SECONDS = 60


@transaction.atomic
def do_create_api_token(user, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain key, which is never retrievable again."""
    key = ApiToken.generate_key()
    name = (name or "").strip()[:100] or "API token"
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_key(key), key_prefix=key[:10])
    return token, key


def do_revoke_api_token(token: ApiToken) -> None:
    token.delete()


def authenticate_api_key(key: str):
    """The token for a plain key, with its user, or None. Inactive users' tokens do not authenticate."""
    if not key:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def do_delete_user(user) -> None:
    """Delete the user with every row they own (by cascade) and, once that has committed, every file stored
    under users/<id>/ (tracks, stems, samples, MIDI, exports). Files that cannot be removed are logged; the
    storage scan (`manage.py scan_storage`) reports them."""
    import logging

    prefix = f"users/{user.pk}"

    def remove_files():
        try:
            library_storage.delete_prefix(prefix)
        except FileNotFoundError:
            pass
        except Exception:
            logging.getLogger(__name__).exception("files under %s could not be deleted", prefix)

    with transaction.atomic():
        user.delete()
        transaction.on_commit(remove_files)
