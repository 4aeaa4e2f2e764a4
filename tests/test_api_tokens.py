import pytest

from accounts.models import ApiToken
from accounts.services import do_create_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords():
    """These tests are about passwords: they sign in, hash and check with the production hashers (this overrides
    the fast hasher of tests/conftest.py)."""


def test_anonymous_api_calls_get_401_and_no_data(api_client, user):
    do_create_api_token(user, "script")
    for url in ("/api/me/", "/api/auth/tokens/", "/api/schema/", "/api/docs/"):
        response = api_client.get(url, HTTP_ACCEPT="*/*")
        assert response.status_code in (401, 403), url
        assert "alice" not in response.content.decode(), url


def test_it_exchanges_username_and_password_for_a_token(api_client, user, password):
    response = api_client.post("/api/auth/token/", {"username": "alice", "password": password}, format="json")
    assert response.status_code == 201
    key = response.json()["token"]
    assert key.startswith("sc_")

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api_client.get("/api/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_a_token_is_stored_only_as_a_hash(user):
    token, key = do_create_api_token(user, "script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.key_prefix)
    assert len(stored.key_hash) == 64


def test_wrong_credentials_get_a_clear_400(api_client, user):
    response = api_client.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Unable to log in with those credentials."
    assert not ApiToken.objects.exists()


def test_missing_fields_get_a_400_with_a_reason(api_client):
    response = api_client.post("/api/auth/token/", {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("password:")


def test_a_revoked_or_unknown_token_is_refused(api_client, user):
    token, key = do_create_api_token(user, "script")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/me/").status_code == 200
    token.delete()
    assert api_client.get("/api/me/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token sc_made-up")
    assert api_client.get("/api/me/").status_code == 401


def test_token_use_records_last_used(api_client, user):
    token, key = do_create_api_token(user, "script")
    assert token.last_used_at is None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api_client.get("/api/me/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_authentication_works_for_the_api(user_client):
    response = user_client.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"


def test_lists_are_paginated_with_count_next_previous_results(api_client, user):
    for i in range(3):
        do_create_api_token(user, f"t{i}")
    api_client.force_authenticate(user)
    body = api_client.get("/api/auth/tokens/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert "key" not in body["results"][0]


def test_users_see_and_revoke_only_their_own_tokens(api_client, user, other_user):
    mine, _ = do_create_api_token(user, "mine")
    theirs, _ = do_create_api_token(other_user, "theirs")
    api_client.force_authenticate(user)
    names = [t["name"] for t in api_client.get("/api/auth/tokens/").json()["results"]]
    assert names == ["mine"]
    assert api_client.delete(f"/api/auth/tokens/{theirs.pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert api_client.delete(f"/api/auth/tokens/{mine.pk}/").status_code == 204
    assert not ApiToken.objects.filter(pk=mine.pk).exists()


def test_schema_and_docs_are_served_to_a_logged_in_user(user_client):
    schema = user_client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/auth/token/" in paths and "/api/me/" in paths
    docs = user_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()  # served from our own static files


def test_profile_page_creates_shows_once_and_revokes_tokens(user_client, user):
    response = user_client.post("/account/tokens/", {"name": "laptop"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    page = response.content.decode()
    key = next(word for word in page.replace('"', " ").replace("<", " ").split() if word.startswith("sc_"))
    assert token.key_prefix == key[:10]

    assert key not in user_client.get("/account/").content.decode()  # shown once only

    response = user_client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_one_user_cannot_revoke_another_users_token(client, other_user, user):
    token, _ = do_create_api_token(user, "mine")
    client.force_login(other_user)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_an_empty_token_name_gets_a_400_with_the_form_error(user_client):
    response = user_client.post("/account/tokens/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_media_urls_from_the_api_accept_the_token(user, other_user, tmp_path):
    """A script follows the audio_url/download_url the API gave it with the same token header."""
    from django.test import Client

    from accounts.services import do_create_api_token
    from tests.factories import make_track

    track = make_track(user)
    _, key = do_create_api_token(user, "script")
    _, other_key = do_create_api_token(other_user, "other")
    url = f"/media/tracks/{track.pk}/original"
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get(url).status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Token {other_key}").get(url).status_code == 404
    response = Client(HTTP_AUTHORIZATION="Token sc_not-a-real-key").get(url)
    assert response.status_code == 401 and b"Invalid or revoked" in response.content
    assert Client().get(url).status_code == 302  # no token, no session: the login page
