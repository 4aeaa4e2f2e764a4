"""Drag out: a sample, a stem, a MIDI clip and lyrics carry their real file (Chrome's DownloadURL), in the
format the person chose, from URLs that serve it to its owner only."""

import io
import time
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
import soundfile as sf
from django.urls import reverse

from jobs.services import perform as perform_job
from samples.models import Sample
from samples.services import do_request_slice
from tests.browser.conftest import (
    PHONE,
    csp_violations,
    make_track_with_fake_stems,
    save_screenshot,
    sideways_overflow,
    sign_in,
)

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAG = """
var el = document.querySelector(arguments[0]);
var data = new DataTransfer();
el.dispatchEvent(new DragEvent("dragstart", {bubbles: true, cancelable: true, dataTransfer: data}));
return {downloadUrl: data.getData("DownloadURL"), uri: data.getData("text/uri-list"),
        draggable: el.getAttribute("draggable")};
"""

FETCH = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin"})
  .then(function (response) {
    return response.arrayBuffer().then(function (body) {
      done({status: response.status, type: response.headers.get("content-type"),
            disposition: response.headers.get("content-disposition"),
            body: Array.from(new Uint8Array(body.slice(0, 12)))});
    });
  })
  .catch(function (error) { done({error: String(error)}); });
"""


def test_samples_and_stems_drag_out_as_real_files_in_the_chosen_format(
    live_server, browser, django_user_model, tmp_path, client
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    other = django_user_model.objects.create_user("other", "other@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=4.0)
    drums = stem_set.stems.get(name="drums")
    perform_job("slice", str(do_request_slice(track, stem=drums).pk))
    sample = Sample.objects.filter(stem=drums).order_by("index").first()

    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("samples:samples"))
    wait = WebDriverWait(browser, 15)
    card = f"#sample-{sample.pk}"
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("draggable") == "true")

    # Default: WAV 24-bit, named as the page names the sample.
    drag = browser.execute_script(DRAG, card)
    kind, name, url = drag["downloadUrl"].split(":", 2)
    assert (kind, name) == ("audio/wav", f"{sample.display_name}.wav") and drag["uri"] == url
    assert url.startswith(live_server.url + f"/media/samples/{sample.pk}/audio?format=wav24")
    got = browser.execute_async_script(FETCH, url)
    assert got["status"] == 200 and got["type"] == "audio/wav" and bytes(got["body"][:4]) == b"RIFF", got

    # Choose AIFF once: every drag from now on (and on other pages: it is remembered) is an AIFF file.
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-drag-format]")).select_by_value("aiff")
    kind, name, url = browser.execute_script(DRAG, card)["downloadUrl"].split(":", 2)
    assert (kind, name) == ("audio/aiff", f"{sample.display_name}.aif") and "format=aiff" in url
    got = browser.execute_async_script(FETCH, url)
    assert got["status"] == 200 and bytes(got["body"][:4]) == b"FORM" and bytes(got["body"][8:12]) == b"AIFF", got
    assert f"{sample.display_name}.aif" in got["disposition"]

    # A stem from the track page; the format choice came along.
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    row = "#stems [data-stem-name='bass']"
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("draggable") == "true")
    assert (
        Select(
            browser.find_element(By.CSS_SELECTOR, "#stems select[data-drag-format]")
        ).first_selected_option.get_attribute("value")
        == "aiff"
    )
    kind, name, stem_url = browser.execute_script(DRAG, row)["downloadUrl"].split(":", 2)
    assert (kind, name) == ("audio/aiff", f"{track.display_title} - Bass.aif"), name
    got = browser.execute_async_script(FETCH, stem_url)
    assert got["status"] == 200 and bytes(got["body"][:4]) == b"FORM", got
    refused = csp_violations([entry["message"] for entry in browser.get_log("browser")])
    assert not refused, refused

    # The file is the owner's only: the same URLs are a 404 for anyone else.
    path = url.removeprefix(live_server.url)
    client.force_login(user)
    response = client.get(path)
    data, rate = sf.read(io.BytesIO(b"".join(response.streaming_content)))
    assert response.status_code == 200 and rate == sample.sample_rate and len(data) > 0
    client.force_login(other)
    assert client.get(path).status_code == 404
    assert client.get(stem_url.removeprefix(live_server.url)).status_code == 404
    client.force_login(user)
    assert client.get(f"/media/samples/{sample.pk}/audio?format=ogg").status_code == 400


def test_a_selection_drags_and_downloads_as_one_zip(live_server, browser, django_user_model, tmp_path, client):
    """A browser drags one file at a time: dragging a selected card while several are selected drags one ZIP of
    the selection, and the action bar's ZIP button downloads the same ZIP in one click."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    other = django_user_model.objects.create_user("other", "other@example.com", PASSWORD)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "parts", seconds=4.0)
    perform_job("slice", str(do_request_slice(track, stem=stem_set.stems.get(name="drums")).pk))
    first, second, third = Sample.objects.filter(track=track).order_by("index")[:3]

    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("samples:samples"))
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#sample-{first.pk}").get_attribute("draggable") == "true")
    Select(browser.find_element(By.CSS_SELECTOR, "select[data-drag-format]")).select_by_value("flac")

    # One selected (or none): a card drags its own file.
    browser.find_element(By.CSS_SELECTOR, f"#sample-{first.pk}-check").click()
    kind, name, _ = browser.execute_script(DRAG, f"#sample-{first.pk}")["downloadUrl"].split(":", 2)
    assert (kind, name) == ("audio/flac", f"{first.display_name}.flac")
    # Two selected: either of them drags the ZIP of both; an unselected card still drags itself.
    browser.find_element(By.CSS_SELECTOR, f"#sample-{third.pk}-check").click()
    kind, name, url = browser.execute_script(DRAG, f"#sample-{third.pk}")["downloadUrl"].split(":", 2)
    assert (kind, name) == ("application/zip", "Stemcrate samples (2 samples).zip"), name
    query = parse_qs(urlsplit(url).query)
    assert set(query["ids"][0].split(",")) == {str(first.pk), str(third.pk)} and query["format"] == ["flac"], url
    kind, _, _ = browser.execute_script(DRAG, f"#sample-{second.pk}")["downloadUrl"].split(":", 2)
    assert kind == "audio/flac"
    got = browser.execute_async_script(FETCH, url)
    assert got["status"] == 200 and got["type"] == "application/zip" and bytes(got["body"][:2]) == b"PK", got

    # The ZIP button: one click, one download of the same selection (Chrome saves it into `downloads`).
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.find_element(By.CSS_SELECTOR, "[data-selection-zip]").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [p for p in downloads.iterdir() if p.suffix == ".zip"]:
        time.sleep(0.1)
    saved = [p for p in downloads.iterdir() if p.suffix == ".zip"]
    assert [p.name for p in saved] == ["Stemcrate samples (2 samples).zip"], list(downloads.iterdir())
    names = sorted(n.rsplit("/", 1)[-1] for n in zipfile.ZipFile(saved[0]).namelist() if "/Samples/" in n)
    assert names == sorted([f"{first.display_name}.flac", f"{third.display_name}.flac"])
    # The page stayed (the bulk form's other actions were not posted) and the selection is still there.
    assert browser.find_element(By.CSS_SELECTOR, f"#sample-{first.pk}-check").is_selected()
    refused = csp_violations([entry["message"] for entry in browser.get_log("browser")])
    assert not refused, refused

    # On a phone the results bar (select page, hover to play, "Drag as", the layout switch) wraps, and the
    # action bar with its ZIP button fits: no sideways scroll.
    browser.set_window_size(*PHONE)
    time.sleep(0.3)
    overflow, wide = sideways_overflow(browser)
    assert overflow <= 0, (overflow, wide)
    assert browser.find_element(By.CSS_SELECTOR, "[data-selection-zip]").is_displayed()
    save_screenshot(browser, "samples-selection-phone")

    client.force_login(other)
    assert client.get(url.removeprefix(live_server.url)).status_code == 404
