"""Shared pieces of the browser tests: a headless chromium, signing in, and a track with stems made without a model.

Demucs weights cannot be downloaded in tests, so `track_with_fake_stems` builds stems the way a separation would
store them (stems.services.do_store_stems) from synthetic parts of a generated song: a click track, a bass
line, chords and a "voice". They are fixtures for the UI only, not a separation.
"""

import contextlib
import copy
import hashlib
import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from django.urls import reverse

from audio import analysis
from audio.analysis import waveform_peaks
from jobs.services import perform as perform_job
from stems import services as stems_services
from tests import audio_factory as af
from tracks import services as tracks_services

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Chromium reports a blocked script or style as "… violates the following Content Security Policy directive …"
# (older versions: "Refused to execute inline script because it violates …").
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")
SR = 44100
FAKE_STEM_NAMES = ("vocals", "drums", "bass", "other")


def seconds_of(clock: str) -> float:
    """ "1:03.2" -> 63.2"""
    minutes, _, rest = clock.strip().partition(":")
    try:
        return int(minutes) * 60 + float(rest)
    except ValueError:
        return 0.0


def csp_violations(lines) -> list[str]:
    return [line for line in lines if any(marker in line for marker in CSP_MARKERS)]


def fake_stem_signals(seconds: float) -> dict[str, np.ndarray]:
    """Four stereo parts of one short song, shaped (channels, frames), all exactly the same length."""
    frames = round(seconds * SR)
    t = np.arange(frames) / SR
    # A "voice": a vibrato tone that sings two notes a bar, with gaps between the phrases.
    pitch = np.where((t % 2.0) < 1.0, 440.0, 523.25) * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    gate = np.clip(np.sin(np.pi * (t % 1.0)) * 1.6, 0, 1) * ((t % 4.0) < 3.5)
    vocals = 0.3 * gate * (np.sin(phase) + 0.3 * np.sin(2 * phase))
    drums = af.click_track(bpm=120, seconds=seconds, amplitude=0.7)[0]
    # Bass: the root of each chord an octave down, plucked on every beat.
    roots = np.array([55.0, 73.42, 82.41, 55.0])[((t // 2.0) % 4).astype(int)]
    pluck = np.exp(-(t % 0.5) / 0.18)
    bass = 0.45 * pluck * np.sin(2 * np.pi * np.cumsum(roots) / SR)
    other = af.chord_progression("A", "minor", seconds=seconds, amplitude=0.22)[0]
    other = other + af.noise(seconds, amplitude=0.01, seed=3)[0]
    parts = {"vocals": vocals, "drums": drums, "bass": bass, "other": other}
    return {name: np.stack([signal[:frames], signal[:frames]]).astype(np.float32) for name, signal in parts.items()}


# Per test process: the fake song's files, made once for each length (numpy, soundfile and four ffmpeg MP3
# encodes), and the analysis engine's result for each song file. Both are pure functions of their input; every
# call still writes its own files and runs the real upload, analysis job and do_store_stems.
_FAKE_SONG_FILES: dict[float, dict] = {}
_ANALYSES: dict[tuple, dict] = {}


def _fake_song_files(seconds: float) -> dict:
    """{"song": WAV bytes, name: (FLAC bytes, preview MP3 bytes, peaks)} of the fake song of this length."""
    if seconds not in _FAKE_SONG_FILES:
        signals = fake_stem_signals(seconds)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            song = np.clip(sum(signals.values()), -1, 1)
            made = {"song": af.write(folder / "song.wav", song, SR, "wav").read_bytes()}
            for name in FAKE_STEM_NAMES:
                flac = af.write(folder / f"{name}.flac", signals[name], SR, "flac")
                preview = folder / f"{name}.preview.mp3"
                af.ffmpeg(["-i", str(flac), "-c:a", "libmp3lame", "-b:a", "128k", str(preview)])
                made[name] = (flac.read_bytes(), preview.read_bytes(), waveform_peaks(signals[name]))
        _FAKE_SONG_FILES[seconds] = made
    return _FAKE_SONG_FILES[seconds]


@contextlib.contextmanager
def _analysis_remembered():
    """analysis.analyse_file, computed once per file content and arguments in this process (it is
    deterministic, and tests/audio/test_analysis.py tests it); each caller gets a copy of the result."""
    real = analysis.analyse_file

    def remembered(path, **kwargs):
        key = (hashlib.sha256(Path(path).read_bytes()).hexdigest(), tuple(sorted(kwargs.items())))
        if key not in _ANALYSES:
            _ANALYSES[key] = real(path, **kwargs)
        return copy.deepcopy(_ANALYSES[key])

    with mock.patch.object(analysis, "analyse_file", remembered):
        yield


def make_track_with_fake_stems(user, folder: Path, *, seconds: float = 6.0, title: str = "Stem test song"):
    """Upload the song (the sum of its parts) through do_upload_track, analyse it in this process, and store
    the parts as an htdemucs stem set through do_store_stems. Returns (track, stem_set)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import Job
    from stems.models import StemSet

    folder.mkdir(parents=True, exist_ok=True)
    files = _fake_song_files(seconds)
    song_path = folder / "song.wav"
    song_path.write_bytes(files["song"])
    upload = SimpleUploadedFile(f"{title}.wav", song_path.read_bytes(), content_type="audio/wav")
    track = tracks_services.do_upload_track(user, upload, title=title, artist="Stemcrate Tests").track
    with _analysis_remembered():
        perform_job("analyse", str(Job.objects.about(track).latest("queued_at").pk))
    track.refresh_from_db()

    stems = []
    for name in FAKE_STEM_NAMES:
        flac_bytes, preview_bytes, peaks = files[name]
        flac = folder / f"{name}.flac"
        flac.write_bytes(flac_bytes)
        preview = folder / f"{name}.preview.mp3"
        preview.write_bytes(preview_bytes)
        stems.append(
            {
                "name": name,
                "path": str(flac),
                "preview_path": str(preview),
                "peaks": list(peaks),
                "duration": round(seconds * SR) / SR,
                "sample_rate": SR,
                "channels": 2,
            }
        )
    params = {"model": "htdemucs", "shifts": 1, "overlap": 0.25, "two_stems": None, "segment": None}
    stems_services.do_store_stems(
        track, job=None, model_name="htdemucs", model_version="test", params=params, stems=stems
    )
    return track, StemSet.objects.filter(track=track).latest("created_at")


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium and chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="stemcrate-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--mute-audio",
            "--window-size=1280,900",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(20)
        try:
            yield driver
        finally:
            driver.quit()


def sign_in(browser, live_server, username: str, password: str) -> None:
    """Through the real sign-in form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server.url + reverse("account_login"))
    browser.find_element(By.NAME, "login").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type='submit']").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.rstrip("/") == live_server.url)


# Screenshots the browser tests take for the docs and the session notes: var/screenshots/<name>.png, or under
# STEMCRATE_SCREENSHOTS. Widths of the walkthrough: a laptop and a phone.
DESKTOP = (1440, 900)
PHONE = (390, 844)


def save_screenshot(browser, name: str, size: tuple[int, int] | None = None) -> Path:
    """Resize the window (when `size` is given) and save a PNG of the page as it is now. Returns its path."""
    folder = Path(
        os.environ.get("STEMCRATE_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    if size:
        browser.set_window_size(*size)
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


SIDEWAYS = """
var inner = window.innerWidth;
var out = Array.prototype.filter.call(document.querySelectorAll("body *"), function (el) {
  var box = el.getBoundingClientRect();
  return box.width && box.right > inner + 1;
}).slice(0, 8).map(function (el) { return el.tagName.toLowerCase() + "." + String(el.className).trim(); });
return [document.documentElement.scrollWidth - inner, out];
"""


def sideways_overflow(browser) -> tuple[int, list[str]]:
    """(px the page scrolls sideways, up to 8 elements that stick out past the window): (0, []) on a page that
    fits. The elements are for the assertion's message."""
    overflow, out = browser.execute_script(SIDEWAYS)
    return int(overflow), out
