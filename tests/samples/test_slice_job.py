"""Slicing as a job: a stem or a track's mix cut into samples, each tagged, stored atomically, re-runs replacing
the previous run while keeping what the user did (corrections, favourites, tags, collections)."""

import numpy as np
import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from audio import slice_options, tagging
from jobs.models import Job
from jobs.services import perform as perform_job
from samples import services as sample_services
from samples.models import Sample, SampleCategory
from samples.services import do_request_slice
from stems import services as stems_services
from tests.browser.conftest import make_track_with_fake_stems
from tests.stems.test_separation_job import wait_for
from tracks import services as tracks_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def song(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    return track, {stem.name: stem for stem in stem_set.stems.all()}


def run_slice(track, stem=None, **options):
    job = do_request_slice(track, stem=stem, options=options)
    perform_job("slice", str(job.pk))
    job.refresh_from_db()
    return job


def test_it_keeps_the_sample_categories_in_step_with_the_classifier():
    assert tuple(SampleCategory.values) == tagging.CATEGORIES
    assert dict(SampleCategory.choices) == tagging.LABELS


def test_it_slices_a_drum_stem_into_tagged_drum_hits(song):
    track, stems = song
    job = run_slice(track, stems["drums"])
    assert job.status == "succeeded", (job.error, job.traceback[-1500:])
    assert (job.kind, job.queue, job.subject_id) == ("slice", "cpu", stems["drums"].pk)
    samples = list(Sample.objects.filter(stem=stems["drums"]).order_by("index"))
    # The fake drum stem is a click every 0.5 s for 6 s.
    assert len(samples) == 12
    assert [round(s.onset, 2) for s in samples] == [round(0.5 * i, 2) for i in range(12)]
    for sample in samples:
        assert sample.source == "drums" and sample.track_id == track.pk and sample.owner_id == track.owner_id
        assert tagging.group_of(sample.category) == "drums"  # the drums stem is a prior
        assert sample.predicted_category == sample.category and not sample.category_corrected
        assert 0 < sample.confidence <= 1
        assert sample.start <= sample.onset < sample.end
        assert len(np.frombuffer(bytes(sample.embedding), dtype="<f4")) == 64
        assert len(sample.peaks) == 48 and max(sample.peaks) == 1.0
        assert sample.file.name.startswith(f"{track.storage_prefix}/samples/")
        with default_storage.open(sample.file.name) as fh:
            audio, sr = sf.read(fh, always_2d=True)
            fh.seek(0)
            assert sf.info(fh).subtype == "PCM_24"
        assert sr == 44100 and audio.shape[1] == 2
        assert abs(audio.shape[0] / sr - sample.duration) < 1e-3
        if sample.start > 0:  # (the first click starts the file: there is nothing before it to fade from)
            assert np.abs(audio[0]).max() == 0.0  # faded in from silence: no click
        assert sample.note == ""  # unpitched


def test_it_names_the_notes_of_a_bass_stem_and_never_calls_them_drums(song):
    track, stems = song
    assert run_slice(track, stems["bass"]).status == "succeeded"
    samples = list(Sample.objects.filter(stem=stems["bass"]).order_by("index"))
    assert len(samples) >= 8
    assert all(tagging.group_of(s.category) != "drums" for s in samples)
    # The fake bass plays A1 (55 Hz) for the first two seconds.
    first_bar = [s.note for s in samples if s.onset < 1.9]
    assert len(first_bar) >= 3 and set(first_bar) == {"A1"}


def test_it_slices_the_full_mix_of_an_analysed_track(song):
    track, _ = song
    job = run_slice(track, sensitivity=0.5)
    assert job.status == "succeeded", job.error
    assert Sample.objects.filter(track=track, stem=None, source="mix").count() >= 10


def test_a_rerun_replaces_the_source_samples_and_keeps_what_the_user_did(song, user):
    track, stems = song
    run_slice(track, stems["drums"])
    first = list(Sample.objects.filter(stem=stems["drums"]).order_by("index"))
    old_files = [s.file.name for s in first]
    sample_services.do_set_sample_category(first[0], "kick")
    sample_services.do_set_sample_favourite(first[1], True)
    sample_services.do_set_sample_tags(first[2], ["crunchy"])
    crate = tracks_services.do_create_collection(user, "Crate")
    sample_services.do_add_samples_to_collection(crate, [first[3]])
    run_slice(track, stems["bass"])  # another source is left alone

    assert run_slice(track, stems["drums"], normalise=True).status == "succeeded"
    second = list(Sample.objects.filter(stem=stems["drums"]).order_by("index"))
    assert len(second) == len(first)
    assert not {s.pk for s in second} & {s.pk for s in first}
    assert (second[0].category, second[0].category_corrected) == ("kick", True)
    assert second[0].predicted_category != "kick" or second[0].category_corrected
    assert second[1].favourite and not second[2].favourite
    assert [t.name for t in second[2].tags.all()] == ["crunchy"]
    assert list(crate.samples.all()) == [second[3]]
    assert all(abs(s.peak_db - -1.0) < 0.05 for s in second)  # normalised this time
    assert not any(default_storage.exists(name) for name in old_files)
    assert Sample.objects.filter(stem=stems["bass"]).exists()


def test_deleting_a_stem_set_or_the_track_removes_the_sample_files(song):
    track, stems = song
    run_slice(track, stems["drums"])
    names = list(Sample.objects.values_list("file", flat=True))
    assert names and all(default_storage.exists(n) for n in names)
    stems_services.do_delete_stem_set(stems["drums"].stem_set)
    assert not Sample.objects.exists()
    assert not any(default_storage.exists(n) for n in names)

    run_slice(track)
    names = list(Sample.objects.values_list("file", flat=True))
    tracks_services.do_delete_track(track)
    assert not any(default_storage.exists(n) for n in names)


def test_a_failed_store_leaves_the_previous_samples_and_no_new_files(song, monkeypatch):
    track, stems = song
    run_slice(track, stems["drums"])
    before = set(Sample.objects.values_list("pk", "file"))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Sample.tags.through.objects, "bulk_create", broken)
    job = do_request_slice(track, stem=stems["drums"], options={"sensitivity": 0.9})
    perform_job("slice", str(job.pk))
    assert set(Sample.objects.values_list("pk", "file")) == before
    stored = set(default_storage.listdir(f"{track.storage_prefix}/samples")[1])
    assert stored == {name.rsplit("/", 1)[1] for _, name in before}


