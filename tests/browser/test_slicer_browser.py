"""The slicer in a real browser: the drums stem's markers picked in JavaScript, the count moving with the slider
at once, the same count as Python's slicing.pick for the same curve, auditioning a slice, Space, and "Slice",
all under the strict Content-Security-Policy.

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker and no model weights needed
(the job is queued, not run).
"""

import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from tests.browser.conftest import csp_violations, make_track_with_fake_stems, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNT = "var el = document.querySelector('[data-slicer-count]'); return el.getAttribute('data-count');"
# Moves the slider as a user's drag would (value + "input"), and reads the count in the same task: no request,
# no timer between the two.
SET_AND_COUNT = """
var range = document.querySelector('[data-slicer-sensitivity]');
range.value = String(arguments[0]);
range.dispatchEvent(new Event('input', {bubbles: true}));
return document.querySelector('[data-slicer-count]').getAttribute('data-count');
"""
# The JavaScript rule (static/js/slicer.js) on the JSON the page uses, for a list of (sensitivity, min, silence).
JS_PICKS = """
var done = arguments[arguments.length - 1];
var cases = arguments[1];
fetch(arguments[0], {credentials: "same-origin"})
  .then(function (response) { return response.json(); })
  .then(function (data) {
    done(cases.map(function (c) { return window.Stemcrate.pickOnsets(data, c[0], c[1], c[2]); }));
  })
  .catch(function (error) { done(String(error)); });
"""
AUDIO = "var a = document.querySelector('[data-slicer-audio]'); return {time: a.currentTime, paused: a.paused};"


def python_curve(stem, source):
    from audio import audio_io, slicing

    samples, rate = audio_io.decode(default_storage.path(stem.file.name))
    return slicing.onset_curve(samples, rate, source=source, silence_db=-50.0)


