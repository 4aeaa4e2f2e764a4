"""The Stems panel in a real browser: a track with a stem set (stored through do_store_stems, made without a
model), its synced multi-stem player (play, drift, mute, solo, Space), and the mix download link.

Uses the Debian chromium and chromedriver, like test_library_browser.py; no worker and no model weights needed.
"""

import pytest
from django.urls import reverse

from tests.browser.conftest import csp_violations, make_track_with_fake_stems, seconds_of, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIO_STATE = """
return Array.from(document.querySelectorAll("#stems [data-stem]")).map(function (row) {
  var audio = row.querySelector("audio");
  var meter = row.querySelector("[data-stem-meter]");
  return {name: row.getAttribute("data-stem-name"), time: audio.currentTime, paused: audio.paused,
          muted: row.getAttribute("data-gain") === "0", gain: parseFloat(row.getAttribute("data-gain")),
          level: meter ? meter.getAttribute("data-level-db") : null};
});
"""

FETCH_STATUS = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin"})
  .then(function (response) {
    return response.arrayBuffer().then(function (body) {
      done({status: response.status, type: response.headers.get("content-type"), size: body.byteLength});
    });
  })
  .catch(function (error) { done({error: String(error)}); });
"""


def test_stems_play_in_sync_mute_solo_and_download_a_mix(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    assert track.status == "ready"
    assert sorted(stem_set.stems.values_list("name", flat=True)) == ["bass", "drums", "other", "vocals"]
    wait = WebDriverWait(browser, 15)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    sign_in(browser, live_server, "producer", PASSWORD)
    collect_console()
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    player = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#stems [data-stems-player].is-enhanced")))
    assert player.find_element(By.CSS_SELECTOR, ".stem-set-title").text == stem_set.label
    assert len(player.find_elements(By.CSS_SELECTOR, "audio[data-stem-audio]")) == 4

    # One transport plays every stem, together.
    play = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#stems [data-stems-toggle]")))
    play.click()
    clock = player.find_element(By.CSS_SELECTOR, "[data-stems-time]")
    wait.until(lambda d: seconds_of(clock.text) > 0.5)
    assert play.get_attribute("aria-label") == "Pause stems"
    state = browser.execute_script(AUDIO_STATE)
    assert [s["name"] for s in state] == ["vocals", "drums", "bass", "other"]
    assert not any(s["paused"] for s in state), state
    times = [s["time"] for s in state]
    assert max(times) - min(times) <= 0.15, state
    # Each stem's meter moves with what it plays (Web Audio analysers, one per stem; the drums are sparse hits,
    # so a level is looked for over a while).
    heard = set()

    def levels(d):
        heard.update(s["name"] for s in d.execute_script(AUDIO_STATE) if s["level"] not in (None, "-inf"))
        return heard == {"vocals", "drums", "bass", "other"}

    WebDriverWait(browser, 10, poll_frequency=0.02).until(levels)

    # Mute: that stem goes silent.
    drums = player.find_element(By.CSS_SELECTOR, "[data-stem-name='drums']")
    drums.find_element(By.CSS_SELECTOR, "[data-stem-mute]").click()
    assert drums.find_element(By.CSS_SELECTOR, "[data-stem-mute]").get_attribute("aria-pressed") == "true"
    muted = {s["name"]: s["muted"] for s in browser.execute_script(AUDIO_STATE)}
    assert muted == {"vocals": False, "drums": True, "bass": False, "other": False}

    # Solo: only the soloed stem is heard.
    bass = player.find_element(By.CSS_SELECTOR, "[data-stem-name='bass']")
    bass.find_element(By.CSS_SELECTOR, "[data-stem-solo]").click()
    muted = {s["name"]: s["muted"] for s in browser.execute_script(AUDIO_STATE)}
    assert muted == {"vocals": True, "drums": True, "bass": False, "other": True}

    # Space with focus in the stem set pauses the stems; the track's own player does not start.
    browser.execute_script("arguments[0].focus();", player)
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    wait.until(lambda d: all(s["paused"] for s in d.execute_script(AUDIO_STATE)))
    assert browser.execute_script("return document.querySelector('[data-player-audio]').paused;")
    assert play.get_attribute("aria-label") == "Play stems"

    # The mix link: every stem but the vocals by default, then whatever is ticked.
    link = player.find_element(By.CSS_SELECTOR, "[data-stem-mix-link]")
    mix_url = reverse("stems:stem_set_mix", args=[stem_set.pk])
    assert link.get_attribute("href").endswith(f"{mix_url}?stems=drums,bass,other")
    player.find_element(By.CSS_SELECTOR, "[data-stem-name='vocals'] [data-stem-mix]").click()
    player.find_element(By.CSS_SELECTOR, "[data-stem-name='other'] [data-stem-mix]").click()
    href = link.get_attribute("href")
    assert href.endswith(f"{mix_url}?stems=vocals,drums,bass"), href
    # The mixer's pan and volume travel with the mix link, so the mix-down sounds like what is heard.
    browser.execute_script(
        "var pan = arguments[0].querySelector('[data-stem-pan]'); pan.value = '-0.5';"
        "pan.dispatchEvent(new Event('input'));"
        "var volume = arguments[0].querySelector('[data-stem-volume]'); volume.value = '0.5';"
        "volume.dispatchEvent(new Event('input'));",
        player.find_element(By.CSS_SELECTOR, "[data-stem-name='bass']"),
    )
    href = link.get_attribute("href")
    assert href.endswith(f"{mix_url}?stems=vocals,drums,bass&gain.bass=-6.0&pan.bass=-0.50"), href
    assert (
        player.find_element(By.CSS_SELECTOR, "[data-stem-name='bass'] [data-stem-pan]").get_attribute("aria-valuetext")
        == "50% left"
    )
    assert len(player.find_elements(By.CSS_SELECTOR, ".stem-wave path")) == 4
    result = browser.execute_async_script(FETCH_STATUS, href)
    assert result.get("status") == 200, result
    assert result["type"].startswith("audio/wav"), result
    assert result["size"] > 6 * 44100 * 2 * 3, result  # 6 s of 24-bit stereo
    collect_console()

    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
