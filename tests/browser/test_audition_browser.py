"""Audition like an instrument (docs/audition.md, static/js/audition.js) in a real browser.

Three samples of one track (120 BPM, D minor), stored through do_store_samples from WAVs made here: a 4 s loop
(two bars: it follows tempo and key), a 0.5 s bass note A3 (a one-shot: key only) and a 0.3 s kick with no note
(a hit: played as it is). On /samples/ the bar is reached with Tab and worked with the keyboard; a session target
of 90 BPM in C major is set, survives a reload, and is applied: the loop is rendered by signalsmith-stretch to
x120/90 of its length and -5 semitones (D minor's relative major F to C), the A3 note repitched +3 semitones
(playbackRate 2^(3/12)); a press before a new target's render is done plays the plain buffer repitched. L loops:
a hit keeps sounding past its end. Every key-started audition's latency, key press to output, is read from the
page and must be <= 50 ms. The CSP (script-src 'self' 'wasm-unsafe-eval') must refuse nothing: the stretch's
worklet is a static file, not a blob:.
"""

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from tests import audio_factory as af
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    csp_violations,
    make_track_with_fake_stems,
    save_screenshot,
    seconds_of,
    sign_in,
)

PASSWORD = "correct-horse-battery-9"
SR = 44100
LATENCY_BUDGET_MS = 50.0
PRESSES = 8

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Scroll an element to the top of the view, below the sticky site header.
SCROLL_UNDER_HEADER = """
var element = document.querySelector(arguments[0]);
var header = document.querySelector("header");
var below = header ? header.getBoundingClientRect().height : 0;
var top = element.getBoundingClientRect().top + window.scrollY - below - 8;
window.scrollTo(0, Math.max(0, top));
"""
# The rendered loop (the page's own audition module): where the loudest moment is near each expected beat.
BEATS_IN_RENDER = """
var id = arguments[0], spacing = arguments[1], count = arguments[2], done = arguments[arguments.length - 1];
import("/static/js/audition.js").then(function (audition) {
  var buffer = audition.renderedBuffer(document.getElementById(id));
  var data = buffer.getChannelData(0), rate = buffer.sampleRate, beats = [];
  for (var k = 0; k < count; k++) {
    var at = k * spacing, best = 0, where = 0;
    var from = Math.max(0, Math.round((at - 0.1) * rate)), to = Math.min(data.length, Math.round((at + 0.1) * rate));
    for (var i = from; i < to; i++) { if (Math.abs(data[i]) > best) { best = Math.abs(data[i]); where = i; } }
    beats.push([at, where / rate, best]);
  }
  done(beats);
});
"""
# Through the page's own audition module: a session target of 100 BPM, and a start in the same task.
START_BEFORE_RENDER = """
var id = arguments[0], done = arguments[arguments.length - 1];
import("/static/js/audition.js").then(function (audition) {
  var item = document.getElementById(id);
  audition.setTarget({mode: "session", bpm: 100, key: "C major"});
  audition.start(item, {});
  var last = JSON.parse(document.documentElement.getAttribute("data-audition-last"));
  var applied = document.querySelector("[data-audition-applied]").textContent;
  audition.stop();
  done({last: last, applied: applied});
});
"""
LAST = "return JSON.parse(document.documentElement.getAttribute('data-audition-last') || 'null');"
LATENCY = "return document.documentElement.getAttribute('data-audition-latency-ms');"


def _wav(folder: Path, name: str, signal: np.ndarray) -> str:
    stereo = np.stack([signal, signal]).astype(np.float32)
    return str(af.write(folder / f"{name}.wav", stereo, SR, "wav"))


def _sample_info(path, index, seconds, *, category, note=""):
    embedding = np.zeros(64, dtype=np.float32)
    embedding[index] = 1.0
    return {
        "path": path, "index": index, "start": index * 5.0, "end": index * 5.0 + seconds, "onset": index * 5.0,
        "duration": seconds, "sample_rate": SR, "channels": 2, "peaks": [0.5] * 48, "peak_db": -6.0,
        "loudness": -14.0, "gain_db": 0.0, "note": note, "pitch_confidence": 0.9 if note else 0.0,
        "category": category, "confidence": 0.9, "embedding": embedding.tobytes(),
    }  # fmt: skip


