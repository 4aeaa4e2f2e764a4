"""A drum part's MIDI page in a real browser: the drums stem of the fake song goes through the real drum_midi job
(run inline), and its clip page shows named drum lanes instead of a keyboard, every hit drawn, lane names that
sound their drum by mouse and keyboard, the drum synth booking hits while the clock runs, the page's drum text
and options, no sideways scroll on a phone, and nothing the CSP refuses. Uses the Debian chromium and
chromedriver, like the other browser tests.
"""

import pytest

from jobs.services import perform
from midi.models import MidiClip
from midi.services import do_request_midi
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    csp_violations,
    make_track_with_fake_stems,
    save_screenshot,
    seconds_of,
    sideways_overflow,
    sign_in,
)

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLL = """
var root = document.querySelector('[data-roll]');
var audio = root.querySelector('audio');
return {mode: root.getAttribute('data-roll-mode'), lanes: root.getAttribute('data-roll-lanes'),
        hits: parseInt(root.getAttribute('data-roll-hits') || '-1', 10),
        drawn: parseInt(root.getAttribute('data-roll-drawn') || '-1', 10),
        scheduled: parseInt(root.getAttribute('data-scheduled') || '0', 10),
        auditions: parseInt(root.getAttribute('data-auditions') || '0', 10),
        position: parseFloat(root.getAttribute('data-position')), playMode: root.getAttribute('data-mode'),
        time: audio.currentTime, paused: audio.paused, muted: audio.muted};
"""


def test_a_drum_part_shows_named_lanes_and_plays_drums(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    user = django_user_model.objects.create_user("drummer", "drummer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    drums = stem_set.stems.get(name="drums")
    job = do_request_midi(track, stem=drums, options={})
    perform("drum_midi", str(job.pk))
    clip = MidiClip.objects.get(track=track, stem=drums)
    assert clip.is_drums and clip.notes, "the drum job stored no hits from the fake drums stem"
    lane_pitches = []
    for note in clip.notes:
        if note[2] not in lane_pitches:
            lane_pitches.append(note[2])

    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    browser.set_window_size(*DESKTOP)
    sign_in(browser, live_server, "drummer", PASSWORD)
    collect_console()
    browser.get(live_server.url + clip.get_absolute_url())
    roll = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-roll].is-enhanced")))

    # Drum mode: one lane per drum note the clip holds, named, in the page's order (the lanes of audio/drum_midi).
    from audio import drum_midi

    expected = [name for pitch, name in drum_midi.LANES if pitch in lane_pitches]
    state = browser.execute_script(ROLL)
    assert state["mode"] == "drums"
    assert state["lanes"].split("|") == expected, (state["lanes"], expected)
    buttons = roll.find_elements(By.CSS_SELECTOR, "[data-roll-lanes] button[data-lane-pitch]")
    assert [b.find_element(By.CSS_SELECTOR, ".roll-lane-name").text for b in buttons] == expected
    assert sum(int(b.get_attribute("data-lane-hits")) for b in buttons) == len(clip.notes)
    assert state["hits"] == len(clip.notes)

    # The page speaks of a drum part, and shows the drum job's options.
    page = browser.find_element(By.ID, "main").text
    assert "Drum part · General MIDI channel 10" in page
    assert "Preset" not in browser.find_element(By.CSS_SELECTOR, ".file-facts").text
    details = browser.find_element(By.CSS_SELECTOR, ".tx-details").text
    assert "Quantise strength\nOff" in details and "Humanise\noff" in details, details
    assert "Kept instruments\nKick, Snare" in details and "Onset sensitivity" in details, details
    assert "Grid\n1/16 notes" in details and "Seed" not in details, details
    assert browser.find_element(By.CSS_SELECTOR, "[data-midi-count]").text == str(len(clip.notes))

    # Show the whole clip: every hit is drawn on the roll.
    roll.find_element(By.CSS_SELECTOR, "[data-roll-fit]").click()
    wait.until(lambda d: d.execute_script(ROLL)["drawn"] == len(clip.notes))
    save_screenshot(browser, "drum-roll-desktop", DESKTOP)

    # A lane name auditions its drum: by mouse on the roll's gutter, and by keyboard on the lane list.
    view = roll.find_element(By.CSS_SELECTOR, "[data-roll-view]")
    ActionChains(browser).move_to_element_with_offset(
        view, -view.size["width"] // 2 + 20, -view.size["height"] // 2 + 22 + 10
    ).click().perform()
    wait.until(lambda d: d.execute_script(ROLL)["auditions"] == 1)
    buttons[0].send_keys(Keys.ENTER)
    wait.until(lambda d: d.execute_script(ROLL)["auditions"] == 2)
    assert browser.execute_script(ROLL)["paused"]  # auditioning does not start playback

    # "Notes only": the drum synth books hits on the audio clock, and the clock moves.
    roll.find_element(By.CSS_SELECTOR, "label[for='roll-mode-notes']").click()
    clock = roll.find_element(By.CSS_SELECTOR, "[data-roll-time]")
    browser.execute_script("document.activeElement.blur();")
    ActionChains(browser).send_keys(Keys.SPACE).perform()  # the keyboard works as on a pitched roll
    wait.until(lambda d: seconds_of(clock.text) > 1.2)
    wait.until(lambda d: d.execute_script(ROLL)["scheduled"] >= 2)
    state = browser.execute_script(ROLL)
    assert state["playMode"] == "notes" and state["muted"] and not state["paused"], state
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: d.execute_script(ROLL)["paused"])
    ActionChains(browser).send_keys(Keys.HOME).perform()
    wait.until(lambda d: d.execute_script(ROLL)["time"] < 0.05)

    # A phone: no sideways scroll, the lanes still there.
    browser.set_window_size(*PHONE)
    wait.until(lambda d: sideways_overflow(d)[0] <= 0)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", roll)
    save_screenshot(browser, "drum-roll-phone", PHONE)
    assert sideways_overflow(browser)[0] <= 0, sideways_overflow(browser)

    collect_console()
    errors = [line for line in console if "SEVERE" in line or "Uncaught" in line]
    assert not errors, "\n".join(errors)
    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


