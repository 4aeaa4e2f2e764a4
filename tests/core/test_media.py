import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import RequestFactory
from storages.backends.s3 import S3Storage

from core import media
from core.media import parse_range
from tests.factories import make_track

pytestmark = pytest.mark.django_db
DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 10239)),
        ("bytes=-100", (10140, 10239)),
        ("bytes=10000-99999", (10000, 10239)),
        ("bytes=10240-", "invalid"),
        ("bytes=50-10", "invalid"),
        ("bytes=-0", "invalid"),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("", None),
    ],
)
def test_it_parses_range_headers(header, expected):
    assert parse_range(header, 10240) == expected


def test_the_owner_gets_the_whole_file_with_accept_ranges(client, user):
    track = make_track(user, data=DATA)
    client.force_login(user)
    response = client.get(f"/media/tracks/{track.pk}/audio")
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content) == DATA


def test_a_range_request_gets_206_partial_content(client, user):
    track = make_track(user, data=DATA)
    client.force_login(user)
    response = client.get(f"/media/tracks/{track.pk}/audio", HTTP_RANGE="bytes=1000-1999")
    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 1000-1999/10240"
    assert response["Content-Length"] == "1000"
    assert b"".join(response.streaming_content) == DATA[1000:2000]


def test_an_unsatisfiable_range_gets_416(client, user):
    track = make_track(user, data=DATA)
    client.force_login(user)
    response = client.get(f"/media/tracks/{track.pk}/audio", HTTP_RANGE="bytes=20000-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10240"


def test_the_original_downloads_under_its_title(client, user):
    track = make_track(user, data=DATA, title="Night Drive", fmt="flac")
    client.force_login(user)
    response = client.get(f"/media/tracks/{track.pk}/original")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/flac"
    assert 'filename="Night Drive.flac"' in response["Content-Disposition"]


def test_the_player_gets_the_preview_when_there_is_one(client, user):
    track = make_track(user, data=DATA, fmt="aiff")
    track.preview.save("preview", ContentFile(b"ID3mp3"))
    client.force_login(user)
    response = client.get(f"/media/tracks/{track.pk}/audio")
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content) == b"ID3mp3"


def test_another_user_and_anonymous_get_nothing(client, user, other_user):
    track = make_track(user, data=DATA)
    for url in (f"/media/tracks/{track.pk}/audio", f"/media/tracks/{track.pk}/original"):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(other_user)
    for url in (f"/media/tracks/{track.pk}/audio", f"/media/tracks/{track.pk}/original"):
        response = client.get(url, HTTP_RANGE="bytes=0-10")
        assert response.status_code == 404
        assert DATA[:10] not in response.content


def test_a_file_missing_from_storage_is_a_404_not_a_500(client, user):
    track = make_track(user, data=DATA)
    default_storage.delete(track.original.name)
    client.force_login(user)
    assert client.get(f"/media/tracks/{track.pk}/audio").status_code == 404


def test_s3_storage_redirects_the_owner_to_a_presigned_url(user):
    track = make_track(user, data=DATA)
    s3 = S3Storage(
        bucket_name="stemcrate",
        endpoint_url="http://127.0.0.1:9",
        access_key="k",
        secret_key="s",
        region_name="us-east-1",
        querystring_auth=True,
        querystring_expire=600,
        signature_version="s3v4",
    )
    s3.exists = lambda name: True  # no S3 server here; presigning itself needs no network
    response = media.serve_file(RequestFactory().get("/"), track.original.name, storage=s3)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("http://127.0.0.1:9/stemcrate/users/")
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=600" in location
