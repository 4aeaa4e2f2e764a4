"""`manage.py backup` and `restore` round-trip a library exactly: every row and every stored file's bytes."""

import tarfile

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from core.storage import delete_prefix
from samples.models import Sample
from stemcrate.management.commands.backup import walk_storage
from stems.models import Stem
from tests.test_storage_scan import make_library
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)

SKIP = {"contenttypes.contenttype", "auth.permission", "sessions.session", "admin.logentry"}


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def database_rows() -> dict:
    """Every row of every model (all fields, many-to-many links included, as their through models)."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label_lower in SKIP:
            continue
        # Content types get new ids when a restore recreates them: compare what they name, not their id.
        content_types = [
            f.attname for f in model._meta.concrete_fields if f.is_relation and f.related_model is ContentType
        ]
        rows[model._meta.label] = sorted(
            (
                {k: _content_type_label(v) if k in content_types else _plain(v) for k, v in row.items()}
                for row in model._default_manager.values()
            ),
            key=lambda r: str(r["pk"] if "pk" in r else r[model._meta.pk.attname]),
        )
    return rows


def _content_type_label(pk):
    return None if pk is None else ContentType.objects.get_for_id(pk).natural_key()


def stored() -> dict[str, bytes]:
    return {name: default_storage.open(name).read() for name in walk_storage()}


def test_it_round_trips_a_library(user, other_user, tmp_path, capsys):
    make_library(user, tmp_path / "a", title="Mine")
    make_library(other_user, tmp_path / "b", title="Theirs", seconds=3.5)
    rows, files = database_rows(), stored()
    assert Stem.objects.count() == 8 and Sample.objects.count() == 10 and len(files) > 20

    out = tmp_path / "backup.tar"
    call_command("backup", str(out))
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert names[0] == "db.xml" and names[-1] == "manifest.json"
    assert {n.removeprefix("media/") for n in names if n.startswith("media/")} == set(files)

    call_command("flush", interactive=False, verbosity=0)
    delete_prefix("users")
    assert not Track.objects.exists() and not stored()

    call_command("restore", str(out))
    assert "every checksum matched" in capsys.readouterr().out
    after = database_rows()
    for label in rows:
        for a, b in zip(rows[label], after[label], strict=True):
            assert a == b, (label, {k: (a[k], b[k]) for k in a if a[k] != b[k]})
    assert stored() == files


def test_it_refuses_a_database_that_is_not_empty_unless_forced(user, tmp_path):
    make_library(user, tmp_path)
    rows, files = database_rows(), stored()
    out = tmp_path / "backup.tar"
    call_command("backup", str(out))
    with pytest.raises(CommandError, match="Refusing to restore: the database has rows"):
        call_command("restore", str(out))
    call_command("restore", str(out), "--force")
    assert database_rows() == rows
    assert stored() == files


def test_it_stops_on_a_damaged_backup(user, tmp_path):
    make_library(user, tmp_path)
    out = tmp_path / "backup.tar"
    call_command("backup", str(out))
    data = bytearray(out.read_bytes())
    with tarfile.open(out) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".flac"))
    data[member.offset_data + 100] ^= 0xFF  # one flipped byte in a stem
    out.write_bytes(bytes(data))
    call_command("flush", interactive=False, verbosity=0)
    delete_prefix("users")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(out))
