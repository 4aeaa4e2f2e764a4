"""The samples API: slicing requests, filters, corrections, "more like this", and owner-only access."""

import numpy as np
import pytest
from django.core.files.storage import default_storage

from jobs.models import Job
from jobs.services import perform as perform_job
from samples import similar
from samples.models import Sample
from tests.browser.conftest import make_track_with_fake_stems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def library(user, tmp_path, api_client):
    """A track with fake stems, its drums and bass sliced; the API client signed in as its owner."""
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    stems = {stem.name: stem for stem in stem_set.stems.all()}
    api_client.force_authenticate(user)
    for name in ("drums", "bass"):
        response = api_client.post(f"/api/stems/{stems[name].pk}/slice/", {}, format="json")
        assert response.status_code == 202, response.content
        perform_job("slice", response.json()["id"])
    return track, stems


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_it_slices_a_stem_or_a_track_and_returns_the_job(library, api_client):
    track, stems = library
    response = api_client.post(
        f"/api/stems/{stems['vocals'].pk}/slice/", {"sensitivity": 0.7, "normalise": True}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["status"]) == ("slice", "queued")
    job = Job.objects.get(pk=body["id"])
    assert job.subject_id == stems["vocals"].pk and job.params["sensitivity"] == 0.7 and job.params["normalise"]
    assert job.params["max_length"] == 8.0  # the vocals default

    response = api_client.post(f"/api/tracks/{track.pk}/slice/", {"min_length": 0.1}, format="json")
    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["id"]).subject == track


def test_bad_slicing_options_get_a_400_with_the_reason(library, api_client):
    _, stems = library
    for body, reason in [
        ({"sensitivity": 1.5}, "sensitivity"),
        ({"min_length": 0.5, "max_length": 0.1}, "max_length must be at least min_length"),
        ({"silence_db": "loud"}, "silence_db"),
    ]:
        response = api_client.post(f"/api/stems/{stems['drums'].pk}/slice/", body, format="json")
        assert response.status_code == 400, body
        assert reason in str(response.json())
    assert not Job.objects.filter(kind="slice", status="queued").exists()


def test_it_lists_samples_with_filters(library, api_client):
    track, _stems = library
    everything = ids(api_client.get("/api/samples/"))
    drums = set(map(str, Sample.objects.filter(source="drums").values_list("pk", flat=True)))
    bass = set(map(str, Sample.objects.filter(source="bass").values_list("pk", flat=True)))
    assert everything == drums | bass and drums and bass

    assert ids(api_client.get("/api/samples/", {"category": "drums"})) == drums  # a group
    assert ids(api_client.get("/api/samples/", {"source": "bass"})) == bass
    assert ids(api_client.get("/api/samples/", {"track": str(track.pk)})) == everything
    a1 = set(map(str, Sample.objects.filter(note="A1").values_list("pk", flat=True)))
    assert a1 and ids(api_client.get("/api/samples/", {"note": "A1"})) == a1
    assert ids(api_client.get("/api/samples/", {"note": "a"})) >= a1  # any octave
    assert ids(api_client.get("/api/samples/", {"bpm_min": 200})) == set()
    assert ids(api_client.get("/api/samples/", {"q": "bass"})) == bass

    one = Sample.objects.filter(source="bass").first()
    assert api_client.patch(f"/api/samples/{one.pk}/", {"favourite": True}, format="json").status_code == 200
    assert ids(api_client.get("/api/samples/", {"favourite": "true"})) == {str(one.pk)}
    row = api_client.get(f"/api/samples/{one.pk}/").json()
    assert row["favourite"] and row["audio_url"].endswith(f"/media/samples/{one.pk}/audio")
    assert row["bpm"] == pytest.approx(track.bpm) and row["source"] == "bass"


def test_bad_filters_get_a_400_with_the_reason(library, api_client):
    for params, reason in [({"category": "banjo"}, "Unknown category"), ({"note": "H2"}, "Unknown note"),
                           ({"track": "x"}, "id")]:  # fmt: skip
        response = api_client.get("/api/samples/", params)
        assert response.status_code == 400 and reason in response.json()["detail"], params


