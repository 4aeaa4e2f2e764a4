import pytest

from tests.factories import make_track
from tracks import services
from tracks.models import Collection, Track

pytestmark = pytest.mark.django_db

TRACK_GETS = ["/tracks/{id}/", "/tracks/{id}/row", "/tracks/{id}/status", "/tracks/{id}/delete",
              "/media/tracks/{id}/audio", "/media/tracks/{id}/original"]  # fmt: skip
TRACK_POSTS = ["/tracks/{id}/edit", "/tracks/{id}/tags", "/tracks/{id}/collections", "/tracks/{id}/delete",
               "/tracks/{id}/analyse"]  # fmt: skip


def test_another_users_track_is_a_404_on_every_page_and_action(client, user, other_user):
    track = make_track(user, title="Secret Song")
    client.force_login(other_user)
    for url in TRACK_GETS:
        response = client.get(url.format(id=track.pk))
        assert response.status_code == 404, url
        assert b"Secret Song" not in response.content
    for url in TRACK_POSTS:
        response = client.post(url.format(id=track.pk), {"title": "pwned", "tags": "x", "new_collection": "c"})
        assert response.status_code == 404, url
    track.refresh_from_db()
    assert track.title == "Secret Song"
    assert not track.tags.exists() and not Collection.objects.exists()


def test_the_library_lists_only_my_tracks(user_client, user, other_user):
    make_track(user, title="Mine")
    make_track(other_user, title="Theirs")
    page = user_client.get("/").content.decode()
    assert "Mine" in page and "Theirs" not in page


def test_an_empty_library_says_what_to_do(user_client):
    page = user_client.get("/").content.decode()
    assert "Your library is empty" in page
    assert 'type="file"' in page


def test_filters_render_a_partial_for_htmx_and_keep_state_in_the_url(user_client, user):
    make_track(user, title="Slow", bpm=80)
    make_track(user, title="Fast", bpm=170)
    response = user_client.get("/?bpm_min=100", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    page = response.content.decode()
    assert "<html" not in page  # a partial, not the whole page
    assert "Fast" in page and "Slow" not in page
    full = user_client.get("/?bpm_min=100").content.decode()
    assert "<html" in full and "Fast" in full and "Slow" not in full


def test_no_match_offers_to_clear_filters(user_client, user):
    make_track(user, title="Slow", bpm=80)
    page = user_client.get("/?q=nothing-like-this").content.decode()
    assert "No tracks match" in page


def test_a_processing_row_polls_and_a_finished_one_stops(user_client, user):
    track = make_track(user, status=Track.Status.ANALYSING)
    response = user_client.get(f"/tracks/{track.pk}/row")
    assert response.status_code == 200
    assert "every 3s" in response.content.decode()
    Track.objects.filter(pk=track.pk).update(status=Track.Status.READY)
    assert user_client.get(f"/tracks/{track.pk}/row").status_code == 286


def test_the_status_panel_reloads_the_page_once_analysis_ends(user_client, user):
    track = make_track(user, status=Track.Status.ANALYSING)
    assert "HX-Refresh" not in user_client.get(f"/tracks/{track.pk}/status")
    Track.objects.filter(pk=track.pk).update(status=Track.Status.FAILED, error="broken")
    assert user_client.get(f"/tracks/{track.pk}/status")["HX-Refresh"] == "true"


def test_inline_edit_tags_and_collections(user_client, user):
    track = make_track(user, title="Old")
    response = user_client.post(f"/tracks/{track.pk}/edit", {"title": "New", "artist": "A", "album": ""},
                                HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200 and "New" in response.content.decode()
    user_client.post(f"/tracks/{track.pk}/tags", {"tags": "house, deep, House"}, HTTP_HX_REQUEST="true")
    assert sorted(t.name for t in track.tags.all()) == ["deep", "house"]
    user_client.post(f"/tracks/{track.pk}/collections", {"new_collection": "Warm-up"}, HTTP_HX_REQUEST="true")
    collection = Collection.objects.get(owner=user, name="Warm-up")
    assert list(collection.tracks.all()) == [track]
    again = user_client.post(f"/tracks/{track.pk}/collections", {"new_collection": "warm-up"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 400 and "already have a collection" in again.content.decode()
    user_client.post(f"/tracks/{track.pk}/collections/{collection.pk}/remove", HTTP_HX_REQUEST="true")
    assert not collection.tracks.exists()
    track.refresh_from_db()
    assert (track.title, track.artist) == ("New", "A")


def test_delete_asks_first_then_removes_the_track_and_its_files(user_client, user, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    track = make_track(user, title="Doomed")
    confirm = user_client.get(f"/tracks/{track.pk}/delete")
    assert confirm.status_code == 200 and "Doomed" in confirm.content.decode()
    assert Track.objects.filter(pk=track.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"/tracks/{track.pk}/delete")
    assert response.status_code == 302
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not default_storage.exists(track.original.name)


def test_library_page_runs_a_constant_number_of_queries(user_client, user, django_assert_max_num_queries):
    for i in range(3):
        services.do_set_track_tags(make_track(user, title=f"t{i}"), ["a", "b"])
    with django_assert_max_num_queries(20) as few:
        user_client.get("/")
    for i in range(40):
        services.do_set_track_tags(make_track(user, title=f"u{i}"), ["a", "c"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert user_client.get("/").status_code == 200


def test_the_tag_filter_lists_only_the_tags_of_my_tracks(user_client, user, other_user):
    from samples.services import do_set_sample_tags
    from tests.samples.test_sample_pages import make_sample

    track = make_track(user, title="Tagged Song")
    services.do_set_track_tags(track, ["house"])
    do_set_sample_tags(make_sample(user, track), ["punchy"])  # tags live in one table, shared with samples
    services.do_set_track_tags(make_track(other_user, title="Theirs"), ["techno"])
    page = user_client.get("/").content.decode()
    options = page.split('id="filter-tag"', 1)[1].split("</select>", 1)[0]
    assert 'value="house"' in options
    assert 'value="punchy"' not in options and 'value="techno"' not in options
    assert "Tagged Song" in user_client.get("/?tag=house").content.decode()