def test_the_slicer_picks_in_the_browser_exactly_as_python_does(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from audio import slicing
    from jobs.models import Job

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    stems = {stem.name: stem for stem in stem_set.stems.all()}
    drums = stems["drums"]
    wait = WebDriverWait(browser, 30)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    sign_in(browser, live_server, "producer", PASSWORD)
    collect_console()

    # From the track page's stems panel to the drums' slicer.
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-slice-stem='drums']"))).click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-slicer].is-enhanced")))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Slice drums into samples"
    # The curve is computed on the first visit (a loading state meanwhile), then the markers appear.
    wait.until(lambda d: d.execute_script(COUNT))
    assert "is-loading" not in browser.find_element(By.CSS_SELECTOR, "[data-slicer-wave]").get_attribute("class")

    # The count at the default 50% is Python's, for the same curve.
    curve = python_curve(drums, "drums")
    expected = len(slicing.pick(curve, 0.5, min_length=0.05, silence_db=-50.0))
    assert expected == 12  # the fake drums: a click every 0.5 s for 6 s
    assert int(browser.execute_script(COUNT)) == expected
    assert browser.find_element(By.CSS_SELECTOR, "[data-slicer-count]").text == f"{expected} samples"
    assert browser.find_element(By.CSS_SELECTOR, "[data-slicer-submit-label]").text == f"Slice {expected} samples"

    # The slider moves the markers at once, as Python would pick them.
    for percent in (0, 10, 25, 100, 50):
        shown = int(browser.execute_script(SET_AND_COUNT, percent))
        assert shown == len(slicing.pick(curve, percent / 100, min_length=0.05, silence_db=-50.0)), percent
    assert int(browser.execute_script(SET_AND_COUNT, 0)) == 1  # only the strongest hit
    # Keys: Home on the focused slider, then the arrows anywhere on the page nudge it by 1%.
    slider = browser.find_element(By.CSS_SELECTOR, "[data-slicer-sensitivity]")
    browser.execute_script(SET_AND_COUNT, 50)
    slider.send_keys(Keys.HOME)
    assert slider.get_attribute("value") == "0" and browser.execute_script(COUNT) == "1"
    browser.execute_script("document.activeElement.blur();")  # focus leaves the slider: keys go to the page
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT * 10).perform()
    assert slider.get_attribute("value") == "10"
    assert browser.find_element(By.CSS_SELECTOR, "[data-slicer-sensitivity-value]").text == "10%"
    assert int(browser.execute_script(COUNT)) == len(slicing.pick(curve, 0.1, min_length=0.05, silence_db=-50.0))
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ARROW_RIGHT * 4).key_up(Keys.SHIFT).perform()
    assert slider.get_attribute("value") == "50" and int(browser.execute_script(COUNT)) == expected
    # A min length longer than the gap between hits merges them.
    min_length = browser.find_element(By.CSS_SELECTOR, "[data-slicer-min-length]")
    min_length.clear()
    min_length.send_keys("0.6")
    assert int(browser.execute_script(COUNT)) == len(slicing.pick(curve, 0.5, min_length=0.6, silence_db=-50.0)) == 6
    min_length.clear()
    min_length.send_keys("0.05")
    assert int(browser.execute_script(COUNT)) == expected

    # The JavaScript rule equals Python's on every stem, across sensitivities, gaps and silence thresholds.
    cases = [[s / 20, gap, silence] for s in range(21) for gap in (0.05, 0.13) for silence in (-50.0, -35.0)]
    browser.set_script_timeout(60)
    for name, stem in stems.items():
        source = "drums" if name == "drums" else name
        url = reverse("samples:onsets", args=[track.pk]) + f"?stem={stem.pk}"
        js = browser.execute_async_script(JS_PICKS, url, cases)
        assert isinstance(js, list), js
        real = python_curve(stem, source)
        for (sensitivity, gap, silence), times in zip(cases, js, strict=True):
            assert times == slicing.pick(real, sensitivity, min_length=gap, silence_db=silence), (name, sensitivity)

    # Click a slice in the strip: it plays alone, from its pre-roll to the next slice.
    canvas = browser.find_element(By.CSS_SELECTOR, "[data-slicer-canvas]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    width, height = canvas.size["width"], canvas.size["height"]
    strip_y = round(height * 0.5) + 6 + 12  # layout() in slicer.js: the strip under the waveform
    x = width * (1.25 / 6.0)  # inside the third slice (1.0 s to 1.5 s)
    ActionChains(browser).move_to_element_with_offset(canvas, x - width / 2, strip_y - height / 2).click().perform()
    wait.until(lambda d: not d.execute_script(AUDIO)["paused"])
    wait.until(lambda d: d.execute_script(AUDIO)["paused"])
    stopped = browser.execute_script(AUDIO)["time"]
    assert 1.44 <= stopped <= 1.65, stopped  # the slice ends where the next one starts (1.495 s)
    # "]" plays the next slice (1.495 s to 1.995 s), alone too.
    browser.execute_script("document.activeElement.blur();")
    ActionChains(browser).send_keys("]").perform()
    wait.until(lambda d: not d.execute_script(AUDIO)["paused"])
    wait.until(lambda d: d.execute_script(AUDIO)["paused"])
    stopped = browser.execute_script(AUDIO)["time"]
    assert 1.94 <= stopped <= 2.15, stopped

    # Click the waveform: it plays from there, on and on; Space pauses.
    wave_y = round(height * 0.25)
    ActionChains(browser).move_to_element_with_offset(canvas, 0, wave_y - height / 2).click().perform()  # at 3 s
    wait.until(lambda d: d.execute_script(AUDIO)["time"] > 3.6 and not d.execute_script(AUDIO)["paused"])
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: d.execute_script(AUDIO)["paused"])

    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    ActionChains(browser).move_to_element_with_offset(canvas, x - width / 2, strip_y - height / 2).perform()
    screenshot = shots / "slicer-drums.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 0

    # "Slice 12 samples" queues the job and shows it on the page.
    browser.execute_script(SET_AND_COUNT, 60)
    submit = browser.find_element(By.CSS_SELECTOR, "[data-slicer-submit]")
    assert submit.text.startswith("Slice ") and submit.is_enabled()
    submit.click()
    notice = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#slicer-jobs .alert-success")))
    assert "Slicing drums into samples…" in notice.text
    job = Job.objects.get(kind="slice")
    assert job.subject_id == drums.pk and job.params["sensitivity"] == 0.6 and job.params["max_length"] == 1.5
    assert browser.find_element(By.ID, f"slice-job-{job.pk}").is_displayed()
    assert browser.current_url.endswith(f"?stem={drums.pk}")  # htmx: the page stayed
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
    errors = [line for line in console if "SEVERE" in line and "favicon" not in line]
    assert not errors, "\n".join(errors)


def test_the_mix_slicer_loads_and_vocals_refetch_for_a_threshold(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from audio import audio_io, slicing

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    vocals = stem_set.stems.get(name="vocals")
    wait = WebDriverWait(browser, 30)
    sign_in(browser, live_server, "producer", PASSWORD)

    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-slice-mix]"))).click()
    wait.until(lambda d: d.execute_script(COUNT))
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == "Slice the full mix into samples"

    browser.get(live_server.url + reverse("samples:slicer", args=[track.pk]) + f"?stem={vocals.pk}")
    wait.until(lambda d: d.execute_script(COUNT))
    silence = browser.find_element(By.CSS_SELECTOR, "[data-slicer-silence]")
    silence.clear()
    silence.send_keys("-20")
    # The curve for -20 dBFS arrives after a pause in typing; then the count is Python's for that curve.
    samples, rate = audio_io.decode(default_storage.path(vocals.file.name))
    curve = slicing.onset_curve(samples, rate, source="vocals", silence_db=-20.0)
    expected = str(len(slicing.pick(curve, 0.5, min_length=0.05, silence_db=-20.0)))
    name = f"{track.storage_prefix}/onsets/{vocals.pk}--20.json"
    loading = "return document.querySelector('[data-slicer-wave]').classList.contains('is-loading');"
    wait.until(lambda d: default_storage.exists(name) and not d.execute_script(loading))
    wait.until(lambda d: d.execute_script(COUNT) == expected)
    console = [entry["message"] for entry in browser.get_log("browser")]
    assert not csp_violations(console), console