def make_samples(user, folder: Path):
    """(track, {"loop": sample, "note": sample, "hit": sample}) from one track set to 120 BPM in D minor."""
    from samples.services import do_store_samples
    from tracks.models import Track

    track, _ = make_track_with_fake_stems(user, folder / "parts", seconds=4.0, title="Audition song")
    Track.objects.filter(pk=track.pk).update(bpm=120.0, key="D", scale="minor")
    track.refresh_from_db()
    folder.mkdir(parents=True, exist_ok=True)
    t4 = np.arange(round(4.0 * SR)) / SR
    # A D plucked on every beat, with a click at each beat that says where the beat is.
    loop = 0.2 * np.sin(2 * np.pi * 293.66 * t4) * np.exp(-(t4 % 0.5) / 0.15)
    loop += 0.7 * np.sin(2 * np.pi * 1000 * t4) * ((t4 % 0.5) < 0.005)
    t_note = np.arange(round(0.5 * SR)) / SR
    note = 0.5 * np.sin(2 * np.pi * 220.0 * t_note) * np.exp(-t_note / 0.3)  # A3
    t_hit = np.arange(round(0.3 * SR)) / SR
    hit = 0.8 * np.sin(2 * np.pi * 60 * t_hit) * np.exp(-t_hit / 0.05)  # a kick
    infos = [
        _sample_info(_wav(folder, "loop", loop), 0, 4.0, category="keys"),
        _sample_info(_wav(folder, "note", note), 1, 0.5, category="bass", note="A3"),
        _sample_info(_wav(folder, "hit", hit), 2, 0.3, category="kick"),
    ]
    rows = do_store_samples(track, stem=None, source="mix", job=None, samples=infos)
    return track, dict(zip(("loop", "note", "hit"), rows, strict=True))


