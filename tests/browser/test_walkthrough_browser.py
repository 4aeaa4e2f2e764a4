"""Issue 14, part 5: what a user's walkthrough found, checked in a real browser. A phone-sized slicer, uploads
without console errors and with rows that follow the analysis, WCAG AA contrast for secondary text and primary
buttons, and the app's own confirmation dialog instead of the browser's confirm().

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker is needed (jobs are run in
this process or stay queued).
"""

import os
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser.conftest import make_track_with_fake_stems, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(browser, tmp_path, name: str) -> None:
    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / name))


def phone(browser, width=390, height=844):
    """A phone's viewport: the page is laid out for `width` CSS pixels, as on an iPhone 12-15."""
    browser.set_window_size(width, height)
    assert browser.execute_script("return window.innerWidth") == width


# Everything wider than the viewport, and every button or link of the page's own that pokes out of it.
OVERFLOW = """
var width = document.documentElement.clientWidth;
var out = [];
document.querySelectorAll("main button, main a.btn, main .btn, main h1").forEach(function (el) {
  var box = el.getBoundingClientRect();
  var style = getComputedStyle(el);
  if (!box.width || style.visibility === "hidden" || el.closest("[hidden]")) { return; }
  if (box.left < -0.5 || box.right > width + 0.5) {
    out.push((el.className || el.tagName) + ": " + Math.round(box.left) + "-" + Math.round(box.right));
  }
});
return {scrollWidth: document.documentElement.scrollWidth, width: width, out: out};
"""


SLICE_COUNT = "return document.querySelector('[data-slicer-count]').getAttribute('data-count');"


def test_the_slicer_fits_a_phone(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.samples.test_sample_pages import make_sample

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0, title="A phone-sized song")
    drums = stem_set.stems.get(name="drums")
    for index in range(12):  # the header then links to them: "12 samples from this track", a long button
        make_sample(user, track, source="vocals", index=index)
    wait = WebDriverWait(browser, 30)
    sign_in(browser, live_server, "producer", PASSWORD)
    phone(browser)

    browser.get(live_server.url + reverse("samples:slicer", args=[track.pk]) + f"?stem={drums.pk}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-slicer].is-enhanced")))
    wait.until(lambda d: d.execute_script(SLICE_COUNT))  # the markers are placed
    browser.find_element(By.CSS_SELECTOR, "[data-slicer-submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".slicer-job")))
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, tmp_path, "slicer-390.png")
    layout = browser.execute_script(OVERFLOW)
    assert layout["scrollWidth"] <= 390, layout
    assert not layout["out"], layout
    # The title has the page's whole width (less its 16 px margins), not a narrow column beside the button.
    title = browser.find_element(By.CSS_SELECTOR, "h1").rect["width"]
    assert title >= 0.95 * (layout["width"] - 32), (title, layout)


