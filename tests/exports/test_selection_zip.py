"""The sample browser's selection as one ZIP, built in the request: the one-click download, and what a drag of
several selected samples delivers. Named as the pages name them, with a manifest; owner only; bad input a 400."""

import io
import json
import zipfile

import pytest
import soundfile as sf
from django.urls import reverse

from exports.views import SELECTION_ZIP_MAX
from jobs.services import perform as perform_job
from samples.models import Sample
from samples.services import do_request_slice
from tests.browser.conftest import make_track_with_fake_stems

pytestmark = pytest.mark.django_db(transaction=True)
URL = reverse("exports:samples_zip")


@pytest.fixture
def sliced(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song", seconds=4.0, title="Night Drive")
    perform_job("slice", str(do_request_slice(track, stem=stem_set.stems.get(name="drums")).pk))
    samples = list(Sample.objects.filter(track=track).order_by("index"))
    assert len(samples) >= 3
    return track, samples


def fetch(client, **params):
    response = client.get(URL, params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_a_selection_downloads_as_one_zip_named_as_the_pages_show(sliced, user, client):
    _, samples = sliced
    chosen = [samples[2], samples[0]]
    client.force_login(user)
    response, body = fetch(client, ids=",".join(str(s.pk) for s in chosen))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="Stemcrate samples (2 samples).zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    audio = sorted(n for n in archive.namelist() if n.endswith(".wav"))
    expected = sorted(
        f"Stemcrate Tests - Night Drive/Samples/{s.get_category_display()}/{s.display_name}.wav" for s in chosen
    )
    assert audio == expected, audio
    data, rate = sf.read(io.BytesIO(archive.read(audio[0])))
    assert rate == chosen[0].sample_rate and len(data) > 0
    manifest = json.loads(archive.read("manifest.json"))["files"]
    assert sorted(row["name"] for row in manifest if row["kind"] == "sample") == sorted(s.display_name for s in chosen)
    assert "manifest.csv" in archive.namelist()


def test_the_format_is_the_one_chosen_and_repeated_ids_fields_work_too(sliced, user, client):
    _, samples = sliced
    client.force_login(user)
    response, body = fetch(client, ids=[str(samples[0].pk), str(samples[1].pk)], format="flac")
    assert response.status_code == 200
    names = [n for n in zipfile.ZipFile(io.BytesIO(body)).namelist() if "/Samples/" in n]
    assert len(names) == 2 and all(n.endswith(".flac") for n in names), names


def test_bad_selections_are_refused_with_a_reason(sliced, user, client):
    _, samples = sliced
    client.force_login(user)
    for params, reason in (
        ({}, "Select at least one sample"),
        ({"ids": "not-an-id"}, "is not a sample id"),
        ({"ids": str(samples[0].pk), "format": "ogg"}, "Unknown format"),
        ({"ids": ",".join(str(samples[0].pk) for _ in range(SELECTION_ZIP_MAX + 1))}, "at most"),
    ):
        response, body = fetch(client, **params)
        assert response.status_code == 400 and reason in body.decode(), (params, body)


def test_someone_elses_sample_makes_the_selection_a_404(sliced, user, other_user, client):
    _, samples = sliced
    client.force_login(other_user)
    response, _ = fetch(client, ids=str(samples[0].pk))
    assert response.status_code == 404
    client.force_login(user)  # the owner, with one id that is not theirs (or gone) mixed in: 404, no partial ZIP
    response, _ = fetch(client, ids=f"{samples[0].pk},00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    client.logout()
    assert client.get(URL, {"ids": str(samples[0].pk)}).status_code in (302, 404)
