"""Drums to MIDI as a job: a drums stem (always) or a drum loop uploaded as a track (on request) becomes a
General MIDI drum part on channel 10, at the track's tempo, stored for the piano roll's drum lanes; owner only."""

import io
import itertools

import mido
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from audio import drum_midi, midi
from jobs.models import Job
from jobs.services import perform as perform_job
from midi.models import MidiClip
from midi.services import do_request_midi
from tests import audio_factory as af
from tests import drum_factory as df
from tests.browser.conftest import make_track_with_fake_stems
from tracks import services as tracks_services

pytestmark = pytest.mark.django_db(transaction=True)


def midi_notes(clip):
    with default_storage.open(clip.file.name) as fh:
        song = mido.MidiFile(file=io.BytesIO(fh.read()))
    return song, [m for track in song.tracks for m in track if m.type == "note_on" and m.velocity > 0]


def test_a_drums_stem_becomes_a_drum_part_at_the_track_tempo(user, tmp_path, api_client, other_user, client):
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    drums = stem_set.stems.get(name="drums")
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/stems/{drums.pk}/midi/", {"quantise_strength": 1.0}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.queue) == ("drum_midi", "cpu")
    perform_job("drum_midi", str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", (job.error, job.traceback[-2000:])

    clip = MidiClip.objects.get(track=track, stem=drums)
    assert (clip.source, clip.preset, clip.is_drums, clip.quantised) == ("drums", "drums", True, True)
    # The fake drums are a click on every beat at 120 BPM (one every 0.5 s): one moment per click, each near its
    # click and, quantised at full strength, exactly on the track's detected beat grid (sixteenths of its beats).
    starts = sorted({round(n[0], 4) for n in clip.notes})
    assert len(starts) == round(track.duration * 2), starts
    assert all(abs(t - round(t * 2) / 2) < 0.03 for t in starts), starts
    beats = track.beats
    grid = [a + k * (b - a) / 4 for a, b in itertools.pairwise(beats) for k in range(4)] + [beats[-1]]
    assert all(min(abs(t - g) for g in grid) < 0.002 for t in starts if beats[0] <= t <= beats[-1])
    song, ons = midi_notes(clip)
    assert {m.channel for m in ons} == {midi.DRUM_CHANNEL} and len(ons) == clip.note_count
    tempos = [m.tempo for t in song.tracks for m in t if m.type == "set_tempo"]
    assert mido.tempo2bpm(tempos[0]) == pytest.approx(track.bpm, abs=0.01)

    # The piano roll shows named drum lanes for the notes the part holds.
    client.force_login(user)
    page = client.get(clip.get_absolute_url())
    assert page.status_code == 200
    config = page.context["roll_config"]
    assert config["drums"] is True and config["lanes"]
    assert {pitch for pitch, _ in config["lanes"]} == {n[2] for n in clip.notes}
    client.force_login(other_user)
    assert client.get(clip.get_absolute_url()).status_code == 404
    assert client.get(f"/media/midi/{clip.pk}/file").status_code == 404


def test_a_drum_loop_track_becomes_a_drum_part_with_separate_notes_for_hits_together(user, tmp_path):
    take = df.render_drums(
        [(0.5, "kick", 120), (0.5, "closed_hat", 100), (1.0, "snare", 115), (1.5, "kick", 120), (2.0, "snare", 115)],
        tail=0.8,
    )
    path = af.write(tmp_path / "loop.wav", take.samples, take.sample_rate, "wav")
    upload = SimpleUploadedFile("Drum loop.wav", path.read_bytes(), content_type="audio/wav")
    track = tracks_services.do_upload_track(user, upload, title="Drum loop").track
    perform_job("analyse", str(Job.objects.about(track).latest("queued_at").pk))
    track.refresh_from_db()
    with pytest.raises(ValueError):  # without `drums`, the mix goes to Basic Pitch, which refuses drum options
        do_request_midi(track, options={"keep": ["kick"]})
    job = do_request_midi(track, options={"drums": True})
    perform_job("drum_midi", str(job.pk))
    clip = MidiClip.objects.get(track=track, source="drums")
    by_time = {}
    for start, _, pitch, _ in clip.notes:
        by_time.setdefault(round(start, 1), set()).add(pitch)
    assert by_time[0.5] == {drum_midi.KICK, drum_midi.CLOSED_HAT}, clip.notes  # two notes for two instruments
    assert by_time[1.0] == {drum_midi.SNARE} and by_time[1.5] == {drum_midi.KICK}, clip.notes


def test_keep_and_bad_options(user, tmp_path, api_client):
    _, stem_set = make_track_with_fake_stems(user, tmp_path / "song")
    drums = stem_set.stems.get(name="drums")
    api_client.force_authenticate(user)
    bad = api_client.post(f"/api/stems/{drums.pk}/midi/", {"keep": ["cowbells"]}, format="json")
    assert bad.status_code == 400 and "keep" in bad.json()
    bad = api_client.post(f"/api/stems/{drums.pk}/midi/", {"quantise_strength": 3}, format="json")
    assert bad.status_code == 400
    bad = api_client.post(f"/api/stems/{drums.pk}/midi/", {"onset_threshold": 0.5}, format="json")
    assert bad.status_code == 400 and "does not take" in bad.json()["detail"]
    ok = api_client.post(f"/api/stems/{drums.pk}/midi/", {"keep": ["kick", "snare"], "humanise": True}, format="json")
    assert ok.status_code == 202
    assert Job.objects.get(pk=ok.json()["id"]).params["keep"] == ["kick", "snare"]
