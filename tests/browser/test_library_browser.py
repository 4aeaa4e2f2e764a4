"""The library in a real browser: sign in, upload a WAV with the JavaScript uploader, find it in the library,
play it on its track page, and check that the strict Content-Security-Policy refused nothing on the way.

Uses the Debian chromium and chromedriver (the Makefile installs them); no browser is downloaded. No analysis
worker is needed: a WAV plays before it is analysed.
"""

import math
import os
import struct
import wave
from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser.conftest import csp_violations, seconds_of

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def write_tone_wav(path: Path, seconds: float = 6.0, rate: int = 44100, freq: float = 220.0) -> Path:
    """A stereo 16-bit sine, written with the standard library."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(0.4 * 32767 * math.sin(2 * math.pi * freq * i / rate))
        frames += struct.pack("<hh", sample, sample)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads land in this test's temporary folder, not in var/."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


def test_upload_find_and_play_a_track(live_server, browser, media_root, django_user_model, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tracks.models import Track

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    audio = write_tone_wav(tmp_path / "browser_test_tone.wav")
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    # Sign in through the real form.
    browser.get(live_server.url + reverse("account_login"))
    browser.find_element(By.NAME, "login").send_keys("producer")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type='submit']").click()
    wait.until(lambda d: d.current_url.rstrip("/") == live_server.url)
    collect_console()

    # Upload with the JavaScript uploader: one file, its own progress row, then its result.
    browser.get(live_server.url + reverse("tracks:upload"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[data-uploader].is-enhanced")))
    browser.find_element(By.CSS_SELECTOR, "input[type='file'][name='file']").send_keys(str(audio))
    item = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".upload-item.is-done, .upload-item.is-error")))
    assert "Uploaded" in item.text, item.text
    track = Track.objects.get(owner=user)
    assert track.original_filename == "browser_test_tone.wav"
    assert browser.find_element(By.CSS_SELECTOR, "[data-upload-done]").is_displayed()  # "Go to library"
    collect_console()

    # The library lists it.
    browser.get(live_server.url + reverse("tracks:index"))
    link = wait.until(EC.element_to_be_clickable((By.LINK_TEXT, track.display_title)))
    collect_console()

    # Its page plays it: the clock moves past half a second.
    link.click()
    play = wait.until(EC.element_to_be_clickable((By.ID, "play-button")))
    play.click()
    wait.until(lambda d: seconds_of(d.find_element(By.ID, "player-time").text) > 0.5)
    assert play.get_attribute("aria-label") == "Pause"

    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    screenshot = shots / "track-playing.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