def test_a_full_kit_gets_every_lane_and_every_drum_sound(live_server, browser, django_user_model, tmp_path):
    """Every lane of audio/drum_midi.LANES, stored the way the drum job stores a clip: sixteen named rows in
    that order, the wider gutter fits the longest name, every hit drawn, and in "Notes only" the synth books
    each drum voice (kick, toms, snare, clap, side stick, hats, cymbals, cowbell) with no script error."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from audio import drum_midi
    from midi import services as midi_services

    user = django_user_model.objects.create_user("drummer", "drummer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    drums = stem_set.stems.get(name="drums")
    # One hit of each lane every 0.25 s, bottom (kick) first, over the first four seconds.
    pitches = [pitch for pitch, _ in reversed(drum_midi.LANES)]
    notes = [[round(i * 0.25, 3), round(i * 0.25 + drum_midi.NOTE_LENGTH, 3), pitches[i % 16], 40 + (i * 7) % 88]
             for i in range(16)]  # fmt: skip
    path = tmp_path / "drums.mid"
    path.write_bytes(
        drum_midi.to_midi_bytes([drum_midi.DrumNote(n[0], n[2], n[3], "kick", 1.0) for n in notes], bpm=120.0)
    )
    clip = midi_services.do_store_midi(
        track, stem=drums, source="drums", job=None, preset="drums", params=drum_midi.clean_options({}),
        notes=notes, midi_path=str(path), bpm=120.0, quantised=False,
    )  # fmt: skip
    assert clip.is_drums
    wait = WebDriverWait(browser, 15)
    console = []

    browser.set_window_size(*DESKTOP)
    sign_in(browser, live_server, "drummer", PASSWORD)
    console.extend(entry["message"] for entry in browser.get_log("browser"))
    browser.get(live_server.url + clip.get_absolute_url())
    roll = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-roll].is-enhanced")))
    state = browser.execute_script(ROLL)
    assert state["mode"] == "drums"
    assert state["lanes"].split("|") == [name for _, name in drum_midi.LANES]
    assert state["hits"] == 16 and state["drawn"] == 16, state
    # Sixteen rows: the roll is taller than the two-lane one, and no row is squeezed below 14 px.
    view = roll.find_element(By.CSS_SELECTOR, "[data-roll-view]")
    assert (view.size["height"] - 24) / 16 >= 14, view.size

    roll.find_element(By.CSS_SELECTOR, "label[for='roll-mode-notes']").click()
    roll.find_element(By.CSS_SELECTOR, "[data-roll-toggle]").click()
    try:
        wait.until(lambda d: d.execute_script(ROLL)["scheduled"] >= 16)
    except TimeoutException:
        raise AssertionError((browser.execute_script(ROLL), browser.get_log("browser"))) from None
    # (every hit, so every drum voice, was booked)
    roll.find_element(By.CSS_SELECTOR, "[data-roll-toggle]").click()
    save_screenshot(browser, "drum-roll-full-kit", DESKTOP)

    console.extend(entry["message"] for entry in browser.get_log("browser"))
    errors = [line for line in console if "SEVERE" in line or "Uncaught" in line]
    assert not errors, "\n".join(errors)
    assert not csp_violations(console)
