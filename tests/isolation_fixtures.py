"""Two users for the isolation test: an owner with one of everything, made through the real services, and an
intruder with a library of their own.

Every name the owner gives something (titles, tags, collections, lyrics, token names) is a random word of its
own, so a response that shows any of them, or any of the owner's ids, is a leak that a test can see.
"""

import json
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import mido
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models

from jobs.services import perform as perform_job
from lyrics import services as lyrics_services
from midi import services as midi_services
from tracks import services

# The apps whose models hold what users own; a new app with user data belongs here.
OWNED_APPS = ("accounts", "jobs", "tracks", "stems", "samples", "midi", "lyrics", "exports", "pipelines")


def word(prefix: str) -> str:
    """A word nothing else in a page can contain by chance ("trk" + 12 hex digits)."""
    return f"{prefix}{secrets.token_hex(6)}"


def _write_midi(path: Path, bpm: float) -> str:
    song = mido.MidiFile(ticks_per_beat=480)
    part = mido.MidiTrack()
    part.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    part.append(mido.Message("note_on", note=45, velocity=90, time=0))
    part.append(mido.Message("note_off", note=45, velocity=0, time=480))
    song.tracks.append(part)
    song.save(path)
    return str(path)


@dataclass
class Library:
    """One user's things, by the name a URL parameter gives them; jobs by status."""

    user: object
    names: dict = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    objects: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    api_key: str = ""


def owner_fields() -> dict:
    """{model: name of its foreign key to the user} for every model that users own."""
    owned = {}
    for app in OWNED_APPS:
        for model in apps.get_app_config(app).get_models():
            for f in model._meta.get_fields():
                if isinstance(f, models.ForeignKey) and f.related_model._meta.label == settings.AUTH_USER_MODEL:
                    owned[model] = f.name
                    break
    return owned


def build_library(user, folder: Path, *, prefix: str) -> Library:
    """A track with stems, samples sliced from its drums, a MIDI clip, lyrics, a tag, a collection holding the
    track and a sample, a finished export, a running pipeline, finished, queued and failed jobs and an API token.

    Jobs are created inside run_inline, so no message reaches the broker: this process runs them itself.
    """
    from accounts.services import do_create_api_token
    from audio import lyrics as lyrics_engine
    from exports import services as export_services
    from jobs import services as job_service
    from jobs.models import Job
    from pipelines.services import do_process_track
    from samples import services as sample_services
    from samples.models import Sample
    from samples.services import do_request_slice
    from tests.browser.conftest import make_track_with_fake_stems
    from tracks.models import Track

    lib = Library(user=user)
    title, artist, lyric, tag, collection_name, about, token_name = (
        word(f"{prefix}title"), word(f"{prefix}artist"), word(f"{prefix}lyric"), word(f"{prefix}tag"),
        word(f"{prefix}coll"), word(f"{prefix}about"), word(f"{prefix}token"),
    )  # fmt: skip
    lib.names = {"title": title, "artist": artist, "lyric": lyric, "tag": tag, "collection": collection_name}
    lib.words = [title, artist, lyric, tag, collection_name, about, token_name, user.username, user.email]
    with job_service.run_inline():
        track, stem_set = make_track_with_fake_stems(user, folder, title=title)
        services.do_update_track(track, artist=artist, album=word(f"{prefix}album"))
        track.refresh_from_db()
        lib.words.append(track.album)
        stems = {s.name: s for s in stem_set.stems.all()}

        slice_job = do_request_slice(track, stem=stems["drums"])
        perform_job("slice", str(slice_job.pk))
        sample = Sample.objects.filter(track=track).order_by("start").first()
        assert sample is not None, "slicing the drums made no samples"

        clip = midi_services.do_store_midi(
            track, stem=stems["bass"], source="bass", job=None, preset="bass", params={},
            notes=[[0.0, 0.5, 45, 90]], midi_path=_write_midi(folder / "bass.mid", track.bpm or 120.0),
            bpm=track.bpm, quantised=False,
        )  # fmt: skip
        data = lyrics_engine.Lyrics(
            "en", (lyrics_engine.Line(1.0, 2.0, f"sing {lyric} all night", ()),), "tiny", duration=track.duration
        )
        lyrics = lyrics_services.do_store_lyrics(
            track, stem=stems["vocals"], source="vocals", job=None, model_name="tiny", language="en", params={},
            data=data.to_dict(), text=f"sing {lyric} all night",
        )  # fmt: skip

        services.do_set_track_tags(track, [tag])
        sample_services.do_set_sample_tags(sample, [tag])
        collection = services.do_create_collection(user, collection_name, about)
        services.do_add_to_collection(collection, [track])
        sample_services.do_add_samples_to_collection(collection, [sample])

        # MIDI and lyrics only: a small ZIP is enough for a finished export with a file, and quick to build.
        finished_export = export_services.do_request_export(
            user, "track", track=track, options={"include": ["lyrics", "midi"]}
        )
        perform_job("export", str(finished_export.job_id))
        finished_export.refresh_from_db()
        assert finished_export.file, Job.objects.get(pk=finished_export.job_id).error

        pipeline = do_process_track(track, steps=["slice"])
        failed = do_request_slice(track, stem=stems["bass"])
        job_service.fail(str(failed.pk), "failed on purpose")
    token, key = do_create_api_token(user, token_name)
    lib.api_key = key
    lib.words.append(token.key_prefix)

    tag_obj = track.tags.get()
    lib.objects = {
        "track": Track.objects.get(pk=track.pk),
        "stem_set": stem_set,
        "stem": stems["drums"],
        "sample": sample,
        "clip": clip,
        "lyrics": lyrics,
        "export": finished_export,
        "tag": tag_obj,
        "collection": collection,
        "pipeline": pipeline,
        "token": token,
    }
    lib.jobs = {job.status: job for job in Job.objects.filter(owner=user).order_by("queued_at")}
    assert {Job.Status.SUCCEEDED, Job.Status.QUEUED, Job.Status.FAILED} <= set(lib.jobs), lib.jobs
    return lib