def test_audition_loop_target_stretch_repitch_latency_and_keyboard(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    _track, samples = make_samples(user, tmp_path / "samples")
    ids = {kind: f"sample-{sample.pk}" for kind, sample in samples.items()}
    wait = WebDriverWait(browser, 20)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    def keys(*sequence):
        ActionChains(browser).send_keys(*sequence).perform()

    def active_in_bar():
        return browser.execute_script(
            "var a = document.activeElement; return !!(a && a.closest && a.closest('[data-audition-bar]'));"
        )

    def focus_card(kind):
        browser.execute_script("document.getElementById(arguments[0]).focus();", ids[kind])

    def playing(kind):
        return "is-playing" in browser.find_element(By.ID, ids[kind]).get_attribute("class")

    def open_browser_page():
        browser.get(live_server.url + reverse("samples:samples") + "?sort=source")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "html.samples-js [data-audition-bar]")))

    sign_in(browser, live_server, "producer", PASSWORD)
    open_browser_page()

    # The data the audition reads, on every card: the source track's tempo and key, the sample's note and kind.
    loop_card = browser.find_element(By.ID, ids["loop"])
    assert loop_card.get_attribute("data-kind") == "loop"
    assert float(loop_card.get_attribute("data-bpm")) == 120.0
    assert loop_card.get_attribute("data-key") == "D minor"
    note_card = browser.find_element(By.ID, ids["note"])
    assert (note_card.get_attribute("data-kind"), note_card.get_attribute("data-note")) == ("note", "A3")
    assert browser.find_element(By.ID, ids["hit"]).get_attribute("data-kind") == "hit"

    # Tab reaches the bar: its first control is the loop button.
    browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    for _ in range(40):
        keys(Keys.TAB)
        if active_in_bar():
            break
    assert active_in_bar(), "Tab never reached the audition bar"
    loop_button = browser.find_element(By.CSS_SELECTOR, "[data-audition-loop]")
    assert browser.switch_to.active_element == loop_button
    assert loop_button.get_attribute("aria-pressed") == "false"
    keys(Keys.SPACE)  # a button: Space presses it
    assert loop_button.get_attribute("aria-pressed") == "true"
    keys(Keys.SPACE)
    assert loop_button.get_attribute("aria-pressed") == "false"

    # The target, by keyboard: Tab to the "Off" radio, the arrows move to "Its track" then "Session".
    keys(Keys.TAB)
    mode = browser.switch_to.active_element
    assert mode.get_attribute("data-audition-mode") is not None and mode.get_attribute("value") == "off"
    keys(Keys.ARROW_RIGHT)
    assert browser.find_element(By.CSS_SELECTOR, "[data-audition-mode][value='track']").is_selected()
    keys(Keys.ARROW_RIGHT)
    assert browser.find_element(By.CSS_SELECTOR, "[data-audition-mode][value='session']").is_selected()
    session = browser.find_element(By.CSS_SELECTOR, "[data-audition-session]")
    assert session.is_displayed()
    keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("data-audition-bpm") is not None
    keys("90", Keys.TAB)  # the change lands when the field is left
    assert browser.switch_to.active_element.get_attribute("data-audition-key") is not None
    Select(browser.switch_to.active_element).select_by_value("C major")
    wait.until(lambda d: "90 BPM · C major" in d.find_element(By.CSS_SELECTOR, "[data-audition-target-text]").text)

    # Persisted: after a reload the bar shows the same target, and the plan for each sample follows it.
    open_browser_page()
    assert browser.find_element(By.CSS_SELECTOR, "[data-audition-mode][value='session']").is_selected()
    assert browser.find_element(By.CSS_SELECTOR, "[data-audition-bpm]").get_attribute("value") == "90"
    assert Select(browser.find_element(By.CSS_SELECTOR, "[data-audition-key]")).first_selected_option.text == (
        "C major"
    )
    applied = browser.find_element(By.CSS_SELECTOR, "[data-audition-applied]")
    focus_card("loop")
    wait.until(lambda d: "−5 st, 120→90 BPM" in applied.text)
    focus_card("note")
    wait.until(lambda d: "+3 st" in applied.text)
    focus_card("hit")
    wait.until(lambda d: "no note: as recorded" in applied.text)

    # The loop is rendered ahead (it is among the first on the page): x120/90 of its length, not silent.
    wait.until(lambda d: d.find_element(By.ID, ids["loop"]).get_attribute("data-audition-render") == "ready")
    focus_card("loop")
    keys(Keys.SPACE)
    last = browser.execute_script(LAST)
    assert last["id"] == ids["loop"] and last["how"] == "stretched", last
    assert last["semitones"] == -5 and last["rate"] == pytest.approx(90 / 120)
    ratio = last["bufferDuration"] / last["originalDuration"]
    assert ratio == pytest.approx(120 / 90, rel=0.02), last
    assert last["renderedPeak"] > 0.05, last  # the stretch rendered sound, not silence
    # And in time: each beat's click (every 0.5 s of the original) lands where 90 BPM puts it, the first one too.
    beats = browser.execute_async_script(BEATS_IN_RENDER, ids["loop"], 0.5 * 120 / 90, 8)
    print("stretched loop beats (expected s, found s, level):", beats)
    for expected, found, level in beats:
        assert abs(found - expected) < 0.010 and level > 0.3, beats
    assert playing("loop")
    keys(Keys.SPACE)  # stops it
    assert not playing("loop")

    # The one-shot A3 to the key of C: +3 semitones, a sampler's repitch.
    focus_card("note")
    keys(Keys.SPACE)
    last = browser.execute_script(LAST)
    assert last["id"] == ids["note"] and last["how"] == "repitched", last
    assert last["semitones"] == 3
    assert last["playbackRate"] == pytest.approx(2 ** (3 / 12), rel=1e-6)
    keys(Keys.SPACE)

    # Loop off: the 0.3 s kick ends by itself. L on: it keeps sounding past its end; L off: it stops at the end.
    focus_card("hit")
    keys(Keys.SPACE)
    assert playing("hit")
    wait.until(lambda d: not playing("hit"))
    keys("l")
    assert loop_button_state(browser) == "true"
    keys(Keys.SPACE)
    assert browser.execute_script(LAST)["loop"] is True
    time.sleep(1.2)  # four times the kick's length
    assert playing("hit"), "with loop on, the audition should still be sounding past the sample's end"
    keys("l")
    assert loop_button_state(browser) == "false"
    WebDriverWait(browser, 3).until(lambda d: not playing("hit"))

    # The latency, key press to the first frame at the output, over several presses (start, then stop).
    latencies = []
    for press in range(PRESSES):
        kind = ("note", "hit")[press % 2]
        focus_card(kind)
        browser.execute_script("document.documentElement.removeAttribute('data-audition-latency-ms');")
        keys(Keys.SPACE)
        value = browser.execute_script(LATENCY)
        assert value is not None, "the audition did not start through Web Audio"
        latencies.append(float(value))
        assert browser.execute_script(LAST)["how"] != "file"
        keys(Keys.SPACE)
    detail = json.loads(browser.execute_script("return document.documentElement.dataset.auditionLatencyDetail;"))
    figures = {
        "presses": latencies,
        "median_ms": statistics.median(latencies),
        "max_ms": max(latencies),
        "last_detail": detail,
    }
    print("audition latency:", json.dumps(figures))
    report = os.environ.get("STEMCRATE_AUDITION_LATENCY_FILE")
    if report:
        Path(report).write_text(json.dumps(figures, indent=2))
    assert max(latencies) <= LATENCY_BUDGET_MS, figures
    assert min(latencies) > 0, figures  # a figure measured, not a zero left standing

    # A new target, and a press before its render is done (the same task: the render cannot have finished): the
    # plain buffer plays repitched and the bar says so; once the render is ready, the next press is stretched.
    early = browser.execute_async_script(START_BEFORE_RENDER, ids["loop"])
    assert early["last"]["how"] == "repitched: the stretch is still rendering", early
    assert early["last"]["playbackRate"] == pytest.approx(2 ** (-5 / 12), rel=1e-6)
    assert early["last"]["bufferDuration"] == pytest.approx(4.0, abs=0.01)  # the plain buffer
    assert "still rendering" in early["applied"], early
    wait.until(lambda d: d.find_element(By.ID, ids["loop"]).get_attribute("data-audition-render") == "ready")
    focus_card("loop")
    keys(Keys.SPACE)
    last = browser.execute_script(LAST)
    assert last["how"] == "stretched" and last["bufferDuration"] == pytest.approx(4.0 * 120 / 100, rel=0.02), last
    keys(Keys.SPACE)
    browser.execute_script("return import('/static/js/audition.js').then(function (a) { a.setTarget({bpm: 90}); });")

    # Screenshots of the browser with its bar.
    focus_card("loop")
    save_screenshot(browser, "audition-desktop", DESKTOP)
    browser.set_window_size(*PHONE)
    browser.execute_script(SCROLL_UNDER_HEADER, "[data-audition-bar]")
    fits = browser.execute_script(
        "var r = document.querySelector('[data-audition-bar]').getBoundingClientRect();"
        "return [r.left, r.right, document.documentElement.clientWidth, document.documentElement.scrollWidth];"
    )
    assert fits[0] >= 0 and fits[1] <= fits[2], fits  # the bar fits a phone's width
    save_screenshot(browser, "audition-phone", PHONE)
    browser.set_window_size(*DESKTOP)

    # The sample page: the bar in the player; "Use this track" makes the sample's track the session target.
    browser.get(live_server.url + samples["loop"].get_absolute_url())
    hero = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.sample-hero [data-audition-bar]")))
    hero.find_element(By.CSS_SELECTOR, "[data-audition-from-track]").click()
    target_text = hero.find_element(By.CSS_SELECTOR, "[data-audition-target-text]")
    wait.until(lambda d: "120 BPM · D minor" in target_text.text)
    assert "no change" in hero.find_element(By.CSS_SELECTOR, "[data-audition-applied]").text
    hero_section = browser.find_element(By.CSS_SELECTOR, "section.sample-hero")
    assert "is-playing" not in hero_section.get_attribute("class")  # a click in the bar plays nothing
    # A click on the waveform plays from there, through the engine (decoded when the page loaded).
    wait.until(lambda d: hero_section.get_attribute("data-audition-decoded") == "yes")
    wave = hero_section.find_element(By.CSS_SELECTOR, "[data-sample-play]")
    ActionChains(browser).move_to_element_with_offset(wave, 0, 0).click().perform()  # the middle: 2.0 s in
    last = browser.execute_script(LAST)
    assert last["id"] == hero_section.get_attribute("id") and last["how"] == "as recorded", last
    clock = hero_section.find_element(By.CSS_SELECTOR, "[data-sample-time]")
    wait.until(lambda d: seconds_of(clock.text) >= 2.0)
    keys(Keys.ESCAPE)
    wait.until(lambda d: "is-playing" not in hero_section.get_attribute("class"))
    save_screenshot(browser, "audition-detail-desktop", DESKTOP)
    browser.set_window_size(*PHONE)
    browser.execute_script(SCROLL_UNDER_HEADER, "section.sample-hero")
    save_screenshot(browser, "audition-detail-phone", PHONE)
    browser.set_window_size(*DESKTOP)

    collect_console()
    assert not csp_violations(console), csp_violations(console)
    assert not [line for line in console if "audition" in line.lower() and "error" in line.lower()], console


