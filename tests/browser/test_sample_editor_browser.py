"""The sample page's waveform editor (static/js/sample_editor.js) in a real browser.

A sample sliced for real from the fake stems of conftest.py; on its page the editor draws the waveform
(wavesurfer.js in a shadow root, under the strict CSP), zooms (button, key, slider), keeps the trim region and
the form's inputs in step both ways (typing, dragging an edge, the keyboard on the handles), previews with Space,
is reachable by Tab, fits a 390 px phone, and "Save as new sample" queues an edit job that, run inline, makes the
trimmed sample.
"""

import pytest
from django.urls import reverse

from jobs.services import perform as perform_job
from tests.browser.conftest import DESKTOP, PHONE, csp_violations, make_track_with_fake_stems, save_screenshot, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The waveform's canvases in wavesurfer's shadow root, and how many of their pixels are drawn.
WAVE_PIXELS = """
var host = document.querySelector("[data-editor-wave] > div");
var root = host && host.shadowRoot;
if (!root) { return {canvases: 0, drawn: 0}; }
var canvases = root.querySelectorAll("canvas"), drawn = 0;
canvases.forEach(function (canvas) {
  if (!canvas.width || !canvas.height) { return; }
  var data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (var i = 3; i < data.length; i += 4) { if (data[i] > 0) { drawn += 1; } }
});
var scroll = root.querySelector("[part~='scroll']");
return {canvases: canvases.length, drawn: drawn, scrollWidth: scroll.scrollWidth, clientWidth: scroll.clientWidth,
        adopted: root.adoptedStyleSheets.length, styles: root.querySelectorAll("style").length};
"""
SHADOW = "return document.querySelector('[data-editor-wave] > div').shadowRoot;"
# The focused element, looking into shadow roots.
FOCUSED = """
var el = document.activeElement;
while (el && el.shadowRoot && el.shadowRoot.activeElement) { el = el.shadowRoot.activeElement; }
var style = getComputedStyle(el);
return {label: el.getAttribute("aria-label") || el.id || el.getAttribute("data-editor-loop") !== null && "loop"
        || el.textContent.trim().slice(0, 20), role: el.getAttribute("role"),
        ring: style.outlineStyle !== "none" && style.outlineWidth !== "0px" || style.boxShadow !== "none"};
"""
REGION = """
var region = document.querySelector("[data-editor-wave] > div").shadowRoot.querySelector("[part~='region']");
var duration = parseFloat(document.querySelector("[data-sample-editor]").getAttribute("data-duration"));
return {left: parseFloat(region.style.left) / 100 * duration, right: parseFloat(region.style.right) / 100 * duration};
"""


# The time at the middle of the waveform's visible part, from its scroll position and the zoom.
VIEW = """
var scroll = document.querySelector("[data-editor-wave] > div").shadowRoot.querySelector("[part~='scroll']");
var px = parseFloat(document.querySelector("[data-sample-editor]").getAttribute("data-px-per-sec"));
return {center: (scroll.scrollLeft + scroll.clientWidth / 2) / px, scrollLeft: scroll.scrollLeft};
"""
CTRL_WHEEL = """
var box = document.querySelector("[data-editor-wave]"), rect = box.getBoundingClientRect();
box.dispatchEvent(new WheelEvent("wheel", {deltaY: arguments[0], ctrlKey: true, bubbles: true, cancelable: true,
                                           clientX: rect.left + rect.width / 2, clientY: rect.top + 40}));
"""


