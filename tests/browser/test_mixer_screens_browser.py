"""The stems mixer while it plays, at the desktop and the phone width: screenshots for the docs, no sideways page
scroll on a phone, and every mixer control reached by Tab with an accessible name. The stems are made without a
model (conftest.make_track_with_fake_stems), like test_stems_browser.py.
"""

import pytest
from django.urls import reverse

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

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a control is, for the messages: its data- attribute and its stem.
DESCRIBE = """
var el = arguments[0];
var row = el.closest && el.closest("[data-stem]");
var mark = Array.from(el.attributes).map(function (a) { return a.name; }).filter(function (n) {
  return n.indexOf("data-stem") === 0 || n.indexOf("data-stems") === 0; })[0] || el.tagName.toLowerCase();
return (row ? row.getAttribute("data-stem-name") + " " : "") + mark;
"""

OVERFLOW = """
var wide = Array.from(document.querySelectorAll("#stems *")).filter(function (el) {
  var box = el.getBoundingClientRect();
  return box.width > 0 && (box.right > window.innerWidth + 0.5 || box.left < -0.5);
}).map(function (el) { return el.tagName.toLowerCase() + "." + (el.getAttribute("class") || "") + " " +
  Math.round(el.getBoundingClientRect().left) + ".." + Math.round(el.getBoundingClientRect().right); });
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide: wide.slice(0, 8)};
"""


def test_the_mixer_while_playing_on_desktop_and_phone(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    def show_mixer():
        # The stem set's top just under the sticky header, and the pointer off the page's links (no hover state).
        browser.execute_script(
            "var header = document.querySelector('header');"
            "var top = arguments[0].getBoundingClientRect().top + window.scrollY;"
            "window.scrollTo(0, top - (header ? header.getBoundingClientRect().height : 0) - 12);",
            player,
        )
        ActionChains(browser).move_to_element(player.find_element(By.CSS_SELECTOR, "[data-stems-time]")).perform()

    sign_in(browser, live_server, "producer", PASSWORD)
    browser.set_window_size(*DESKTOP)
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    player = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#stems [data-stems-player].is-enhanced")))
    assert player.find_element(By.CSS_SELECTOR, ".stem-set-title").text == stem_set.label
    collect_console()

    # Every control of the mixer, in the order Tab should reach them: the transport, then each stem's row.
    controls = player.find_elements(
        By.CSS_SELECTOR,
        "[data-stems-toggle], [data-stems-seek], [data-stem-mute], [data-stem-solo], [data-stem-volume], "
        "[data-stem-pan], [data-stem-mix], [data-stem-mix-link]",
    )
    per_stem = {"data-stem-mute", "data-stem-solo", "data-stem-volume", "data-stem-pan", "data-stem-mix"}
    assert len(controls) == 2 + 4 * len(per_stem) + 1, len(controls)
    names = {browser.execute_script(DESCRIBE, control): control.accessible_name.strip() for control in controls}
    unnamed = [what for what, name in names.items() if not name]
    assert not unnamed, f"mixer controls without an accessible name: {unnamed}"
    assert names["drums data-stem-mute"] == "Mute Drums" and names["bass data-stem-pan"] == "Bass pan"

    # Tab from the stem set's own focus goes through every one of them (the level meters are pictures, not stops).
    browser.execute_script("arguments[0].focus();", player)
    reached = []
    for _ in range(3 * len(controls)):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        reached.append(browser.execute_script(DESCRIBE, focused))
        if focused.get_attribute("data-stem-mix-link") is not None:
            break
    missing = [what for what in names if what not in reached]
    assert not missing, f"Tab did not reach: {missing} (reached {reached})"
    focus_ring = browser.execute_script(
        "var el = document.querySelector('#stems [data-stem-mute]'); el.focus();"
        "return getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).boxShadow;"
    )
    assert focus_ring != "none none", "a focused Mute button shows no focus ring"

    # Play: the clock moves, every meter shows a level; then the desktop screenshot.
    play = player.find_element(By.CSS_SELECTOR, "[data-stems-toggle]")
    show_mixer()
    play.click()
    clock = player.find_element(By.CSS_SELECTOR, "[data-stems-time]")
    wait.until(lambda d: seconds_of(clock.text) > 1.0)
    assert play.get_attribute("aria-label") == "Pause stems"
    path = save_screenshot(browser, "mixer-desktop", DESKTOP)
    assert path.stat().st_size > 10_000

    # The phone: the page does not scroll sideways and no mixer part sticks out, while it plays.
    browser.set_window_size(*PHONE)
    show_mixer()
    wait.until(lambda d: d.execute_script("return window.innerWidth") <= PHONE[0])
    layout = browser.execute_script(OVERFLOW)
    assert layout["scroll"] <= layout["inner"], layout
    assert not layout["wide"], layout
    assert not browser.execute_script("return document.querySelector('#stems audio').paused")
    path = save_screenshot(browser, "mixer-phone", PHONE)
    assert path.stat().st_size > 10_000
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
