import pytest
from django.core.files.storage import default_storage

from jobs.models import Job
from tests.factories import make_track
from tracks import services
from tracks.models import Collection, Tag, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_it_lists_only_the_callers_tracks_with_audio_urls(api, user, other_user):
    make_track(user, title="Mine")
    make_track(other_user, title="Theirs")
    body = api.get("/api/tracks/").json()
    assert body["count"] == 1
    track = body["results"][0]
    assert track["title"] == "Mine"
    assert track["audio_url"] == f"http://testserver/media/tracks/{track['id']}/audio"
    assert "peaks" not in track


def test_filters_match_the_library_page(api, user):
    make_track(user, title="Slow Am", bpm=85, key="A", scale="minor")
    fast = make_track(user, title="Fast F#", bpm=174, key="F#", scale="major", artist="Neuro")
    make_track(user, title="Pending", status=Track.Status.PENDING)
    services.do_set_track_tags(fast, ["dnb", "Rollers"])

    def titles(query):
        return sorted(t["title"] for t in api.get(f"/api/tracks/?{query}").json()["results"])

    assert titles("bpm_min=100") == ["Fast F#"]
    assert titles("bpm_min=80&bpm_max=90") == ["Slow Am"]
    assert titles("key=Am") == ["Slow Am"]
    assert titles("key=Gb") == ["Fast F#"]  # flats are the same keys as sharps
    assert titles("tag=rollers") == ["Fast F#"]
    assert titles("q=neuro") == ["Fast F#"]
    assert titles("q=dnb") == ["Fast F#"]  # search covers tags
    assert titles("status=pending") == ["Pending"]
    assert [t["title"] for t in api.get("/api/tracks/?sort=-bpm").json()["results"]][:2] == ["Fast F#", "Slow Am"]


def test_a_bad_filter_gets_a_400_with_the_reason(api):
    response = api.get("/api/tracks/?bpm_min=fast")
    assert response.status_code == 400
    assert "BPM MIN must be a number" in response.json()["detail"]


def test_it_retrieves_updates_and_tags_a_track(api, user):
    track = make_track(user, title="Old")
    detail = api.get(f"/api/tracks/{track.pk}/").json()
    assert detail["title"] == "Old" and "peaks" in detail
    response = api.patch(
        f"/api/tracks/{track.pk}/", {"title": "New", "tags": ["house", "House", "deep"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    assert response.json()["tags"] == ["deep", "house"]
    assert Tag.objects.filter(owner=user).count() == 2


def test_read_only_fields_cannot_be_changed(api, user):
    track = make_track(user, bpm=120)
    api.patch(f"/api/tracks/{track.pk}/", {"bpm": 60, "owner": 99, "sha256": "x"}, format="json")
    track.refresh_from_db()
    assert track.bpm == 120


def test_deleting_a_track_removes_its_files(api, user, django_capture_on_commit_callbacks):
    track = make_track(user)
    name = track.original.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/tracks/{track.pk}/").status_code == 204
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not default_storage.exists(name)


def test_another_users_track_is_a_404_for_every_method(api, other_user):
    track = make_track(other_user, title="Private")
    for method in ("get", "patch", "put", "delete"):
        response = getattr(api, method)(f"/api/tracks/{track.pk}/", {"title": "x"}, format="json")
        assert response.status_code == 404, method
        assert "Private" not in response.content.decode()
    assert Track.objects.get(pk=track.pk).title == "Private"


def test_tags_api(api, user, other_user):
    Tag.objects.create(owner=other_user, name="secret")
    created = api.post("/api/tags/", {"name": " lo-fi "}, format="json")
    assert created.status_code == 201
    assert created.json()["name"] == "lo-fi"
    assert [t["name"] for t in api.get("/api/tags/").json()["results"]] == ["lo-fi"]
    tag_id = created.json()["id"]
    assert api.patch(f"/api/tags/{tag_id}/", {"name": "Lo-Fi Beats"}, format="json").json()["name"] == "Lo-Fi Beats"
    assert api.delete(f"/api/tags/{tag_id}/").status_code == 204


def test_collections_api(api, user, other_user):
    mine = make_track(user)
    theirs = make_track(other_user)
    created = api.post("/api/collections/", {"name": "Crate 1", "description": "warm-up"}, format="json")
    assert created.status_code == 201
    cid = created.json()["id"]
    duplicate = api.post("/api/collections/", {"name": "crate 1"}, format="json")
    assert duplicate.status_code == 400
    assert "already have a collection" in duplicate.json()["detail"]

    added = api.post(f"/api/collections/{cid}/tracks/", {"track_ids": [str(mine.pk)]}, format="json")
    assert added.json()["track_ids"] == [str(mine.pk)]
    refused = api.post(f"/api/collections/{cid}/tracks/", {"track_ids": [str(theirs.pk)]}, format="json")
    assert refused.status_code == 400
    assert not Collection.objects.get(pk=cid).tracks.filter(pk=theirs.pk).exists()
    assert api.get(f"/api/tracks/?collection={cid}").json()["count"] == 1
    removed = api.post(f"/api/collections/{cid}/tracks/remove/", {"track_ids": [str(mine.pk)]}, format="json")
    assert removed.json()["track_ids"] == []


def test_another_users_collection_is_a_404(api, other_user):
    collection = Collection.objects.create(owner=other_user, name="Theirs")
    assert api.get(f"/api/collections/{collection.pk}/").status_code == 404
    assert api.post(f"/api/collections/{collection.pk}/tracks/", {"track_ids": []}, format="json").status_code == 404


def test_track_list_runs_a_constant_number_of_queries(api, user, django_assert_max_num_queries):
    for i in range(5):
        services.do_set_track_tags(make_track(user, title=f"t{i}"), ["a", "b"])
    with django_assert_max_num_queries(6) as few:
        api.get("/api/tracks/")
    for i in range(30):
        services.do_set_track_tags(make_track(user, title=f"u{i}"), ["a", "c"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("/api/tracks/").json()["count"] == 35


@pytest.mark.parametrize("path", ["/api/pipelines/", "/api/stems/", "/api/midi/", "/api/lyrics/"])
def test_a_malformed_track_filter_is_a_400_with_a_reason(api_client, user, path):
    api_client.force_authenticate(user)
    response = api_client.get(path, {"track": "not-an-id"})
    assert response.status_code == 400 and response.json()["detail"] == "track must be an id."


def test_jobs_filter_by_what_they_work_on(api_client, user):
    """A job names its subject (track, stem, export...); ?subject= lists the jobs of one, and a bad id is a 400."""
    track = make_track(user)
    Job.objects.create(owner=user, kind="analyse", subject=track)
    Job.objects.create(owner=user, kind="export")
    api_client.force_authenticate(user)
    body = api_client.get("/api/jobs/", {"subject": str(track.pk)}).json()
    assert [(j["subject_type"], j["subject"]) for j in body["results"]] == [("track", str(track.pk))]
    response = api_client.get("/api/jobs/", {"subject": "not-an-id"})
    assert response.status_code == 400 and response.json()["detail"] == "subject must be an id."
