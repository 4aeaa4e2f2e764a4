"""Row auditions in the library, in a real browser: two analysed tracks, each row's waveform drawn from its peaks,
play from the row (the clock of the page's one <audio> moves, the button says "Pause"), a second row stops the
first, a click on the waveform seeks, the keyboard reaches and works the button, Escape stops, the rows still
work after htmx swaps #results, and at 390 px the page does not scroll sideways. The CSP refuses nothing.
"""

import math
import struct
import wave
from pathlib import Path

import pytest
from django.urls import reverse

from core.waveform import wave_path
from tests.browser.conftest import DESKTOP, PHONE, csp_violations, save_screenshot, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATE = """
var audio = document.querySelector("[data-audition-audio]");
return {src: audio.getAttribute("src") || "", time: audio.currentTime, paused: audio.paused,
        playing: Array.from(document.querySelectorAll("[data-audition].is-playing")).map(function (row) {
          return row.getAttribute("data-title"); }),
        overflow: document.documentElement.scrollWidth - window.innerWidth};
"""


def write_pulse_wav(path: Path, seconds: float, freq: float, rate: int = 44100) -> Path:
    """A stereo 16-bit tone that swells and fades (every 3 s, with a pulse on each beat at 120 BPM), so its peaks
    are anything but flat."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        envelope = (0.1 + 0.9 * abs(math.sin(math.pi * t / 3))) * (0.35 + 0.65 * math.exp(-((t % 0.5) / 0.12)))
        sample = int(envelope * 0.5 * 32767 * math.sin(2 * math.pi * freq * t))
        frames += struct.pack("<hh", sample, sample)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def make_analysed_track(user, folder: Path, title: str, freq: float, seconds: float = 8.0):
    """Upload a WAV through the service and run its analysis job in this process (peaks, status ready)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jobs.models import Job
    from jobs.services import perform
    from tracks import services

    path = write_pulse_wav(folder / f"{title}.wav", seconds, freq)
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="audio/wav")
    track = services.do_upload_track(user, upload, title=title).track
    perform("analyse", str(Job.objects.about(track).latest("queued_at").pk))
    track.refresh_from_db()
    return track


