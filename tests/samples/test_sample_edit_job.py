"""Save as new sample: the edit renders on a worker into a new lossless sample; the original stays."""

import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from jobs.models import Job
from jobs.services import perform as perform_job
from samples.models import Sample
from samples.services import do_request_sample_edit, do_request_slice, do_set_sample_favourite, do_set_sample_tags
from tests.browser.conftest import make_track_with_fake_stems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kick(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    drums = next(s for s in stem_set.stems.all() if s.name == "drums")
    job = do_request_slice(track, stem=drums)
    perform_job("slice", str(job.pk))
    sample = Sample.objects.filter(stem=drums).order_by("index").first()
    assert sample is not None
    return sample


def render(sample, edit):
    job = do_request_sample_edit(sample, edit)
    assert (job.kind, job.queue, job.subject_id) == ("edit_sample", "cpu", sample.pk)
    perform_job("edit_sample", str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    return Sample.objects.get(edited_from=sample, job=job)


def test_an_edit_becomes_a_new_sample_with_the_tags_and_the_original_stays(kick):
    do_set_sample_tags(kick, "punchy, 808")
    do_set_sample_favourite(kick, True)
    original = (kick.file.name, kick.duration, kick.size)
    edited = render(kick, {"start": 0.01, "end": min(kick.duration, 0.2), "reverse": True, "fade_out": 0.02})
    kick.refresh_from_db()
    assert (kick.file.name, kick.duration, kick.size) == original and kick.edit is None
    assert edited.edit["reverse"] is True and edited.edit["start"] == 0.01
    assert edited.duration == pytest.approx(min(kick.duration, 0.2) - 0.01, abs=1e-4)
    assert sorted(t.name for t in edited.tags.all()) == ["808", "edited", "punchy"]
    assert (edited.category, edited.track_id, edited.stem_id, edited.index) == (
        kick.category, kick.track_id, kick.stem_id, kick.index
    )  # fmt: skip
    assert not edited.favourite and edited.display_name == f"{kick.display_name} edit"
    with default_storage.open(edited.file.name) as fh:
        info = sf.info(fh)
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_24", kick.sample_rate)
    assert info.frames == round(edited.duration * kick.sample_rate)
    assert len(edited.peaks) == len(kick.peaks)


def test_reslicing_the_source_keeps_the_edits(kick):
    edited = render(kick, {"gain_db": -3})
    job = do_request_slice(kick.track, stem=kick.stem, options={"sensitivity": 0.7})
    perform_job("slice", str(job.pk))
    assert not Sample.objects.filter(pk=kick.pk).exists()  # the sliced samples were replaced...
    edited.refresh_from_db()  # ...the person's edit was not
    assert edited.edited_from_id is None and edited.edit == {**edited.edit, "gain_db": -3.0}
    assert default_storage.exists(edited.file.name)


def test_bad_or_empty_edits_are_refused_before_a_job_exists(kick):
    with pytest.raises(ValueError, match="Nothing to save"):
        do_request_sample_edit(kick, {})
    with pytest.raises(ValueError, match="is past the sample's end"):
        do_request_sample_edit(kick, {"start": kick.duration + 1})
    with pytest.raises(ValueError, match="pitch must be between -24 and 24"):
        do_request_sample_edit(kick, {"pitch": 48})
    assert not Job.objects.filter(kind="edit_sample").exists()


def test_the_api_and_the_page_start_an_edit_and_others_get_404(kick, api_client, user, other_user, user_client, client):
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/samples/{kick.pk}/edit/", {"pitch": 12, "normalise": True}, format="json")
    assert response.status_code == 202 and response.json()["kind"] == "edit_sample"
    assert api_client.post("/api/samples/", {}, format="json").status_code == 405  # POST is for the edit only
    response = api_client.post(f"/api/samples/{kick.pk}/edit/", {"fade_curve": "cubic"}, format="json")
    assert response.status_code == 400
    response = api_client.post(f"/api/samples/{kick.pk}/edit/", {"start": 99}, format="json")
    assert response.status_code == 400 and "past the sample's end" in response.json()["detail"]

    page = user_client.post(f"/samples/{kick.pk}/edit", {"reverse": "1", "fade_curve": "s-curve"})
    assert page.status_code == 302 and page["Location"].endswith("#sample-edit")
    bad = user_client.post(f"/samples/{kick.pk}/edit", {"fade_curve": "linear"})
    assert bad.status_code == 400 and "Nothing to save" in bad.content.decode()
    assert Job.objects.filter(kind="edit_sample").count() == 2
    detail = user_client.get(f"/samples/{kick.pk}/").content.decode()
    assert "Save as new sample" in detail and 'name="pitch_mode"' in detail

    api_client.force_authenticate(other_user)
    assert api_client.post(f"/api/samples/{kick.pk}/edit/", {"reverse": True}, format="json").status_code == 404
    client.force_login(other_user)
    assert client.post(f"/samples/{kick.pk}/edit", {"reverse": "1"}).status_code == 404
    assert Job.objects.filter(kind="edit_sample").count() == 2