def console_errors(browser) -> list[str]:
    """What the page wrote to the console at the error level since the last call (htmx logs its errors there)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def analyse_uploads(user):
    """What the CPU worker would do: run the analysis jobs the uploads queued, here."""
    from jobs.models import Job
    from jobs.services import perform as perform_job
    from tracks.models import Track

    for job in Job.objects.about(Track.objects.filter(owner=user)).filter(kind="analyse", status=Job.Status.QUEUED):
        perform_job("analyse", str(job.pk))


def upload_files(browser, wait, paths):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    form = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[data-uploader].is-enhanced")))
    form.find_element(By.CSS_SELECTOR, "input[type='file'][name='file']").send_keys("\n".join(str(p) for p in paths))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".upload-item.is-done")) == len(paths))
    return form


def test_uploading_in_the_library_logs_no_console_error_and_the_list_follows_the_rows(
    live_server, browser, django_user_model, tmp_path, settings
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.test_library_browser import write_tone_wav
    from tests.factories import make_track

    settings.MEDIA_ROOT = tmp_path / "media"
    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    make_track(user, title="Already here", status="ready", bpm=120)  # a library with rows and the action bar
    files = [write_tone_wav(tmp_path / f"walkthrough tone {i}.wav", seconds=3.0, freq=220.0 * (i + 1)) for i in (0, 1)]
    wait = WebDriverWait(browser, 30)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:index"))
    console_errors(browser)

    upload_files(browser, wait, files)
    # The library refreshes its rows; the new ones poll their status every 3 s while they wait for analysis.
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.track-row")) == 3)
    messages = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".upload-item.is-done .upload-item-message")]
    assert all("analysing" in text for text in messages), messages
    time.sleep(7)  # two rounds of polling
    errors = console_errors(browser)
    assert not errors, "\n".join(errors)
    analyse_uploads(user)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.track-row.is-ready")) == 3)
    # Once the rows read Ready, the upload list says so too, not "analysing".
    wait.until(
        lambda d: all(
            "analysed" in m.text and "analysing" not in m.text
            for m in d.find_elements(By.CSS_SELECTOR, ".upload-item.is-done .upload-item-message")
        )
    )
    screenshot(browser, tmp_path, "library-uploaded.png")
    errors = console_errors(browser)
    assert not errors, "\n".join(errors)


def test_uploading_on_the_upload_page_logs_no_console_error_and_says_when_analysis_ends(
    live_server, browser, django_user_model, tmp_path, settings
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.test_library_browser import write_tone_wav

    settings.MEDIA_ROOT = tmp_path / "media"
    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    wait = WebDriverWait(browser, 30)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:upload"))
    console_errors(browser)

    upload_files(browser, wait, [write_tone_wav(tmp_path / "upload page tone.wav", seconds=3.0)])
    item = browser.find_element(By.CSS_SELECTOR, ".upload-item.is-done")
    assert "analysing" in item.text
    analyse_uploads(user)
    wait.until(lambda d: "analysed" in item.text and "analysing" not in item.text)
    assert item.find_element(By.LINK_TEXT, "Open track")
    errors = console_errors(browser)
    assert not errors, "\n".join(errors)


# WCAG 2's contrast ratio of an element's computed text colour against the colour behind it: its own background
# and its ancestors', semi-transparent layers composited over what is below them.
CONTRAST = """
function parse(text) {
  var parts = text.match(/[\\d.]+/g).map(Number);
  return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
}
function over(top, below) {
  return {r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a),
          b: top.b * top.a + below.b * (1 - top.a), a: 1};
}
function behind(el) {
  var layers = [];
  for (var node = el; node; node = node.parentElement) {
    var colour = parse(getComputedStyle(node).backgroundColor);
    if (colour.a > 0) { layers.push(colour); }
    if (colour.a >= 1) { break; }
  }
  var result = {r: 255, g: 255, b: 255, a: 1};  // the canvas, when nothing is opaque
  for (var i = layers.length - 1; i >= 0; i--) { result = over(layers[i], result); }
  return result;
}
function luminance(c) {
  var channel = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}
return Array.prototype.map.call(document.querySelectorAll(arguments[0]), function (el) {
  var back = behind(el);
  var text = over(parse(getComputedStyle(el).color), back);
  var a = luminance(text), b = luminance(back);
  var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  return {text: (el.textContent || "").trim().slice(0, 40), color: getComputedStyle(el).color,
          background: "rgb(" + [back.r, back.g, back.b].map(Math.round).join(", ") + ")",
          ratio: Math.round(ratio * 100) / 100, visible: !!el.getClientRects().length};
});
"""
SECONDARY_TEXT = (
    ".page-subtitle", ".track-table th", ".filter > label", ".dropzone-limits", ".results-count",
    ".dim", ".site-footer", ".cell-artist",
)  # fmt: skip
AA = 4.5


def low_contrast(browser, selector):
    found = [item for item in browser.execute_script(CONTRAST, selector) if item["visible"] and item["text"]]
    assert found, f"nothing visible matches {selector}"
    return [item for item in found if item["ratio"] < AA]


def test_secondary_text_and_primary_buttons_meet_wcag_aa(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.factories import make_track

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    make_track(user, title="Contrast", artist="Checker", status="ready", bpm=120, key="A", scale="minor")
    make_track(user, title="No tempo", status="ready")  # a row with "—" (dim) in its BPM
    wait = WebDriverWait(browser, 15)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:index"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[data-bulk-form].is-enhanced"))
    browser.find_element(By.CSS_SELECTOR, "input[data-bulk-select]").click()  # Process is enabled with a selection
    screenshot(browser, tmp_path, "contrast-library.png")

    failing = {selector: low_contrast(browser, selector) for selector in SECONDARY_TEXT}
    failing[".btn-primary"] = low_contrast(browser, ".btn-primary")
    upload = browser.find_element(By.CSS_SELECTOR, ".page-header .btn-primary")
    resting = upload.value_of_css_property("background-color")
    ActionChains(browser).move_to_element(upload).perform()
    wait.until(lambda d: upload.value_of_css_property("background-color") != resting)
    time.sleep(0.3)  # the end of its 0.15 s transition
    failing[".btn-primary:hover"] = low_contrast(browser, ".page-header .btn-primary")
    failing = {
        selector: sorted({(i["text"], i["color"], i["background"], i["ratio"]) for i in items})
        for selector, items in failing.items()
        if items
    }
    assert not failing, failing


DIALOG_STATE = """
var dialog = document.querySelector("dialog[data-confirm-dialog]");
var active = document.activeElement;
return {open: !!(dialog && dialog.open), modal: !!(dialog && dialog.matches(":modal")),
        question: dialog ? dialog.querySelector("[data-confirm-question]").textContent.trim() : "",
        focusInside: !!(dialog && dialog.contains(active)), focused: active ? active.textContent.trim() : ""};