def test_play_a_track_from_its_row(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    first = make_analysed_track(user, tmp_path, "Night Drive", 220.0)
    second = make_analysed_track(user, tmp_path, "Glass Orbit", 330.0)
    assert first.status == second.status == "ready"
    assert len(first.peaks) > 100 and max(first.peaks) == pytest.approx(1.0, abs=0.01)
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    def state():
        return browser.execute_script(STATE)

    def row(track):
        return browser.find_element(By.CSS_SELECTOR, f"[data-audition][data-track='{track.pk}']")

    def toggle(track):
        return row(track).find_element(By.CSS_SELECTOR, "[data-audition-toggle]")

    sign_in(browser, live_server, "producer", PASSWORD)
    browser.set_window_size(*DESKTOP)
    browser.get(live_server.url + reverse("tracks:index"))
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, f"[data-audition][data-track='{first.pk}'] button")))
    collect_console()

    # The waveform is the track's peaks, not the flat line of a track without them.
    for track in (first, second):
        drawn = row(track).find_element(By.CSS_SELECTOR, "[data-audition-path]").get_attribute("d")
        assert drawn == wave_path(track.peaks)
        assert drawn != wave_path([])
        assert drawn.count("M") == 48  # a bar per bucket
    assert toggle(first).tag_name == "button"
    # The new column fits: at the desktop width the track table does not scroll sideways.
    wrap = browser.execute_script(
        "var w = document.querySelector('.table-wrap'); return [w.scrollWidth, w.clientWidth];"
    )
    assert wrap[0] <= wrap[1], wrap
    assert toggle(first).get_attribute("aria-label") == "Play Night Drive"

    # Play from the row: the page's audio plays this track's audio and its clock moves.
    toggle(first).click()
    wait.until(lambda d: state()["time"] > 0.5)
    now = state()
    assert not now["paused"] and now["src"].endswith(reverse("tracks:track_audio", args=[first.pk]))
    assert now["playing"] == ["Night Drive"]
    assert toggle(first).get_attribute("aria-label") == "Pause"
    clip = float(row(first).find_element(By.CSS_SELECTOR, "[data-audition-clip]").get_attribute("width"))
    assert clip > 0  # the played part of the waveform grows
    assert "is-visible" in row(first).find_element(By.CSS_SELECTOR, "[data-audition-head]").get_attribute("class")
    wait.until(lambda d: state()["time"] > 2.0)  # a quarter in, for the screenshot
    save_screenshot(browser, "library-rows-desktop", DESKTOP)

    # Another row stops the first: one track at a time, and the first goes back to "Play" and its start.
    toggle(second).click()
    wait.until(
        lambda d: state()["src"].endswith(reverse("tracks:track_audio", args=[second.pk])) and state()["time"] > 0.3
    )
    now = state()
    assert now["playing"] == ["Glass Orbit"] and not now["paused"]
    assert toggle(first).get_attribute("aria-label") == "Play Night Drive"
    assert row(first).find_element(By.CSS_SELECTOR, "[data-audition-clip]").get_attribute("width") == "0.00"
    assert browser.execute_script("return document.querySelectorAll('audio').length") == 1

    # A click on the waveform seeks: three quarters in, of an 8 s track.
    wave = row(second).find_element(By.CSS_SELECTOR, "[data-audition-wave]")
    ActionChains(browser).move_to_element_with_offset(wave, int(wave.size["width"] * 0.25), 0).click().perform()
    wait.until(lambda d: 5.5 < state()["time"] < 8.0)
    assert not state()["paused"]

    # Pause with the button; the row says "Play" again and keeps its place.
    toggle(second).click()
    wait.until(lambda d: state()["paused"])
    assert toggle(second).get_attribute("aria-label") == "Play Glass Orbit"

    # Keyboard: Tab from the top of the page reaches a row's play button; Space plays, Enter pauses, Escape stops.
    browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    reached = None
    for _ in range(80):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if focused.get_attribute("data-audition-toggle") is not None:
            reached = focused
            break
    assert reached is not None, "Tab never reached a row's play button"
    focused_title = reached.find_element(By.XPATH, "./ancestor::*[@data-audition]").get_attribute("data-title")
    assert reached.get_attribute("aria-label") == f"Play {focused_title}"
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", reached)
    assert outline != "none"  # the focus is visible
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: not state()["paused"] and state()["playing"] == [focused_title])
    assert reached.get_attribute("aria-label") == "Pause"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait.until(lambda d: state()["paused"])
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait.until(lambda d: not state()["paused"])
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    wait.until(lambda d: state()["paused"] and not state()["playing"])
    assert reached.get_attribute("aria-label") == f"Play {focused_title}"

    # After htmx swaps #results (a search), the new rows play too: the listeners are delegated.
    search = browser.find_element(By.ID, "filter-q")
    search.send_keys("Glass")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-audition]")) == 1)
    swapped = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[data-audition] [data-audition-toggle]")))
    swapped.click()
    wait.until(lambda d: not state()["paused"] and state()["playing"] == ["Glass Orbit"] and state()["time"] > 0.3)
    swapped.click()
    wait.until(lambda d: state()["paused"])
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-audition]")) == 2)
    collect_console()

    # The phone: no sideways scroll, and the row still plays.
    browser.set_window_size(*PHONE)
    browser.get(live_server.url + reverse("tracks:index"))
    button = wait.until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, f"[data-audition][data-track='{first.pk}'] button"))
    )
    assert browser.execute_script("return window.innerWidth") <= PHONE[0]
    assert state()["overflow"] <= 0, state()
    wave_box = row(first).find_element(By.CSS_SELECTOR, "[data-audition-wave]").rect
    row_box = browser.find_element(By.ID, f"track-{first.pk}").rect
    assert wave_box["width"] > 150  # the waveform spans the stacked row
    assert wave_box["x"] + wave_box["width"] <= row_box["x"] + row_box["width"] + 0.5
    button.click()
    wait.until(lambda d: state()["time"] > 0.5)
    assert state()["overflow"] <= 0
    save_screenshot(browser, "library-rows-phone", PHONE)
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


def test_a_row_that_finishes_analysing_gets_its_play_button(live_server, browser, django_user_model, tmp_path):
    """A row polls while its track is analysed (no button then); the row htmx swaps in when analysis is over has
    a button that shows and plays, with no page load in between."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tracks.models import Track

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track = make_analysed_track(user, tmp_path, "Late Tape", 262.0, seconds=4.0)
    Track.objects.filter(pk=track.pk).update(status=Track.Status.ANALYSING)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:index"))
    row = WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.ID, f"track-{track.pk}")))
    assert not row.find_elements(By.CSS_SELECTOR, "[data-audition]")
    browser.execute_script("window.notReloaded = true;")

    Track.objects.filter(pk=track.pk).update(status=Track.Status.READY)
    selector = f"#track-{track.pk} [data-audition-toggle]"
    button = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))
    assert browser.execute_script("return window.notReloaded === true;")
    assert button.get_attribute("aria-label") == "Play Late Tape"
    button.click()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.querySelector('[data-audition-audio]').currentTime") > 0.3
    )
    assert button.get_attribute("aria-label") == "Pause"
    refused = csp_violations([entry["message"] for entry in browser.get_log("browser")])
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