def test_too_many_onsets_fail_the_job_with_a_reason(song, monkeypatch):
    track, stems = song
    monkeypatch.setattr("samples.tasks.MAX_SAMPLES", 5)
    job = run_slice(track, stems["drums"])
    assert job.status == "failed"
    assert "more than the 5 samples" in job.error and "Lower the sensitivity" in job.error
    assert job.attempts == 1  # not retried: a retry cannot fix it
    assert not Sample.objects.exists()


def test_bad_options_are_refused_before_a_job_exists(song):
    track, stems = song
    for options, reason in [
        ({"sensitivity": 2}, "sensitivity must be between 0 and 1"),
        ({"sensitivity": "lots"}, "sensitivity must be a number"),
        ({"min_length": 0.5, "max_length": 0.2}, "max_length must be at least min_length"),
        ({"silence_db": 3}, "silence_db must be between"),
        ({"normalise": "maybe"}, "normalise must be true or false"),
        ({"speed": 1}, "Unknown option(s): speed"),
    ]:
        with pytest.raises(ValueError) as excinfo:
            do_request_slice(track, stem=stems["drums"], options=options)
        assert reason in str(excinfo.value), options
    assert not Job.objects.filter(kind="slice").exists()


def test_defaults_follow_the_source():
    assert slice_options.clean_params({}, "drums")["max_length"] == 1.5
    assert slice_options.clean_params({}, "vocals")["max_length"] == 8.0
    assert slice_options.strategy_for("no_vocals") == "mix"
    assert slice_options.strategy_for(None) == "mix"


@pytest.mark.worker
def test_a_real_worker_slices_a_stem(song, worker_factory):
    track, stems = song
    worker_factory("cpu")
    job = do_request_slice(track, stem=stems["vocals"], options={"sensitivity": 0.5})
    job = wait_for(job.pk)
    assert job.status == "succeeded", (job.error, job.traceback[-1500:])
    assert job.progress == 100
    samples = list(Sample.objects.filter(stem=stems["vocals"]))
    # Two phrases a bar of two seconds, with a gap every fourth second: vocal phrases, tagged as vocals.
    assert len(samples) >= 2
    assert {s.category for s in samples} <= {"vocal", "fx_other"}
