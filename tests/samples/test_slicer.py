"""The slicer: its page, the onset curve it picks markers from (computed once, then read from storage), and the
"Slice" form that queues a slicing job. Owner-only throughout; bad input is a 400 with a reason, never a 500.

Tests that need real audio use the fake stems of tests/browser/conftest.py (a click track for drums, a plucked
bass, chords, a "voice"); the others use rows made by the factories, since queuing a job reads no audio.
"""

import json
import re
import uuid

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from audio import audio_io, slicing
from audio.slice_options import MAX_LENGTH
from jobs.models import Job
from samples import onset_cache
from samples.models import Sample
from stems.models import Stem, StemSet
from tests.browser.conftest import make_track_with_fake_stems
from tests.factories import make_track
from tracks import services

SECONDS = 4.0


@pytest.fixture
def song(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song", seconds=SECONDS)
    return track, {stem.name: stem for stem in stem_set.stems.all()}


def fake_stems(track, names=("vocals", "drums", "bass", "other")) -> dict:
    """Stem rows without audio, for what does not read it (the form, the track page, 404s)."""
    stem_set = StemSet.objects.create(owner=track.owner, track=track, model_name="htdemucs", signature=uuid.uuid4().hex)
    return {
        name: Stem.objects.create(
            owner=track.owner, track=track, stem_set=stem_set, name=name, file=f"x/{name}.flac", duration=10.0,
            sample_rate=44100, peaks=[0.5] * 800,
        )
        for name in names
    }  # fmt: skip


def slicer_url(track, stem=None):
    url = reverse("samples:slicer", args=[track.pk])
    return f"{url}?stem={stem.pk}" if stem else url


def onsets_url(track, stem=None, **params):
    query = {**({"stem": str(stem.pk)} if stem else {}), **params}
    return reverse("samples:onsets", args=[track.pk]) + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))


def slice_url(track):
    return reverse("samples:slice", args=[track.pk])


def curve_from_json(data) -> slicing.OnsetCurve:
    """The OnsetCurve the browser sees: the JSON's candidates as numpy holds them."""
    onsets = np.array(data["onsets"], dtype=np.float64).reshape(-1, 3)
    return slicing.OnsetCurve(
        source=data["source"], sample_rate=44100, duration=data["duration"], frame_hop=data["frame_hop"],
        curve_hop=data["curve_hop"], curve=np.array(data["curve"], dtype=np.float32), times=onsets[:, 0],
        strengths=onsets[:, 1].astype(np.float32), levels=onsets[:, 2].astype(np.float32),
    )  # fmt: skip