def test_patch_corrects_the_category_and_keeps_the_prediction(library, api_client):
    sample = Sample.objects.filter(source="drums").first()
    predicted = sample.predicted_category
    target = "clap" if predicted != "clap" else "kick"
    response = api_client.patch(
        f"/api/samples/{sample.pk}/", {"category": target, "tags": ["Dusty", "lofi"]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["category"], body["predicted_category"], body["category_corrected"]) == (target, predicted, True)
    assert body["tags"] == ["Dusty", "lofi"]
    # Setting it back to the model's guess is not a correction.
    body = api_client.patch(f"/api/samples/{sample.pk}/", {"category": predicted}, format="json").json()
    assert not body["category_corrected"]

    response = api_client.patch(f"/api/samples/{sample.pk}/", {"category": "banjo"}, format="json")
    assert response.status_code == 400 and "Unknown category" in response.json()["detail"]


def test_similar_lists_the_nearest_other_samples_by_embedding(library, api_client):
    sample = Sample.objects.filter(source="bass").order_by("index").first()
    response = api_client.get(f"/api/samples/{sample.pk}/similar/", {"limit": 5})
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 5 and str(sample.pk) not in {r["id"] for r in rows}
    scores = [r["similarity"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # The same as a brute-force cosine search over every other sample.
    query = np.frombuffer(bytes(sample.embedding), dtype="<f4")
    others = Sample.objects.exclude(pk=sample.pk)
    expected = sorted(
        ((float(np.frombuffer(bytes(o.embedding), dtype="<f4") @ query), str(o.pk)) for o in others), reverse=True
    )[:5]
    assert scores == pytest.approx([e[0] for e in expected], abs=1e-5)
    assert api_client.get(f"/api/samples/{sample.pk}/similar/", {"limit": 0}).status_code == 400


def test_the_similarity_cache_sees_new_and_deleted_samples(library, api_client):
    _track, stems = library
    sample = Sample.objects.filter(source="drums").first()
    before = {s.pk for s in similar.similar_samples(sample, 1000)}
    assert before == set(Sample.objects.exclude(pk=sample.pk).values_list("pk", flat=True))
    victim = Sample.objects.exclude(pk=sample.pk).first()
    assert api_client.delete(f"/api/samples/{victim.pk}/").status_code == 204
    assert not default_storage.exists(victim.file.name)
    assert {s.pk for s in similar.similar_samples(sample, 1000)} == before - {victim.pk}

    response = api_client.post(f"/api/stems/{stems['other'].pk}/slice/", {}, format="json")
    perform_job("slice", response.json()["id"])
    added = set(Sample.objects.filter(source="other").values_list("pk", flat=True))
    assert added and added <= {s.pk for s in similar.similar_samples(sample, 1000)}


def test_other_users_get_404_for_every_sample_and_stem_route(library, api_client, other_user, client):
    track, stems = library
    sample = Sample.objects.first()
    api_client.force_authenticate(other_user)
    assert api_client.get("/api/samples/").json()["count"] == 0
    for method, url in [
        ("get", f"/api/samples/{sample.pk}/"),
        ("patch", f"/api/samples/{sample.pk}/"),
        ("delete", f"/api/samples/{sample.pk}/"),
        ("get", f"/api/samples/{sample.pk}/similar/"),
        ("get", f"/api/stems/{stems['drums'].pk}/"),
        ("post", f"/api/stems/{stems['drums'].pk}/slice/"),
        ("post", f"/api/tracks/{track.pk}/slice/"),
    ]:
        assert getattr(api_client, method)(url, {}, format="json").status_code == 404, (method, url)
    client.force_login(other_user)
    assert client.get(f"/media/samples/{sample.pk}/audio").status_code == 404
    assert Sample.objects.filter(pk=sample.pk).exists()
    api_client.force_authenticate(None)
    assert api_client.get("/api/samples/").status_code == 401


def test_the_owner_can_play_a_sample_with_range_requests(library, user_client):
    sample = Sample.objects.first()
    response = user_client.get(f"/media/samples/{sample.pk}/audio", HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206 and response["Content-Type"] in ("audio/wav", "audio/x-wav")
    response = user_client.get(f"/media/samples/{sample.pk}/audio?download=1")
    assert "attachment" in response["Content-Disposition"] and ".wav" in response["Content-Disposition"]