def loop_button_state(browser):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, "[data-audition-loop]").get_attribute("aria-pressed")


def test_without_web_audio_the_audio_element_loops_and_repitches(live_server, browser, django_user_model, tmp_path):
    """A browser without Web Audio (the constructors removed before any script runs): the page's <audio> plays
    the sample, repitched like a sampler (playbackRate, preservesPitch off) and looped when the loop is on."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    _track, samples = make_samples(user, tmp_path / "samples")
    note_id = f"sample-{samples['note'].pk}"
    browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "delete window.AudioContext; delete window.OfflineAudioContext; delete window.webkitAudioContext;"},
    )
    wait = WebDriverWait(browser, 20)
    sign_in(browser, live_server, "producer", PASSWORD)
    session = json.dumps({"mode": "session", "bpm": 100, "key": "C major"})
    browser.execute_script("localStorage.setItem('stemcrate.audition.target', arguments[0]);", session)
    browser.get(live_server.url + reverse("samples:samples") + "?sort=source")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "html.samples-js [data-audition-bar]")))
    assert browser.execute_script("return typeof window.AudioContext;") == "undefined"
    browser.execute_script("document.getElementById(arguments[0]).focus();", note_id)
    ActionChains(browser).send_keys("l").perform()
    assert browser.find_element(By.CSS_SELECTOR, "[data-audition-loop]").get_attribute("aria-pressed") == "true"
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    state = (
        "var a = document.querySelector('[data-sample-audio]');"
        "return {rate: a.playbackRate, keep: a.preservesPitch, loop: a.loop, paused: a.paused, time: a.currentTime,"
        " src: a.currentSrc};"
    )
    wait.until(lambda d: d.execute_script(state)["time"] > 0)
    played = browser.execute_script(state)
    assert played["src"].endswith(browser.find_element(By.ID, note_id).get_attribute("data-audio")), played
    assert played["rate"] == pytest.approx(2 ** (3 / 12), rel=1e-6) and played["keep"] is False, played
    assert played["loop"] is True
    time.sleep(1.2)  # the note lasts 0.5 s at rate 1, less repitched up
    assert not browser.execute_script(state)["paused"], "with loop on, the <audio> fallback goes round"
    assert browser.execute_script("return document.documentElement.getAttribute('data-audition-last');") is None
    applied = browser.find_element(By.CSS_SELECTOR, "[data-audition-applied]").text
    assert "+3 st" in applied and "no Web Audio" in applied, applied
    console = [entry["message"] for entry in browser.get_log("browser")]
    assert not csp_violations(console), csp_violations(console)