# --- the onset curve ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_answers_the_curve_and_candidates_and_reads_them_back_from_storage(user_client, song, monkeypatch):
    track, stems = song
    drums = stems["drums"]
    response = user_client.get(onsets_url(track, drums))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["strategy"] == data["source"] == "drums"
    assert data["defaults"] == {
        "sensitivity": 0.5, "min_length": 0.05, "max_length": MAX_LENGTH["drums"], "silence_db": -50.0,
        "normalise": False,
    }  # fmt: skip
    assert data["pre_roll"] == 0.005 and data["max_samples"] == 2000
    assert abs(data["duration"] - SECONDS) < 0.01
    assert data["curve"] and max(data["curve"]) == 1.0 and data["curve_hop"] > 0
    # A click every 0.5 s: a strong candidate at each one.
    strong = [t for t, s, _ in data["onsets"] if s >= 0.5]
    assert [round(t, 2) for t in strong] == [round(0.5 * i, 2) for i in range(8)]
    name = f"{track.storage_prefix}/onsets/{drums.pk}--50.json"
    assert default_storage.exists(name)
    assert json.loads(default_storage.open(name).read())["onsets"] == data["onsets"]

    # The second request reads the file: it neither decodes nor detects.
    def refuse(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(slicing, "onset_curve", refuse)
    monkeypatch.setattr(audio_io, "decode", refuse)
    again = user_client.get(onsets_url(track, drums))
    assert again.status_code == 200 and again.json() == data
    # A drum curve does not depend on the silence threshold (pick applies it): the same file answers.
    other_silence = user_client.get(onsets_url(track, drums, silence_db=-40))
    assert other_silence.status_code == 200
    assert other_silence.json()["onsets"] == data["onsets"] and other_silence.json()["silence_db"] == -40
    # The page embeds a stored curve, so the browser needs no second request.
    page = user_client.get(slicer_url(track, drums)).content.decode()
    embedded = re.search(r'<script id="slicer-onsets" type="application/json">(.*?)</script>', page, re.S)
    assert json.loads(embedded.group(1))["onsets"] == data["onsets"]


@pytest.mark.django_db(transaction=True)
def test_the_json_holds_exactly_what_pick_compares(user_client, song):
    """The browser runs pick's rule on the JSON: it must carry the very numbers Python compares, so that the
    markers it shows are the slices the job cuts (tests/browser/test_slicer_browser.py runs the rule itself)."""
    track, stems = song
    for name in ("drums", "bass", "other", "vocals"):
        stem = stems[name]
        data = user_client.get(onsets_url(track, stem)).json()
        samples, rate = audio_io.decode(default_storage.path(stem.file.name))
        real = slicing.onset_curve(samples, rate, source=data["strategy"], silence_db=-50.0)
        seen = curve_from_json(data)
        # Times in order, strengths in 0..1, levels in dBFS; all of them exactly the curve's own values.
        assert np.all(np.diff(seen.times) > 0)
        assert np.array_equal(seen.times, real.times)
        assert np.array_equal(seen.strengths, real.strengths) and np.array_equal(seen.levels, real.levels)
        assert np.all((seen.strengths >= 0) & (seen.strengths <= 1))
        for sensitivity in (0.0, 0.2, 0.37, 0.5, 0.51, 0.8, 1.0):
            for min_length, silence in ((0.05, -50.0), (0.2, -50.0), (0.05, -30.0)):
                assert pick_both(real, seen, sensitivity, min_length, silence), (name, sensitivity, min_length)


def pick_both(real, seen, sensitivity, min_length, silence):
    ours = slicing.pick(real, sensitivity, min_length=min_length, silence_db=silence)
    theirs = slicing.pick(seen, sensitivity, min_length=min_length, silence_db=silence)
    return ours == theirs


@pytest.mark.django_db(transaction=True)
def test_a_vocal_curve_is_made_again_for_another_silence_threshold(user_client, song, monkeypatch):
    track, stems = song
    vocals = stems["vocals"]
    calls = []
    real = slicing.onset_curve

    def counting(*args, **kwargs):
        calls.append(kwargs["silence_db"])
        return real(*args, **kwargs)

    monkeypatch.setattr(slicing, "onset_curve", counting)
    assert user_client.get(onsets_url(track, vocals)).status_code == 200
    assert user_client.get(onsets_url(track, vocals, silence_db=-30)).status_code == 200
    assert user_client.get(onsets_url(track, vocals, silence_db=-30)).status_code == 200
    assert calls == [-50.0, -30.0]  # phrase starts depend on it; each threshold is computed once
    prefix = f"{track.storage_prefix}/onsets/"
    assert sorted(default_storage.listdir(prefix)[1]) == sorted([f"{vocals.pk}--50.json", f"{vocals.pk}--30.json"])


@pytest.mark.django_db(transaction=True)
def test_the_full_mix_curve_is_stored_as_mix_and_goes_with_the_track(user_client, song):

    track, _ = song
    data = user_client.get(onsets_url(track)).json()
    assert data["strategy"] == "mix" and data["defaults"]["max_length"] == MAX_LENGTH["mix"]
    name = f"{track.storage_prefix}/onsets/mix--50.json"
    assert default_storage.exists(name)
    services.do_delete_track(track)
    assert not default_storage.exists(name)


@pytest.mark.django_db
def test_a_stored_curve_that_is_damaged_or_outdated_is_computed_again(user, monkeypatch):
    track = make_track(user)
    name = onset_cache.cache_name(track, None, -50.0)
    computed = {"source": "mix", "onsets": [[0.5, 1.0, -3.0]], "curve": [1.0], "version": onset_cache.VERSION}
    monkeypatch.setattr(onset_cache, "compute", lambda *args: computed)
    default_storage.save(name, ContentFile(b"{not json"))
    assert onset_cache.get_onsets(track, None, -50.0)["onsets"] == [[0.5, 1.0, -3.0]]
    assert json.loads(default_storage.open(name).read())["version"] == onset_cache.VERSION  # replaced, same name
    assert default_storage.listdir(f"{track.storage_prefix}/onsets")[1] == ["mix--50.json"]
    stored = json.loads(default_storage.open(name).read())
    stored["version"] = onset_cache.VERSION - 1
    default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(stored).encode()))
    computed["onsets"] = [[1.0, 1.0, -3.0]]
    assert onset_cache.get_onsets(track, None, -50.0)["onsets"] == [[1.0, 1.0, -3.0]]


