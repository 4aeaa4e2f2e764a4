"""No orphan files and no half-written results.

- Deleting a track or a user leaves no file behind; `manage.py scan_storage` finds and reports any orphans
  (and removes them with --delete) and rows whose file is gone.
- Storage failing in the middle of writing stems or samples leaves no new rows, the previous results intact
  and no file of the failed attempt.
"""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from accounts.services import do_delete_user
from exports import services as export_services
from exports.models import Export
from jobs.services import run_inline
from samples import services as sample_services
from samples.models import Sample
from stemcrate.storage_scan import scan, walk
from stems import services as stems_services
from stems.models import Stem, StemSet
from tests import audio_factory as af
from tests.browser.conftest import make_track_with_fake_stems
from tracks import services as tracks_services
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


def sample_dicts(folder: Path, count: int, *, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        path = af.write(folder / f"s{seed}-{i}.wav", 0.3 * rng.standard_normal((2, 4410)), 44100, "wav")
        embedding = rng.standard_normal(64).astype(np.float32)
        out.append({
            "path": str(path), "index": i, "start": i * 0.5, "end": i * 0.5 + 0.1, "onset": i * 0.5,
            "duration": 0.1, "sample_rate": 44100, "channels": 2, "peaks": [0.1, 0.2], "peak_db": -3.0,
            "loudness": -20.0, "gain_db": 0.0, "note": "", "pitch_confidence": 0.0, "category": "kick",
            "confidence": 0.9, "embedding": (embedding / np.linalg.norm(embedding)).tobytes(),
        })  # fmt: skip
    return out


def make_library(user, folder: Path, *, title="Song", seconds=3.0):
    """A track with a stem set, samples of its mix and of one stem, and a finished export, all via services."""
    with run_inline():  # the jobs are run (or not needed) here: no message for a worker
        track, stem_set = make_track_with_fake_stems(user, folder / "stems", seconds=seconds, title=title)
        drums = Stem.objects.get(stem_set=stem_set, name="drums")
        sample_services.do_store_samples(track, stem=None, source="mix", job=None, samples=sample_dicts(folder, 3))
        sample_services.do_store_samples(
            track, stem=drums, source="drums", job=None, samples=sample_dicts(folder, 2, seed=1)
        )
        export = export_services.do_request_export(user, Export.Scope.TRACK, track=track)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("readme.txt", "hello")
        zip_path = folder / f"{title}.zip"
        zip_path.write_bytes(buffer.getvalue())
        export_services.do_store_export_file(export, str(zip_path), {"files": 1})
    default_storage.save(f"{track.storage_prefix}/onsets/mix--50.json", ContentFile(b"{}"))  # the onset cache
    default_storage.save(f"{track.storage_prefix}/onsets/{drums.pk}--50.json", ContentFile(b"{}"))
    return track, stem_set


def stored_files() -> set[str]:
    return set(walk("users"))


def test_it_finds_no_orphans_after_deleting_a_track_and_a_user(user, other_user, tmp_path):
    kept, _ = make_library(user, tmp_path / "a", title="Kept")
    gone, _ = make_library(user, tmp_path / "b", title="Gone", seconds=3.5)  # another song, not a duplicate
    make_library(other_user, tmp_path / "c", title="Theirs", seconds=4.0)
    report = scan()
    assert report.clean, (report.orphans, report.missing)
    assert report.stored > 20

    tracks_services.do_delete_track(gone)
    assert not any(p.startswith(gone.storage_prefix) for p in stored_files())
    other_id = other_user.pk
    do_delete_user(other_user)
    assert not any(p.startswith(f"users/{other_id}/") for p in stored_files())
    assert not default_storage.exists(f"users/{other_id}")

    report = scan()
    assert report.clean, (report.orphans, report.missing)
    assert all(p.startswith(f"users/{user.pk}/") for p in stored_files())
    assert Track.objects.filter(pk=kept.pk).exists()


def test_it_reports_and_deletes_planted_orphans(user, tmp_path, capsys):
    track, _ = make_library(user, tmp_path)
    stray = default_storage.save(f"{track.storage_prefix}/stems/stray.flac", ContentFile(b"x"))
    dead_track = default_storage.save(f"users/{user.pk}/tracks/00000000-0000-0000-0000-000000000000/original.wav",
                                      ContentFile(b"y"))  # fmt: skip
    dead_user = default_storage.save("users/999999/exports/old.zip", ContentFile(b"z"))
    stale_onsets = default_storage.save(f"{track.storage_prefix}/onsets/not-a-stem--50.json", ContentFile(b"{}"))

    call_command("scan_storage")
    out = capsys.readouterr().out
    assert "Orphans: 4. Missing: 0." in out
    for path in (stray, dead_track, dead_user, stale_onsets):
        assert f"orphan: {path}" in out
        assert default_storage.exists(path)  # a scan alone deletes nothing
    assert "orphan folder (its user or track was deleted): users/999999/" in out

    call_command("scan_storage", "--delete")
    out = capsys.readouterr().out
    assert "Deleted 4 orphan file(s)." in out
    for path in (stray, dead_track, dead_user, stale_onsets):
        assert not default_storage.exists(path)
    assert scan().clean
    assert Stem.objects.filter(track=track).count() == 4  # what rows refer to is untouched


def test_it_reports_a_row_whose_file_is_missing(user, tmp_path, capsys):
    track, _ = make_library(user, tmp_path)
    sample = Sample.objects.filter(track=track).first()
    default_storage.delete(sample.file.name)

    call_command("scan_storage")
    out = capsys.readouterr().out
    assert "Orphans: 0. Missing: 1." in out
    assert f"missing: {sample.file.name} (samples.Sample {sample.pk})" in out


@pytest.fixture
def storage_fails_on_third_write(monkeypatch):
    """Once armed, default_storage._save raises on the third file written (a full disk, an S3 outage)."""
    from django.core.files.storage import FileSystemStorage

    original = FileSystemStorage._save  # the class's: default_storage is a lazy object reset between tests
    calls = {"n": 0, "armed": False}

    def flaky_save(self, name, content):
        if not calls["armed"]:
            return original(self, name, content)
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("No space left on device")
        return original(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", flaky_save)
    return calls


def _snapshot():
    files = {p: default_storage.open(p).read() for p in stored_files()}
    rows = {
        "stem_sets": set(StemSet.objects.values_list("pk", flat=True)),
        "stems": set(Stem.objects.values_list("pk", "file", "preview")),
        "samples": set(Sample.objects.values_list("pk", "file")),
    }
    return files, rows


def test_a_storage_error_while_storing_stems_leaves_the_previous_set(user, tmp_path, storage_fails_on_third_write):
    track, stem_set = make_library(user, tmp_path)
    before = _snapshot()
    storage_fails_on_third_write["armed"] = True
    stems = [
        {
            "name": stem.name,
            "path": default_storage.path(stem.file.name),
            "preview_path": default_storage.path(stem.preview.name),
            "peaks": [0.1],
            "duration": stem.duration,
            "sample_rate": stem.sample_rate,
            "channels": stem.channels,
        }
        for stem in Stem.objects.filter(stem_set=stem_set)
    ]
    copies = tmp_path / "copies"
    copies.mkdir()
    for info in stems:  # the new run's files come from the worker's temporary folder, not from storage
        for key in ("path", "preview_path"):
            target = copies / f"{info['name']}-{Path(info[key]).name}"
            target.write_bytes(Path(info[key]).read_bytes())
            info[key] = str(target)
    params = {"model": "htdemucs", "shifts": 1, "overlap": 0.25, "two_stems": None, "segment": None}
    with pytest.raises(OSError, match="No space left"):
        stems_services.do_store_stems(track, job=None, model_name="htdemucs", model_version="test", params=params,
                                stems=stems)  # fmt: skip
    assert storage_fails_on_third_write["n"] == 3
    assert _snapshot() == before  # no new rows, the previous set and its files intact, nothing left over
    assert scan().clean


def test_a_storage_error_while_storing_samples_leaves_the_previous_samples(
    user, tmp_path, storage_fails_on_third_write
):
    track, _ = make_library(user, tmp_path)
    before = _snapshot()
    storage_fails_on_third_write["armed"] = True
    with pytest.raises(OSError, match="No space left"):
        sample_services.do_store_samples(
            track, stem=None, source="mix", job=None, samples=sample_dicts(tmp_path, 5, seed=7)
        )
    assert storage_fails_on_third_write["n"] == 3
    assert _snapshot() == before
    assert scan().clean


def test_replacing_or_deleting_a_stem_set_removes_its_cached_onset_curves(user, tmp_path):
    from samples import onset_cache

    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    drums = stem_set.stems.get(name="drums")
    onset_cache.get_onsets(track, drums, -50.0)
    onset_cache.get_onsets(track, None, -50.0)  # the mix's curve belongs to the track and stays
    cached = default_storage.listdir(f"{track.storage_prefix}/onsets")[1]
    assert any(name.startswith(f"{drums.pk}-") for name in cached)
    stems_services.do_delete_stem_set(stem_set)
    cached = default_storage.listdir(f"{track.storage_prefix}/onsets")[1]
    assert not any(name.startswith(f"{drums.pk}-") for name in cached)
    assert any(name.startswith("mix-") for name in cached)
    assert scan(default_storage).orphans == []