def no_page_scroll(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")


def test_the_waveform_editor_trims_zooms_previews_and_saves(live_server, browser, django_user_model, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from jobs.models import Job
    from samples.models import Sample
    from samples.services import do_request_slice

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=4.0)
    bass = stem_set.stems.get(name="bass")
    perform_job("slice", str(do_request_slice(track, stem=bass).pk))
    sample = Sample.objects.filter(stem=bass).order_by("-duration").first()
    assert sample is not None and sample.duration > 0.2, sample and sample.duration
    duration = sample.duration
    wait = WebDriverWait(browser, 20)
    console, errors = [], []

    def collect_console():
        for entry in browser.get_log("browser"):
            console.append(entry["message"])
            if entry["level"] == "SEVERE":
                errors.append(entry["message"])

    def keys(*sequence):
        ActionChains(browser).send_keys(*sequence).perform()

    def field(name):
        return browser.find_element(By.CSS_SELECTOR, f"form.sample-edit-form [name='{name}']")

    def px_per_sec():
        return float(browser.find_element(By.CSS_SELECTOR, "[data-sample-editor]").get_attribute("data-px-per-sec"))

    def lasts():  # "… the new sample lasts 0.317 s."
        text = browser.find_element(By.CSS_SELECTOR, "[data-editor-status]").text
        return float(text.rsplit("lasts ", 1)[1].split(" s")[0])

    def click(selector):  # the sticky header must not cover it
        element = browser.find_element(By.CSS_SELECTOR, selector)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()

    def ready():
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-sample-editor].is-ready"))
        wait.until(lambda d: d.execute_script(WAVE_PIXELS)["drawn"] > 0)

    browser.set_window_size(*DESKTOP)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("samples:sample", args=[sample.pk]))
    ready()

    # The waveform: drawn canvases in the shadow root, its CSS adopted (no inline <style>, refused by the CSP).
    wave = browser.execute_script(WAVE_PIXELS)
    assert wave["canvases"] >= 1 and wave["drawn"] > 500, wave
    assert wave["styles"] == 0 and wave["adopted"] >= 1, wave
    assert wave["scrollWidth"] <= wave["clientWidth"] * 1.05, wave  # fitted (the ruler's last label may stick out)
    fit = px_per_sec()
    assert fit == pytest.approx(wave["clientWidth"] / duration, rel=0.05)

    # Zoom: the + button, then the "+" key, then the slider; the waveform becomes scrollable.
    click("[data-editor-zoom-in]")
    assert px_per_sec() == pytest.approx(fit * 1.5, rel=0.01)
    keys("+")
    assert px_per_sec() == pytest.approx(fit * 2.25, rel=0.01)
    wait.until(lambda d: d.execute_script(WAVE_PIXELS)["scrollWidth"] > wave["clientWidth"] * 2)
    slider = browser.find_element(By.CSS_SELECTOR, "[data-editor-zoom]")
    slider.send_keys(Keys.END)
    assert px_per_sec() >= fit * 8
    # Ctrl + wheel over the waveform zooms in around the pointer; the zoom keeps the time under it in place.
    view = browser.execute_script(VIEW)
    middle = view["center"]
    browser.execute_script(CTRL_WHEEL, -200)
    zoomed = px_per_sec()
    assert zoomed > fit * 8 * 1.2, (zoomed, fit)
    assert browser.execute_script(VIEW)["center"] == pytest.approx(middle, abs=0.01)
    # Zoomed in, the waveform's scroll box takes the focus and the arrow keys scroll it.
    scroller = browser.execute_script(SHADOW).find_element(By.CSS_SELECTOR, "[part~='scroll']")
    scroller.send_keys(Keys.HOME)
    assert browser.execute_script(VIEW)["scrollLeft"] == 0
    scroller.send_keys(Keys.ARROW_RIGHT)
    assert browser.execute_script(VIEW)["scrollLeft"] > 50
    scroller.send_keys(Keys.END)
    wave_now = browser.execute_script(WAVE_PIXELS)
    assert browser.execute_script(VIEW)["scrollLeft"] >= wave_now["scrollWidth"] - wave_now["clientWidth"] - 1
    keys("0")  # fit again
    assert px_per_sec() == pytest.approx(fit, rel=0.01)
    assert browser.find_element(By.CSS_SELECTOR, "[data-editor-zoom-level]").text == "1.0×"

    # Typing in the inputs moves the region.
    start_input, end_input = field("start"), field("end")
    start_input.send_keys("0.05")
    end_input.send_keys(f"{duration - 0.05:.3f}")
    region = browser.execute_script(REGION)
    assert region["left"] == pytest.approx(0.05, abs=0.002)
    assert region["right"] == pytest.approx(0.05, abs=0.002)

    # Dragging the region's right edge 60 px to the left sets End.
    shadow = browser.execute_script(SHADOW)
    right_edge = shadow.find_element(By.CSS_SELECTOR, "[part~='region-handle-right']")
    ActionChains(browser).click_and_hold(right_edge).move_by_offset(-20, 0).move_by_offset(-20, 0).move_by_offset(
        -20, 0
    ).release().perform()
    dragged_end = float(end_input.get_attribute("value"))
    assert dragged_end == pytest.approx(duration - 0.05 - 60 / fit, abs=0.01), (dragged_end, duration, fit)

    # The keyboard: the start edge and the fade-in handle are sliders that arrows nudge by 10 ms.
    start_edge = shadow.find_element(By.CSS_SELECTOR, "[part~='region-handle-left']")
    assert start_edge.get_attribute("role") == "slider" and start_edge.get_attribute("aria-label") == "Trim start"
    start_edge.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert start_input.get_attribute("value") == "0.070"
    assert browser.execute_script(REGION)["left"] == pytest.approx(0.07, abs=0.002)
    fade_in = shadow.find_element(By.CSS_SELECTOR, "[part~='fade-handle-in']")
    fade_in.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert field("fade_in").get_attribute("value") == "0.030"
    assert fade_in.get_attribute("aria-valuenow") == "0.030"
    # ... and a typed fade moves its handle.
    field("fade_out").send_keys("0.02")
    fade_out = shadow.find_element(By.CSS_SELECTOR, "[part~='fade-handle-out']")
    assert fade_out.get_attribute("aria-valuenow") == "0.020"
    assert (
        shadow.find_element(By.CSS_SELECTOR, "[part~='fade-in'] [part~='fade-line']")
        .get_attribute("d")
        .startswith("M0.00,100.00")
    )

    # Space, with the focus on a handle, plays the preview and stops it; the page's player stays paused.
    editor = browser.find_element(By.CSS_SELECTOR, "[data-sample-editor]")
    fade_in.send_keys(Keys.SPACE)
    wait.until(lambda d: editor.get_attribute("data-previewing") == "true")
    assert not browser.find_element(By.CSS_SELECTOR, "[data-sample-primary]").get_attribute("class").count("is-playing")
    fade_in.send_keys(Keys.SPACE)
    wait.until(lambda d: editor.get_attribute("data-previewing") == "false")
    click("[data-editor-play]")
    wait.until(lambda d: editor.get_attribute("data-previewing") == "true")
    click("[data-editor-play]")
    assert editor.get_attribute("data-previewing") == "false"
    # The page's own player and the preview take turns.
    click("[data-editor-play]")
    wait.until(lambda d: editor.get_attribute("data-previewing") == "true")
    click("[data-sample-toggle]")
    wait.until(lambda d: editor.get_attribute("data-previewing") == "false")
    hero = browser.find_element(By.CSS_SELECTOR, "[data-sample-primary]")
    wait.until(lambda d: "is-playing" in hero.get_attribute("class"))  # the audition plays (Web Audio)
    click("[data-editor-play]")  # and the preview, started again, stops it
    wait.until(lambda d: "is-playing" not in hero.get_attribute("class"))
    assert editor.get_attribute("data-previewing") == "true"
    click("[data-editor-play]")

    # The pitch: by speed the new sample is shorter (said under the waveform); keeping the length, the preview
    # is said to be approximate.
    approx = browser.find_element(By.CSS_SELECTOR, "[data-editor-approx]")
    assert not approx.is_displayed()
    field("pitch").send_keys("12")
    length = float(end_input.get_attribute("value")) - 0.07
    assert lasts() == pytest.approx(length / 2, abs=0.002)
    Select(field("pitch_mode")).select_by_value("keep_length")
    assert approx.is_displayed() and "approximate" in approx.text
    assert lasts() == pytest.approx(length, abs=0.002)
    field("pitch").clear()
    assert not approx.is_displayed()

    # Tab reaches the preview, the zoom and the handles, each with a visible focus ring, before the form.
    browser.execute_script("document.getElementById('sample-edit-title').setAttribute('tabindex', '-1');")
    browser.execute_script("document.getElementById('sample-edit-title').focus();")
    reached = []
    for _ in range(16):
        keys(Keys.TAB)
        now = browser.execute_script(FOCUSED)
        reached.append(now)
        if now["label"] == "edit-start":
            break
    labels = [item["label"] for item in reached]
    for wanted in ("Preview", "loop", "Zoom out", "Zoom", "Zoom in", "Fit the whole sample", "Trim start", "Trim end",
                   "Fade in", "Fade out", "Waveform: ← → scroll it when zoomed in", "edit-start"):  # fmt: skip
        assert wanted in labels, labels
    assert all(item["ring"] for item in reached), reached

    collect_console()
    browser.execute_script("document.getElementById('sample-edit').scrollIntoView(); window.scrollBy(0, -76);")
    desktop = save_screenshot(browser, "sample-editor-desktop", DESKTOP)
    assert desktop.stat().st_size > 10_000

    # A phone: the page does not scroll sideways, and the editor is there to use.
    browser.set_window_size(*PHONE)
    browser.get(browser.current_url)
    ready()
    assert no_page_scroll(browser)
    wave_box = browser.find_element(By.CSS_SELECTOR, "[data-editor-wave]").rect
    assert wave_box["width"] > 250 and wave_box["x"] >= 0 and wave_box["x"] + wave_box["width"] <= PHONE[0]
    phone_fit = px_per_sec()
    field("start").send_keys("0.03")
    field("end").send_keys(f"{duration - 0.08:.3f}")
    # Dragging the fade-in knob 40 px to the right sets Fade in.
    browser.execute_script("document.getElementById('sample-edit').scrollIntoView(); window.scrollBy(0, -120);")
    shadow = browser.execute_script(SHADOW)
    knob = shadow.find_element(By.CSS_SELECTOR, "[part~='fade-handle-in']")
    ActionChains(browser).click_and_hold(knob).move_by_offset(20, 0).move_by_offset(20, 0).release().perform()
    assert float(field("fade_in").get_attribute("value")) == pytest.approx(40 / phone_fit, abs=0.006)
    phone = save_screenshot(browser, "sample-editor-phone", PHONE)
    assert phone.stat().st_size > 10_000
    click("[data-editor-zoom-in]")
    wait.until(lambda d: d.execute_script(WAVE_PIXELS)["scrollWidth"] > d.execute_script(WAVE_PIXELS)["clientWidth"])
    assert no_page_scroll(browser)
    collect_console()
    assert not csp_violations(console), csp_violations(console)
    browser.set_window_size(*DESKTOP)

    # Save as new sample: the form posts (trim typed in, a fade), an edit job is queued, and run inline it
    # makes a sample of the trimmed length.
    browser.get(live_server.url + reverse("samples:sample", args=[sample.pk]))
    ready()
    field("start").send_keys("0.04")
    field("end").send_keys(f"{duration - 0.06:.3f}")
    field("fade_out").send_keys("0.01")
    assert browser.execute_script(REGION)["left"] == pytest.approx(0.04, abs=0.002)
    click("form.sample-edit-form button[type='submit']")
    # The post answers with a new page: the body read mid-navigation can be the old one's (stale), so read again.
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "Rendering your edit" in d.find_element(By.TAG_NAME, "body").text
    )
    job = Job.objects.get(kind="edit_sample")
    assert job.params["start"] == 0.04 and job.params["fade_out"] == 0.01
    assert job.params["end"] == pytest.approx(float(f"{duration - 0.06:.3f}"))
    perform_job("edit_sample", str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    edited = Sample.objects.get(edited_from=sample)
    assert edited.duration == pytest.approx(float(f"{duration - 0.06:.3f}") - 0.04, abs=1e-3)
    collect_console()
    assert not csp_violations(console), csp_violations(console)
    assert not errors, errors  # no script errors either


RENDER_IN_BROWSER = """
var done = arguments[arguments.length - 1];
var channels = arguments[0].map(function (data) { return Float32Array.from(data); });
var sampleRate = arguments[1], edits = arguments[2];
import("/static/js/lib/sample_edit.js").then(function (module) {
  done(edits.map(function (edit) {
    return module.renderEdit(channels, sampleRate, edit).map(function (data) { return Array.from(data); });
  }));
}).catch(function (error) { done(String(error)); });
"""


def test_the_preview_renders_an_edit_as_the_engine_does(live_server, browser):
    """lib/sample_edit.js (the preview) against audio/sample_edit.py apply_edit on the same sound: every curve,
    reverse, gain with clipping, normalise. The pitch is left out: the preview plays it by speed."""
    import numpy as np

    from audio.sample_edit import apply_edit

    rate = 8000
    rng = np.random.default_rng(7)
    t = np.arange(1200) / rate
    sound = np.stack([0.6 * np.sin(2 * np.pi * 220 * t), 0.3 * rng.standard_normal(t.size)]).astype(np.float32)
    edits = [
        {"start": 0.01, "end": 0.12, "fade_in": 0.02, "fade_out": 0.03, "fade_curve": "linear"},
        {"start": 0.0, "end": 0.1, "fade_in": 0.05, "fade_out": 0.05, "fade_curve": "exponential", "reverse": True},
        {"start": 0.02, "fade_in": 0.01, "fade_out": 0.04, "fade_curve": "logarithmic", "gain_db": 9.0},
        {"start": 0.005, "end": 0.14, "fade_out": 0.06, "fade_curve": "s-curve", "normalise": True},
    ]
    as_js = [
        {"start": e["start"], "end": e.get("end"), "fadeIn": e.get("fade_in", 0), "fadeOut": e.get("fade_out", 0),
         "curve": e["fade_curve"], "reverse": e.get("reverse", False), "gainDb": e.get("gain_db", 0),
         "normalise": e.get("normalise", False)}
        for e in edits
    ]  # fmt: skip
    browser.get(live_server.url + reverse("account_login"))
    browser.set_script_timeout(20)
    rendered = browser.execute_async_script(RENDER_IN_BROWSER, sound.tolist(), rate, as_js)
    assert isinstance(rendered, list), rendered
    for edit, in_browser in zip(edits, rendered, strict=True):
        expected, report = apply_edit(sound, rate, edit)
        got = np.array(in_browser, dtype=np.float32)
        assert got.shape == expected.shape, (edit, got.shape, expected.shape)
        assert np.abs(got - expected).max() < 1e-5, edit
    assert report["clipped"] is False
    clipped, report = apply_edit(sound, rate, edits[2])
    assert report["clipped"] and np.abs(clipped).max() == 1.0  # the gain case clips, in both