@pytest.mark.django_db
def test_bad_requests_for_the_curve_are_400s_with_a_reason(user_client, user):
    track = make_track(user)
    for value in ("loud", "0", "-200", "nan"):
        response = user_client.get(onsets_url(track, silence_db=value))
        assert response.status_code == 400, value
        assert "silence threshold" in response.json()["error"]
    pending = make_track(user, status="pending")
    response = user_client.get(onsets_url(pending))
    assert response.status_code == 400 and "not been analysed" in response.json()["error"]
    failed = make_track(user, status="failed")
    assert "analysis of this track failed" in user_client.get(onsets_url(failed)).json()["error"]


@pytest.mark.django_db
def test_audio_that_cannot_be_read_is_a_422_not_a_500(user_client, user):
    track = make_track(user, data=b"RIFF....WAVEfmt this is not audio")
    response = user_client.get(onsets_url(track))
    assert response.status_code == 422
    assert "could not be read" in response.json()["error"]
    stems = fake_stems(track, ["drums"])  # a stem row whose file is not in storage
    response = user_client.get(onsets_url(track, stems["drums"]))
    assert response.status_code == 422


# --- the page ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_source_its_options_and_obeys_the_csp(user_client, user):
    track = make_track(user, title="Song One", peaks=[0.25] * 800)
    stems = fake_stems(track)
    response = user_client.get(slicer_url(track, stems["drums"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Slice drums into samples" in page
    assert f'action="{slice_url(track)}"' in page and f'name="stem" value="{stems["drums"].pk}"' in page
    assert 'name="sensitivity" min="0" max="100" step="1"' in page and 'value="50"' in page
    assert 'value="1.5"' in page  # the drums' default max length
    assert reverse("stems:stem_audio", args=[stems["drums"].pk]) in page
    for name, stem in stems.items():  # switch to any stem, or the mix
        assert slicer_url(track, stem) in page, name
    config = json.loads(re.search(r'<script id="slicer-config" type="application/json">(.*?)</script>', page, re.S)[1])
    assert config["strategy"] == "drums" and config["peaks"] == [0.5] * 800  # the stem's waveform
    assert config["onsets_url"] == onsets_url(track, stems["drums"])
    assert '<script id="slicer-onsets" type="application/json">null</script>' in page  # not computed yet
    # Strict CSP: scripts from files only (JSON data blocks are not scripts), no inline styles or handlers.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    mix = user_client.get(slicer_url(track)).content.decode()
    assert "Slice the full mix into samples" in mix and 'name="stem"' not in mix
    assert reverse("tracks:track_audio", args=[track.pk]) in mix
    mix_config = re.search(r'<script id="slicer-config" type="application/json">(.*?)</script>', mix, re.S)[1]
    assert json.loads(mix_config)["peaks"] == [0.25] * 800 and json.loads(mix_config)["strategy"] == "mix"


@pytest.mark.django_db
def test_the_page_of_an_unanalysed_track_explains_and_offers_nothing_to_submit(user_client, user):
    track = make_track(user, status="pending")
    page = user_client.get(slicer_url(track)).content.decode()
    assert "has not been analysed yet" in page
    assert "data-slicer>" not in page and '<fieldset class="slicer-fields" disabled>' in page
    stems = fake_stems(track, ["drums"])  # its stems (from an earlier analysis) are always ready
    page = user_client.get(slicer_url(track, stems["drums"])).content.decode()
    assert "has not been analysed" not in page and "data-slicer>" in page


@pytest.mark.django_db
def test_the_track_page_offers_the_slicer_for_the_mix_and_each_stem(user_client, user):
    track = make_track(user)
    stems = fake_stems(track)
    page = user_client.get(reverse("tracks:track", args=[track.pk])).content.decode()
    assert f'href="{slicer_url(track)}" data-slice-mix' in page
    for name, stem in stems.items():
        assert f'href="{slicer_url(track, stem)}" data-slice-stem="{name}"' in page
        assert f'aria-label="Slice {stem.display_name} into samples"' in page
    samples_link = f"{reverse('samples:samples')}?track={track.pk}"
    assert samples_link not in page  # no samples yet
    for index in range(3):
        make_sample(track, stems["drums"], index)
    page = user_client.get(reverse("tracks:track", args=[track.pk])).content.decode()
    assert f'href="{samples_link}"' in page and "3 samples" in page
    pending = make_track(user, status="pending")
    page = user_client.get(reverse("tracks:track", args=[pending.pk])).content.decode()
    assert "data-slice-mix" not in page  # the mix needs its analysis first


def make_sample(track, stem, index):
    return Sample.objects.create(
        owner=track.owner, track=track, stem=stem, source=stem.name if stem else "mix", index=index,
        start=index * 0.5, end=index * 0.5 + 0.4, onset=index * 0.5 + 0.005, duration=0.4, file=f"s/{index}.wav",
        sample_rate=44100, peak_db=-3.0, loudness=-12.0, category="kick", predicted_category="kick",
        confidence=0.9, embedding=b"\0" * 256,
    )  # fmt: skip


# --- slicing -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_slice_queues_a_job_for_the_stem_with_the_cleaned_options(user_client, user):
    track = make_track(user)
    stems = fake_stems(track)
    form = {"stem": stems["drums"].pk, "sensitivity": "65", "min_length": "0.08", "max_length": "1",
            "silence_db": "-45", "normalise": "on"}  # fmt: skip
    response = user_client.post(slice_url(track), form)
    assert response.status_code == 302 and response.url == slicer_url(track, stems["drums"])
    job = Job.objects.get()
    assert (job.kind, job.queue, job.status) == ("slice", "cpu", "queued")
    assert job.subject == stems["drums"] and job.owner_id == user.pk
    assert job.params == {"sensitivity": 0.65, "min_length": 0.08, "max_length": 1.0, "silence_db": -45.0,
                          "normalise": True}  # fmt: skip
    page = user_client.get(response.url).content.decode()
    assert "Slicing drums into samples…" in page  # the message
    assert f'id="slice-job-{job.pk}"' in page and "Slicing at 65% sensitivity" in page
    assert 'value="65"' in page and 'value="0.08"' in page  # the form starts from the last run's options


@pytest.mark.django_db
def test_without_javascript_the_form_slices_at_the_defaults(user_client, user):
    track = make_track(user)
    stems = fake_stems(track, ["vocals"])
    form = {"stem": stems["vocals"].pk, "sensitivity": "50", "min_length": "0.05", "max_length": "8",
            "silence_db": "-50"}  # fmt: skip
    assert user_client.post(slice_url(track), form).status_code == 302
    assert Job.objects.get().params == {"sensitivity": 0.5, "min_length": 0.05, "max_length": 8.0,
                                        "silence_db": -50.0, "normalise": False}  # fmt: skip
    # The full mix, with nothing but the defaults.
    assert user_client.post(slice_url(track), {}).status_code == 302
    job = Job.objects.about(track).get()
    assert job.params["max_length"] == MAX_LENGTH["mix"] and job.params["sensitivity"] == 0.5


@pytest.mark.django_db
def test_htmx_gets_the_jobs_partial_and_polls_it_until_the_job_ends(user_client, user):
    track = make_track(user)
    stems = fake_stems(track, ["bass"])
    response = user_client.post(
        slice_url(track), {"stem": stems["bass"].pk, "sensitivity": "40"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    part = response.content.decode()
    assert "<html" not in part and 'id="slicer-jobs"' in part
    assert "Slicing bass into samples…" in part and 'hx-trigger="every 2s"' in part
    poll = user_client.get(slicer_url(track, stems["bass"]) + "&part=jobs", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "Queued" in poll.content.decode()
    job = Job.objects.get()
    make_sample(track, stems["bass"], 0)
    Sample.objects.update(job=job)
    Job.objects.filter(pk=job.pk).update(status="succeeded", progress=100)
    poll = user_client.get(slicer_url(track, stems["bass"]) + "&part=jobs", HTTP_HX_REQUEST="true")
    assert poll.status_code == 286  # stops the polling, and shows the result
    done = poll.content.decode()
    assert "every 2s" not in done and "1 sample, tagged" in done
    assert f"{reverse('samples:samples')}?track={track.pk}&amp;source=bass" in done


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("sensitivity", "150", "Sensitivity must be between 0 and 100%."),
        ("sensitivity", "-1", "Sensitivity must be between 0 and 100%."),
        ("sensitivity", "lots", "Sensitivity must be a number from 0 to 100"),
        ("sensitivity", "nan", "Sensitivity must be between 0 and 100%."),
        ("min_length", "abc", "The minimum length must be a number."),
        ("min_length", "0", "The minimum length must be between 0.01 and 10 seconds."),
        ("max_length", "0.01", "The maximum length must be between 0.02 and 30 seconds."),
        ("max_length", "0.03", "The maximum length must be at least the minimum length."),
        ("silence_db", "0", "The silence threshold must be between -120 and -6 dBFS."),
    ],
)
def test_bad_options_are_a_400_with_the_reason_and_queue_nothing(user_client, user, field, value, reason):
    track = make_track(user)
    stems = fake_stems(track, ["drums"])
    form = {"stem": stems["drums"].pk, "sensitivity": "50", "min_length": "0.05", "max_length": "1.5", field: value}
    response = user_client.post(slice_url(track), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert reason in page and "<html" in page
    assert f'value="{value}"' in page  # what was typed stays, to be corrected
    htmx = user_client.post(slice_url(track), form, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and reason in htmx.content.decode() and "<html" not in htmx.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_full_mix_of_an_unanalysed_track_cannot_be_sliced(user_client, user):
    track = make_track(user, status="pending")
    response = user_client.post(slice_url(track), {"sensitivity": "50"})
    assert response.status_code == 400
    assert "has not been analysed yet" in response.content.decode()
    htmx = user_client.post(slice_url(track), {"sensitivity": "50"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and "has not been analysed yet" in htmx.content.decode()
    assert not Job.objects.exists()


# --- owners ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_users_track_or_stem_and_a_stem_of_another_track_are_404s(user_client, user, other_user):
    mine = make_track(user)
    my_other = make_track(user)
    theirs = make_track(other_user, title="Their Song")
    my_stem = fake_stems(mine, ["drums"])["drums"]
    my_other_stem = fake_stems(my_other, ["drums"])["drums"]
    their_stem = fake_stems(theirs, ["drums"])["drums"]
    cases = [
        (theirs, None),  # their track
        (theirs, their_stem),  # their track and stem
        (mine, their_stem),  # my track, their stem
        (mine, my_other_stem),  # a stem of another of my tracks
    ]
    for track, stem in cases:
        assert user_client.get(slicer_url(track, stem)).status_code == 404, (track, stem)
        assert user_client.get(onsets_url(track, stem)).status_code == 404, (track, stem)
        form = {"stem": stem.pk} if stem else {}
        assert user_client.post(slice_url(track), form).status_code == 404, (track, stem)
        assert user_client.post(slice_url(track), form, HTTP_HX_REQUEST="true").status_code == 404
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        assert user_client.get(f"{slicer_url(mine)}?stem={bad}").status_code == 404
        assert user_client.get(f"{reverse('samples:onsets', args=[mine.pk])}?stem={bad}").status_code == 404
        assert user_client.post(slice_url(mine), {"stem": bad}).status_code == 404
    assert b"Their Song" not in user_client.get(slicer_url(theirs)).content
    assert not Job.objects.exists()
    # And my own stem works.
    assert user_client.get(slicer_url(mine, my_stem)).status_code == 200


@pytest.mark.django_db
def test_only_get_and_post_where_they_belong(user_client, user):
    track = make_track(user)
    assert user_client.post(slicer_url(track)).status_code == 405
    assert user_client.post(onsets_url(track)).status_code == 405
    assert user_client.get(slice_url(track)).status_code == 405
