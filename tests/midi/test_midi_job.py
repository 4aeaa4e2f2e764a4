"""MIDI as a job: real Basic Pitch (ONNX) on a stem, the track's tempo in the file, notes stored, owner only."""

import io
import itertools

import mido
import pytest
from django.core.files.storage import default_storage

from jobs.services import perform as perform_job
from midi.models import MidiClip
from midi.services import do_request_midi
from tests.browser.conftest import make_track_with_fake_stems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def song(user, tmp_path):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    return track, {stem.name: stem for stem in stem_set.stems.all()}


def run_midi(track, stem=None, **options):
    job = do_request_midi(track, stem=stem, options=options)
    perform_job("midi", str(job.pk))
    job.refresh_from_db()
    return job


def test_it_converts_the_bass_stem_at_the_track_tempo(song):
    track, stems = song
    job = run_midi(track, stems["bass"])
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])
    assert (job.kind, job.queue, job.model_name) == ("midi", "cpu", "basic-pitch")
    clip = MidiClip.objects.get(track=track)
    assert (clip.source, clip.preset, clip.stem_id) == ("bass", "bass", stems["bass"].pk)
    assert clip.note_count == len(clip.notes) >= 4
    # The fake bass plucks a sine on every beat (0.5 s): A1, D2, E2, A1 for two seconds each (MIDI 33, 38, 40).
    assert {n[2] for n in clip.notes} <= {33, 38, 40}
    assert {38, 40} <= {n[2] for n in clip.notes}
    assert all(abs(n[0] - round(n[0] * 2) / 2) < 0.12 for n in clip.notes)
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(clip.notes, clip.notes[1:], strict=False))  # monophonic
    with default_storage.open(clip.file.name) as fh:
        song_file = mido.MidiFile(file=io.BytesIO(fh.read()))
    tempos = [m.tempo for t in song_file.tracks for m in t if m.type == "set_tempo"]
    assert tempos and mido.tempo2bpm(tempos[0]) == pytest.approx(track.bpm, abs=0.01)
    assert clip.bpm == track.bpm


def test_quantise_snaps_notes_to_the_beat_grid(song):
    track, stems = song
    assert run_midi(track, stems["other"], quantise=True).status == "succeeded"
    clip = MidiClip.objects.get(track=track, source="other")
    assert clip.quantised and clip.notes and len(track.beats) > 4
    beats = track.beats  # the grid is the detected beats, each split into sixteenths
    grid = [a + k * (b - a) / 4 for a, b in itertools.pairwise(beats) for k in range(4)] + [beats[-1]]
    inside = [n for n in clip.notes if beats[0] <= n[0] <= beats[-1]]
    assert inside and all(min(abs(n[0] - g) for g in grid) < 0.002 for n in inside)


def test_a_rerun_replaces_the_clip_and_its_file(song):
    track, stems = song
    run_midi(track, stems["bass"])
    old = MidiClip.objects.get(track=track)
    run_midi(track, stems["bass"], onset_threshold=0.6)
    new = MidiClip.objects.get(track=track)
    assert new.pk != old.pk and new.params["onset_threshold"] == 0.6
    assert not default_storage.exists(old.file.name) and default_storage.exists(new.file.name)


def test_bad_options_are_refused(song):
    track, stems = song
    with pytest.raises(ValueError):
        do_request_midi(track, stem=stems["bass"], options={"onset_threshold": 7})
    with pytest.raises(ValueError, match="Unknown MIDI option"):  # a drum option on a pitched part
        do_request_midi(track, stem=stems["bass"], options={"humanise": True})
    with pytest.raises(ValueError, match="keep must list"):
        do_request_midi(track, stem=stems["drums"], options={"keep": ["cowbells"]})


def test_the_api_starts_jobs_and_serves_notes_and_file_to_the_owner_only(song, api_client, user, other_user, client):
    track, stems = song
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/stems/{stems['bass'].pk}/midi/", {"min_note_ms": 80}, format="json")
    assert response.status_code == 202, response.content
    perform_job("midi", response.json()["id"])
    clips = api_client.get("/api/midi/", {"track": str(track.pk)}).json()["results"]
    assert len(clips) == 1 and clips[0]["preset"] == "bass" and "notes" not in clips[0]
    detail = api_client.get(f"/api/midi/{clips[0]['id']}/").json()
    assert detail["notes"] and detail["bpm"] == pytest.approx(track.bpm)
    client.force_login(user)
    response = client.get(detail["file_url"])
    assert response.status_code == 200 and response["Content-Type"] == "audio/midi"
    assert api_client.post(f"/api/tracks/{track.pk}/midi/", {"onset_threshold": 2}, format="json").status_code == 400

    api_client.force_authenticate(other_user)
    client.force_login(other_user)
    assert api_client.get(f"/api/midi/{clips[0]['id']}/").status_code == 404
    assert api_client.post(f"/api/stems/{stems['bass'].pk}/midi/", {}, format="json").status_code == 404
    assert client.get(detail["file_url"]).status_code == 404
