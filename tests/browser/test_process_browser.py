""" "Process everything" in a real browser: a track with stems (made without a model), the steps limited to the
ones that need no downloaded weights (slicing and MIDI), the jobs run here as a worker would, and the page
following along by itself: the panel polls to Done, and the samples and MIDI lists refresh when it ends.

Uses the Debian chromium and chromedriver, like the other browser tests; no worker and no model weights needed.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from jobs.services import perform as perform_job
from tests.browser.conftest import csp_violations, make_track_with_fake_stems, sign_in

PASSWORD = "correct-horse-battery-9"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_queued_jobs(pipeline, limit=20):
    """What workers would do: run each queued job of the pipeline here, until none is left."""
    from jobs.models import Job

    for _ in range(limit):
        job = pipeline.jobs.filter(status=Job.Status.QUEUED).order_by("queued_at").first()
        if job is None:
            return
        perform_job(job.kind, str(job.pk))


def test_process_everything_runs_to_done_and_lists_the_midi(live_server, browser, django_user_model, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from midi.models import MidiClip
    from pipelines.models import Pipeline
    from samples.models import Sample

    user = django_user_model.objects.create_user("producer", "producer@example.com", PASSWORD)
    track, _ = make_track_with_fake_stems(user, tmp_path / "parts", seconds=6.0)
    wait = WebDriverWait(browser, 30)
    console = []

    def collect_console():
        console.extend(entry["message"] for entry in browser.get_log("browser"))

    sign_in(browser, live_server, "producer", PASSWORD)
    browser.get(live_server.url + reverse("tracks:track", args=[track.pk]))
    panel = wait.until(EC.presence_of_element_located((By.ID, "pipeline")))
    assert "No MIDI yet" in browser.find_element(By.ID, "track-midi").text

    # Options: only the steps that run without downloaded weights.
    panel.find_element(By.CSS_SELECTOR, ".pipeline-options-toggle").click()
    for step in ("separate", "lyrics"):
        box = panel.find_element(By.CSS_SELECTOR, f"input[data-step-choice='{step}']")
        assert box.is_selected()
        box.click()
    assert not panel.find_element(By.CSS_SELECTOR, "input[data-step-choice='analyse']").is_selected()
    panel.find_element(By.ID, "pipeline-quantise").click()
    panel.find_element(By.CSS_SELECTOR, "button[data-process]").click()

    # htmx swaps in the running panel; the pipeline exists with exactly those steps.
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#pipeline.is-active [data-step='midi:bass']")))
    pipeline = Pipeline.objects.get(track=track)
    assert pipeline.steps == ["slice", "midi"] and pipeline.options["midi"] == {"quantise": True}
    steps = {el.get_attribute("data-step") for el in browser.find_elements(By.CSS_SELECTOR, "#pipeline [data-step]")}
    assert steps == {"slice:drums", "slice:vocals", "midi:bass", "midi:other", "midi:drums"}

    run_queued_jobs(pipeline)
    pipeline.refresh_from_db()
    assert pipeline.status == "succeeded", {j.step: j.error for j in pipeline.jobs.all()}

    # The panel polls until it sees the end (then stops), and the outputs refresh on the event it sends.
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#pipeline [data-pipeline-status='succeeded']")))
    assert browser.find_element(By.CSS_SELECTOR, "#pipeline [data-pipeline-status]").text == "Done"
    assert browser.find_element(By.CSS_SELECTOR, "#pipeline [data-pipeline-percent]").text == "100%"
    assert not browser.find_elements(By.CSS_SELECTOR, "#pipeline[hx-trigger*='every']")
    clips = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#track-midi [data-midi-clip]"))
    assert {clip.get_attribute("data-midi-clip") for clip in clips} == {"bass", "other", "drums"}
    assert MidiClip.objects.filter(track=track, quantised=True).count() == 3  # the drum part too
    bass = browser.find_element(By.CSS_SELECTOR, "#track-midi [data-midi-clip='bass'] a.output-name")
    assert bass.get_attribute("href").endswith(MidiClip.objects.get(track=track, source="bass").get_absolute_url())
    if Sample.objects.filter(track=track).exists():
        wait.until(lambda d: "No samples yet" not in d.find_element(By.ID, "track-samples").text)

    shots = Path(os.environ.get("STEMCRATE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser.execute_script("document.getElementById('pipeline').scrollIntoView();")
    screenshot = shots / "track-processed.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0

    collect_console()
    refused = csp_violations(console)
    assert not refused, "the Content-Security-Policy blocked something:\n" + "\n".join(refused)
