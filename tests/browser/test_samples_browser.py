"""The sample browser in a real browser: samples sliced for real from the fake stems of conftest.py, then on
/samples/ the keyboard moves between cards and plays one (Web Audio, or the <audio> fallback), X selects two, the action
bar favourites them, their stars light up; a sample's page loads "More like this" and plays from it. The strict
Content-Security-Policy must refuse nothing on the way.

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker and no model weights needed.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from jobs.services import perform as perform_job
from tests.browser.conftest import csp_violations, make_track_with_fake_stems, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every audition, with the file it played: a "playing" event of the page's shared <audio> (the fallback), or a
# start of the Web Audio engine (static/js/audition.js writes each start to <html data-audition-last>).
WATCH_AUDIO = """
window.__played = [];
var audio = document.querySelector("[data-sample-audio]");
audio.addEventListener("playing", function () { window.__played.push(audio.currentSrc); });
new MutationObserver(function () {
  var last = JSON.parse(document.documentElement.getAttribute("data-audition-last") || "null");
  var item = last && document.getElementById(last.id);
  if (item) { window.__played.push(new URL(item.getAttribute("data-audio"), location.href).href); }
}).observe(document.documentElement, {attributes: true, attributeFilter: ["data-audition-last"]});
"""
AUDIO_STATE = """
return {played: window.__played, src: window.__played[window.__played.length - 1] || ""};
"""


def slice_stems(track, stem_set, names):
    from samples.services import do_request_slice

    stems = {stem.name: stem for stem in stem_set.stems.all()}
    for name in names:
        job = do_request_slice(track, stem=stems[name], options={})
        perform_job("slice", str(job.pk))


def test_browse_audition_select_and_favourite_samples(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from samples.models import Sample

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=4.0)
    slice_stems(track, stem_set, ["drums", "bass"])
    total = Sample.objects.filter(owner=user).count()
    assert 4 <= total <= 60, total
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    def keys(*sequence):
        ActionChains(browser).send_keys(*sequence).perform()

    def focused_id():
        return browser.execute_script("return document.activeElement && document.activeElement.id;")

    sign_in(browser, live_server, "producer", PASSWORD)
    collect_console()
    browser.get(live_server.url + reverse("samples:samples") + "?sort=source")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "html.samples-js [data-sample-grid] [data-sample]")))
    cards = browser.find_elements(By.CSS_SELECTOR, "[data-sample-grid] [data-sample]")
    assert len(cards) == total
    card_ids = [card.get_attribute("id") for card in cards]
    assert cards[0].find_element(By.CSS_SELECTOR, ".cat-badge").text  # a category on every card
    assert cards[0].find_element(By.CSS_SELECTOR, "svg.wave path").get_attribute("d").startswith("M")
    assert not browser.find_element(By.CSS_SELECTOR, "form[data-bulk]").is_displayed()  # nothing selected yet
    browser.execute_script(WATCH_AUDIO)

    # The arrow keys and J move the focus from card to card; Space plays the focused one.
    keys(Keys.ARROW_RIGHT)
    assert focused_id() == card_ids[1]
    keys("j")
    assert focused_id() == card_ids[2]
    keys("k")
    assert focused_id() == card_ids[1]
    keys(Keys.SPACE)
    wait.until(lambda d: d.execute_script(AUDIO_STATE)["played"])
    state = browser.execute_script(AUDIO_STATE)
    third_audio = browser.find_element(By.ID, card_ids[1]).get_attribute("data-audio")
    assert state["src"].endswith(third_audio), state

    # X selects the focused card; J moves on; X selects the next one. The action bar shows "2".
    keys("x", "j", "x")
    bar = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[data-bulk].is-active")))
    assert bar.find_element(By.CSS_SELECTOR, "[data-bulk-count]").text == "2"
    chosen = [card_ids[1], card_ids[2]]
    for card_id in chosen:
        assert "is-selected" in browser.find_element(By.ID, card_id).get_attribute("class")

    # Favourite them from the action bar: the results come back with their stars on, still selected.
    bar.find_element(By.CSS_SELECTOR, "button[name='action'][value='favourite']").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".samples-notice .message-success")))
    stars = {card_id: browser.find_element(By.CSS_SELECTOR, f"#{card_id} [data-sample-star]") for card_id in card_ids}
    on = {card_id for card_id, star in stars.items() if "is-on" in star.get_attribute("class")}
    assert on == set(chosen)
    assert all(stars[card_id].get_attribute("aria-pressed") == "true" for card_id in chosen)
    assert "Added 2 samples to your favourites." in browser.find_element(By.CSS_SELECTOR, ".samples-notice").text
    favourites = {
        f"sample-{pk}" for pk in Sample.objects.filter(owner=user, favourite=True).values_list("pk", flat=True)
    }
    assert favourites == set(chosen)
    assert browser.find_element(By.CSS_SELECTOR, "form[data-bulk]").is_displayed()  # the selection stays

    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "samples-browser.png"))

    # Esc clears the selection; the list layout is remembered across a reload.
    keys(Keys.ESCAPE)
    wait.until(lambda d: not d.find_element(By.CSS_SELECTOR, "form[data-bulk]").is_displayed())
    browser.find_element(By.CSS_SELECTOR, ".view-toggle [data-view='list']").click()
    assert "is-list" in browser.find_element(By.CSS_SELECTOR, "[data-sample-grid]").get_attribute("class")
    browser.get(live_server.url + reverse("samples:samples"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-sample-grid].is-list")))
    assert browser.save_screenshot(str(shots / "samples-list.png"))
    collect_console()

    # A sample's page: "More like this" arrives by htmx, and a similar sample plays with a click.
    sample = Sample.objects.get(pk=chosen[0].removeprefix("sample-"))
    browser.get(live_server.url + sample.get_absolute_url())
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#similar [data-sample]")))
    browser.execute_script(WATCH_AUDIO)
    browser.find_element(By.CSS_SELECTOR, "#similar [data-sample] [data-sample-play]").click()
    wait.until(lambda d: d.execute_script(AUDIO_STATE)["played"])
    assert (
        browser.find_element(By.CSS_SELECTOR, ".sample-detail-actions [data-sample-star]").get_attribute("aria-pressed")
        == "true"
    )
    assert browser.save_screenshot(str(shots / "sample-detail.png"))
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
