"""The MIDI and lyrics pages in a real browser: the piano roll plays (its playhead and clock move, the synth books
notes on the audio clock), zooms and seeks; the karaoke view lights the word being sung, seeks from a line, and
saves and reverts an edit through htmx while the audio keeps its place. All under the strict CSP.

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker and no model weights needed
(the clip and the lyrics are stored the way the jobs store them).
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from lyrics import services as lyrics_services
from midi import services as midi_services
from tests.browser.conftest import csp_violations, make_track_with_fake_stems, seconds_of, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLL = """
var root = document.querySelector('[data-roll]');
var audio = root.querySelector('audio');
return {position: parseFloat(root.getAttribute('data-position')),
        viewStart: parseFloat(root.getAttribute('data-view-start')),
        scheduled: parseInt(root.getAttribute('data-scheduled') || '0', 10), mode: root.getAttribute('data-mode'),
        time: audio.currentTime, paused: audio.paused, muted: audio.muted};
"""
# Whether the roll's canvas has anything drawn where the notes are (not only the background).
CANVAS_PIXELS = """
var canvas = document.querySelector('[data-roll-canvas]');
var data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
var colours = {};
for (var i = 0; i < data.length; i += 4 * 97) { colours[data[i] + ',' + data[i + 1] + ',' + data[i + 2]] = 1; }
return Object.keys(colours).length;
"""
AUDIO = "var a = document.querySelector(arguments[0]); return {time: a.currentTime, paused: a.paused};"


def screenshot(browser, tmp_path, name: str, element=None) -> None:
    """Into $STEMCRATE_SCREENSHOT_DIR (or the test's folder), with `element` scrolled to the middle."""
    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    if element is not None:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    path = shots / name
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 0


def full_page_screenshot(browser, tmp_path, name: str) -> None:
    width, height = browser.get_window_size()["width"], browser.get_window_size()["height"]
    page_height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.set_window_size(width, min(page_height + 140, 4000))
    try:
        screenshot(browser, tmp_path, name)
    finally:
        browser.set_window_size(width, height)


def confirm_in_dialog(browser, wait, label: str) -> None:
    """Say yes in the app's confirmation dialog (templates/includes/confirm_dialog.html)."""
    from selenium.webdriver.common.by import By

    yes = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[data-confirm-dialog][open] [data-confirm-yes]"))
    assert yes.text == label
    yes.click()


def bass_notes(seconds: float) -> list:
    """The fake bass stem's line (tests/browser/conftest.py): a root plucked on every beat at 120 BPM."""
    roots = [33, 38, 40, 33]  # A1, D2, E2, A1: a chord every two seconds
    notes, t = [], 0.0
    while t + 0.4 <= seconds:
        notes.append([round(t, 3), round(t + 0.4, 3), roots[int(t // 2) % 4], 70 + int(t * 10) % 50])
        t += 0.5
    return notes


def test_the_piano_roll_plays_zooms_and_seeks(live_server, browser, django_user_model, tmp_path):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from audio import midi
    from midi.models import MidiClip

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    bass = stem_set.stems.get(name="bass")
    notes = bass_notes(6.0)
    path = tmp_path / "bass.mid"
    path.write_bytes(midi.to_midi_bytes([midi.Note(*n) for n in notes], bpm=120.0))
    clip = midi_services.do_store_midi(
        track, stem=bass, source="bass", job=None, preset="bass", params={}, notes=notes, midi_path=str(path),
        bpm=120.0, quantised=False,
    )  # fmt: skip
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    sign_in(browser, live_server, "producer", PASSWORD)
    collect_console()
    browser.get(live_server.url + reverse("midi:midi", args=[clip.pk]))
    roll = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-roll].is-enhanced")))
    assert browser.find_element(By.CSS_SELECTOR, "[data-midi-count]").text == str(len(notes))
    assert not browser.find_element(By.CSS_SELECTOR, "[data-roll-audio]").is_displayed()  # the roll's own transport
    wait.until(lambda d: d.execute_script(CANVAS_PIXELS) > 6)  # keys, rows, grid and notes are drawn
    state = browser.execute_script(ROLL)
    assert state["mode"] == "both" and not state["muted"] and state["position"] == 0

    # Play: the clock and the playhead move, and the synth books the notes on the audio's clock.
    clock = roll.find_element(By.CSS_SELECTOR, "[data-roll-time]")
    play = roll.find_element(By.CSS_SELECTOR, "[data-roll-toggle]")
    play.click()
    wait.until(lambda d: seconds_of(clock.text) > 1.2)
    state = browser.execute_script(ROLL)
    assert not state["paused"] and state["position"] > 1.0, state
    assert play.get_attribute("aria-label") == "Pause"
    assert roll.get_attribute("class").find("is-playing") >= 0
    wait.until(lambda d: d.execute_script(ROLL)["scheduled"] >= 2)
    assert roll.find_element(By.CSS_SELECTOR, "[data-roll-bar]").text.startswith("Bar ")

    # "Notes only" mutes the stem (it still runs, as the clock); "Stem only" brings it back.
    roll.find_element(By.CSS_SELECTOR, "label[for='roll-mode-notes']").click()
    state = browser.execute_script(ROLL)
    assert state["mode"] == "notes" and state["muted"] and not state["paused"]
    roll.find_element(By.CSS_SELECTOR, "label[for='roll-mode-stem']").click()
    assert browser.execute_script(ROLL)["muted"] is False
    roll.find_element(By.CSS_SELECTOR, "label[for='roll-mode-both']").click()

    # Space pauses (focus on the page, not a text field).
    browser.execute_script("document.activeElement.blur();")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: d.execute_script(ROLL)["paused"] and play.get_attribute("aria-label") == "Play")

    # Zoom in: fewer bars across, the label says so.
    label = roll.find_element(By.CSS_SELECTOR, "[data-roll-zoom-label]")
    before = label.text
    roll.find_element(By.CSS_SELECTOR, "[data-roll-zoom='in']").click()
    roll.find_element(By.CSS_SELECTOR, "[data-roll-zoom='in']").click()
    assert label.text != before, (before, label.text)

    # Fit, then click three quarters of the way along the lane: the audio jumps there.
    roll.find_element(By.CSS_SELECTOR, "[data-roll-fit]").click()
    view = roll.find_element(By.CSS_SELECTOR, "[data-roll-view]")
    width = view.size["width"]
    lane_x = 58 + (width - 58) * 0.75  # the keys take the first 58 px
    ActionChains(browser).move_to_element_with_offset(view, int(lane_x - width / 2), 0).click().perform()
    state = browser.execute_script(ROLL)
    assert 3.8 < state["time"] < 5.2, state
    assert abs(state["position"] - state["time"]) < 0.1
    assert seconds_of(clock.text) > 3.5

    # Play again from there; the playhead follows to the end.
    play.click()
    wait.until(lambda d: d.execute_script(ROLL)["position"] > state["time"] + 0.3)
    screenshot(browser, tmp_path, "midi-roll-playing.png", roll)
    play.click()
    full_page_screenshot(browser, tmp_path, "midi-page.png")

    # The .mid link serves the file.
    link = browser.find_element(By.CSS_SELECTOR, "[data-midi-download]")
    assert link.get_attribute("href").endswith(reverse("midi:midi_file", args=[clip.pk]))
    collect_console()

    # Delete asks (the app's dialog), then lands on the track's page with a message.
    browser.find_element(By.CSS_SELECTOR, ".danger-zone .btn-danger").click()
    confirm_in_dialog(browser, wait, "Delete MIDI")
    wait.until(lambda d: d.current_url.endswith(reverse("tracks:track", args=[track.pk])))
    try:
        wait.until(lambda d: "Deleted the bass MIDI clip." in d.find_element(By.ID, "main").text)
    except TimeoutException:
        main = browser.find_element(By.ID, "main").get_attribute("innerHTML")[:3000]
        raise AssertionError(f"no message on {browser.current_url}:\n{main}") from None
    assert not MidiClip.objects.filter(pk=clip.pk).exists()
    collect_console()
    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


def test_the_karaoke_view_follows_the_words_and_saves_edits(live_server, browser, django_user_model, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from audio import lyrics as engine
    from lyrics.models import Lyrics

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    vocals = stem_set.stems.get(name="vocals")

    def line(start, texts, step=0.5):
        words = tuple(engine.Word(start + i * step, start + (i + 1) * step - 0.05, w, 0.9) for i, w in enumerate(texts))
        return engine.Line(words[0].start, words[-1].end, " ".join(texts), words)

    data = engine.Lyrics(
        "en",
        (line(0.2, ["la", "la", "la", "sing"]), line(2.2, ["the", "night", "away"]), line(4.0, ["oh", "oh", "yeah"])),
        "tiny",
        duration=6.0,
    )
    lyrics = lyrics_services.do_store_lyrics(
        track, stem=vocals, source="vocals", job=None, model_name="tiny", language="en", params={},
        data=data.to_dict(), text=engine.to_text(data),
    )  # fmt: skip
    # htmx replaces the panel on save and revert: an element found just before a swap may be gone just after.
    wait = WebDriverWait(browser, 15, ignored_exceptions=[StaleElementReferenceException])
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    sign_in(browser, live_server, "producer", PASSWORD)
    collect_console()
    browser.get(live_server.url + reverse("lyrics:lyrics", args=[lyrics.pk]))
    card = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-karaoke].is-enhanced")))
    assert len(card.find_elements(By.CSS_SELECTOR, ".karaoke-word")) == 10
    assert not card.find_element(By.CSS_SELECTOR, "[data-karaoke-editor]").is_displayed()  # karaoke mode first

    # Play: within a few seconds a word is lit, in a lit line.
    play = card.find_element(By.CSS_SELECTOR, "[data-karaoke-toggle]")
    play.click()
    current = WebDriverWait(browser, 5).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".karaoke-line.is-active .karaoke-word.is-current"))
    )
    assert current.text in ("la", "sing", "the", "night", "away", "oh", "yeah")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".karaoke-word.is-sung"))
    screenshot(browser, tmp_path, "lyrics-karaoke.png")
    play.click()
    wait.until(lambda d: d.execute_script(AUDIO, "[data-karaoke-audio]")["paused"])

    # Click the third line: the audio jumps to it and plays; that line lights up.
    card.find_elements(By.CSS_SELECTOR, "[data-karaoke-line]")[2].click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".karaoke-line[data-line='2'].is-active"))
    state = browser.execute_script(AUDIO, "[data-karaoke-audio]")
    assert 3.8 <= state["time"] <= 5.5 and not state["paused"], state
    # Space with the line focused pauses (it does not jump back to the line's start).
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: d.execute_script(AUDIO, "[data-karaoke-audio]")["paused"])
    assert browser.execute_script(AUDIO, "[data-karaoke-audio]")["time"] >= state["time"]
    wait.until(lambda d: play.get_attribute("aria-label") == "Play")

    # Edit: the editor replaces the lines; Save swaps in the new panel with its message, the audio keeps its place.
    at = browser.execute_script(AUDIO, "[data-karaoke-audio]")["time"]
    card.find_element(By.CSS_SELECTOR, "[data-karaoke-mode='edit']").click()
    text = card.find_element(By.CSS_SELECTOR, "[data-karaoke-text]")
    assert text.is_displayed() and not card.find_element(By.CSS_SELECTOR, "[data-karaoke-view]").is_displayed()
    text.clear()
    text.send_keys("la la la sing\nthe bright night away\noh oh yeah")
    card.find_element(By.CSS_SELECTOR, "[data-karaoke-form] button[type='submit']").click()
    notice = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".karaoke-notice")))
    assert "Saved; word timings kept where words still match" in notice.text
    assert card.find_element(By.CSS_SELECTOR, "[data-edited-badge]").is_displayed()
    assert card.find_element(By.CSS_SELECTOR, "[data-karaoke-view]").is_displayed()  # back to karaoke
    assert "bright" in card.find_element(By.CSS_SELECTOR, ".karaoke-line[data-line='1']").text
    assert abs(browser.execute_script(AUDIO, "[data-karaoke-audio]")["time"] - at) < 0.05
    lyrics.refresh_from_db()
    assert lyrics.edited and "bright" in lyrics.text
    screenshot(browser, tmp_path, "lyrics-saved.png", card)

    # The new words light up too.
    card.find_elements(By.CSS_SELECTOR, "[data-karaoke-line]")[1].click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".karaoke-line[data-line='1'] .karaoke-word.is-current"))
    play.click()

    # Revert asks first, then brings Whisper's words back.
    card.find_element(By.CSS_SELECTOR, "[data-karaoke-mode='edit']").click()
    card.find_element(By.CSS_SELECTOR, ".karaoke-revert").click()
    confirm_in_dialog(browser, wait, "Revert")
    wait.until(lambda d: "Reverted" in d.find_element(By.CSS_SELECTOR, ".karaoke-notice").text)
    assert not card.find_elements(By.CSS_SELECTOR, "[data-edited-badge]")
    assert not Lyrics.objects.get(pk=lyrics.pk).edited
    full_page_screenshot(browser, tmp_path, "lyrics-page.png")
    collect_console()
    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
