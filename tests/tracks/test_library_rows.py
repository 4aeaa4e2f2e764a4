"""The library rows' audition: a play button and a mini waveform drawn from the track's stored peaks, only on
ready tracks, and the audio it plays is the owner's alone."""

import re

import pytest

from core.waveform import wave_path
from tests.factories import make_track
from tracks.models import Track

pytestmark = pytest.mark.django_db

PEAKS = [0.1, 0.9, 0.4, 1.0, 0.2, 0.6] * 20


def audition_of(page: str, track) -> str:
    """The audition block of `track`'s row, or "" when the row has none."""
    row = page.split(f'id="track-{track.pk}"', 1)[1].split("</tr>", 1)[0]
    match = re.search(r'<div class="audition".*?</div>\s*</div>', row, re.S)
    return match.group(0) if match else ""


def test_a_ready_row_has_a_play_button_and_the_waveform_of_its_peaks(user_client, user):
    track = make_track(user, title="Night Drive", peaks=PEAKS)
    page = user_client.get("/").content.decode()
    block = audition_of(page, track)
    assert 'aria-label="Play Night Drive"' in block
    assert "<button" in block and "data-audition-toggle" in block
    assert f'data-audio="/media/tracks/{track.pk}/audio"' in block
    assert f'd="{wave_path(PEAKS)}"' in block
    assert wave_path(PEAKS) != wave_path([])  # drawn from the peaks, not the flat placeholder
    assert page.count("data-audition-audio") == 1  # the page's one player


def test_the_polled_row_and_an_htmx_results_swap_carry_the_audition(user_client, user):
    track = make_track(user, title="Swapped", peaks=PEAKS)
    partial = user_client.get("/?q=Swapped", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").content.decode()
    assert 'aria-label="Play Swapped"' in partial and wave_path(PEAKS) in partial
    row = user_client.get(f"/tracks/{track.pk}/row").content.decode()
    assert 'aria-label="Play Swapped"' in row


@pytest.mark.parametrize("status", [Track.Status.PENDING, Track.Status.ANALYSING, Track.Status.FAILED])
def test_a_track_that_is_not_ready_has_no_play_button(user_client, user, status):
    track = make_track(user, title="Not yet", status=status)
    page = user_client.get("/").content.decode()
    assert audition_of(page, track) == ""
    assert "Play Not yet" not in page


def test_another_users_library_neither_shows_nor_serves_this_tracks_audio(client, user, other_user):
    track = make_track(user, title="Secret Song", peaks=PEAKS, data=b"RIFF....WAVEfmt secret audio bytes")
    client.force_login(user)
    mine = client.get(f"/media/tracks/{track.pk}/audio")
    assert mine.status_code == 200 and b"secret audio bytes" in b"".join(mine.streaming_content)
    client.force_login(other_user)
    page = client.get("/").content.decode()
    assert "Secret Song" not in page and str(track.pk) not in page
    response = client.get(f"/media/tracks/{track.pk}/audio")
    assert response.status_code == 404
    assert b"secret audio bytes" not in response.content