# --- what "unchanged" and "leaked" mean -------------------------------------------------------------------


def _rows(queryset) -> list[dict]:
    return list(queryset.order_by("pk").values())


def snapshot(user) -> dict:
    """Every row the user owns (all fields), the rows of their many-to-many links, their user row and whether
    each of their stored files is still there."""
    state = {}
    user_model = type(user)
    state["user"] = _rows(user_model.objects.filter(pk=user.pk).defer("last_login"))
    for row in state["user"]:
        row.pop("last_login", None)
    files = []
    for model, owner in owner_fields().items():
        queryset = model.objects.filter(**{owner: user})
        state[model._meta.label] = _rows(queryset)
        for m2m in model._meta.many_to_many:
            through = m2m.remote_field.through
            source = m2m.m2m_field_name()
            state[f"{model._meta.label}.{m2m.name}"] = _rows(through.objects.filter(**{f"{source}__in": queryset}))
        for f in model._meta.fields:
            if isinstance(f, models.FileField):
                for name in queryset.exclude(**{f.name: ""}).values_list(f.name, flat=True):
                    files.append((model._meta.label, f.name, name, bool(name) and default_storage.exists(name)))
    state["files"] = sorted(files)
    return json.loads(json.dumps(state, default=str, sort_keys=True))


def ids_of(user) -> set[str]:
    """Every id of everything the user owns, with and without dashes."""
    ids = set()
    for model, owner in owner_fields().items():
        for pk in model.objects.filter(**{owner: user}).values_list("pk", flat=True):
            if isinstance(pk, uuid.UUID):
                ids.update({str(pk), pk.hex})
    return ids


def references_to(user, needles) -> list[str]:
    """Rows owned by someone other than `user` (with their many-to-many links) that name any of the needles:
    another user's collection holding this user's track, an export listing its ids, a tag with its name."""
    found = []
    for model, owner in owner_fields().items():
        queryset = model.objects.exclude(**{owner: user})
        blobs = [(model._meta.label, row) for row in queryset.values()]
        for m2m in model._meta.many_to_many:
            through = m2m.remote_field.through
            source = m2m.m2m_field_name()
            label = f"{model._meta.label}.{m2m.name}"
            blobs += [(label, row) for row in through.objects.filter(**{f"{source}__in": queryset}).values()]
        for label, row in blobs:
            text = json.dumps(row, default=str)
            hits = sorted(n for n in needles if n in text)
            if hits:
                found.append(f"{label} {row.get('id', row)}: {', '.join(hits)}")
    return found