"""


def no_native_confirm(browser):
    from selenium.common.exceptions import NoAlertPresentException

    try:
        text = browser.switch_to.alert.text
    except NoAlertPresentException:
        return
    browser.switch_to.alert.dismiss()
    raise AssertionError(f"the browser's own confirm() asked: {text!r}")


def test_bulk_process_and_cancel_ask_in_the_apps_own_dialog(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from pipelines.models import Pipeline
    from tests.factories import make_track

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track = make_track(user, title="Confirm me", status="ready", bpm=120)
    make_track(user, title="Leave me", status="ready")
    wait = WebDriverWait(browser, 15)
    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:index"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[data-bulk-form].is-enhanced"))
    browser.find_element(By.CSS_SELECTOR, f"input[data-bulk-select][value='{track.pk}']").click()
    process = browser.find_element(By.CSS_SELECTOR, "button[data-bulk-action][value='process']")

    # Process asks first, in the app's modal dialog, with the focus inside it; Esc says no.
    process.click()
    no_native_confirm(browser)
    state = wait.until(lambda d: (s := d.execute_script(DIALOG_STATE))["open"] and s)
    assert state["modal"] and state["focusInside"], state
    assert state["question"].startswith("Process the selected tracks?"), state
    screenshot(browser, tmp_path, "confirm-process.png")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait.until(lambda d: not d.execute_script(DIALOG_STATE)["open"])
    assert browser.switch_to.active_element == process  # back where it was
    time.sleep(0.5)
    assert not Pipeline.objects.exists()

    # Asked again, the keyboard says yes: the dialog's own button, reached with Tab, pressed with Enter.
    process.click()
    state = wait.until(lambda d: (s := d.execute_script(DIALOG_STATE))["open"] and s)
    for _ in range(3):
        if browser.execute_script(DIALOG_STATE)["focused"] == "Process":
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.execute_script(DIALOG_STATE)["focused"] == "Process"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(lambda d: Pipeline.objects.filter(track=track).exists())
    wait.until(lambda d: "Processing 1 track" in d.find_element(By.ID, "main").text)
    assert Pipeline.objects.count() == 1

    # Cancel on the track's page asks the same way: Esc keeps it running, the dialog's button cancels it.
    pipeline = Pipeline.objects.get()
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    cancel = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".pipeline-cancel button"))
    cancel.click()
    no_native_confirm(browser)
    state = wait.until(lambda d: (s := d.execute_script(DIALOG_STATE))["open"] and s)
    assert state["focusInside"] and state["question"].startswith("Cancel processing?"), state
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait.until(lambda d: not d.execute_script(DIALOG_STATE)["open"])
    time.sleep(0.5)
    pipeline.refresh_from_db()
    assert pipeline.status == "running"
    cancel.click()
    wait.until(lambda d: d.execute_script(DIALOG_STATE)["open"])
    browser.find_element(By.CSS_SELECTOR, "dialog[data-confirm-dialog] [data-confirm-yes]").click()
    wait.until(lambda d: type(pipeline).objects.get(pk=pipeline.pk).status == "cancelled")
    errors = console_errors(browser)
    assert not errors, "\n".join(errors)
