"""Issue 14, part 5: what a user's walkthrough found, checked in a real browser. A phone-sized slicer, uploads
without console errors and with rows that follow the analysis, WCAG AA contrast for secondary text and primary
buttons, and the app's own confirmation dialog instead of the browser's confirm().

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker is needed (jobs are run in
this process or stay queued).
"""

import os
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
