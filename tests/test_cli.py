"""The command line: bulk import of a folder, and the whole pipeline on files for servers without a browser."""

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job
from midi.models import MidiClip
from pipelines.models import Pipeline
from tests import audio_factory as af
from tests.model_factory import make_tiny_htdemucs
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def music(tmp_path):
    folder = tmp_path / "music"
    (folder / "Album").mkdir(parents=True)
    af.write(folder / "one.wav", af.chord_progression(seconds=2.0, channels=2), fmt="wav")
    af.write(folder / "Album" / "two.flac", af.click_track(bpm=100, seconds=2.0), fmt="flac")
    (folder / "Album" / "three.mp3").write_bytes(b"this is not audio")
    (folder / "notes.txt").write_text("not music")
    (folder / ".hidden.wav").write_bytes(b"")
    return folder


def test_import_folder_imports_audio_once_and_explains_what_it_skipped(music, user, capsys):
    call_command("import_folder", str(music), user=user.username)
    out, err = capsys.readouterr()
    assert Track.objects.filter(owner=user).count() == 2
    assert "2 imported, 0 already there, 1 failed" in out
    assert "three.mp3: skipped" in err
    assert Job.objects.filter(kind="analyse").count() == 2

    call_command("import_folder", str(music), user=user.username)
    out, _ = capsys.readouterr()
    assert "0 imported, 2 already there, 1 failed" in out
    assert Track.objects.filter(owner=user).count() == 2


def test_import_folder_needs_a_folder_and_a_user(music, user, other_user):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("import_folder", str(music / "one.wav"), user=user.username)
    with pytest.raises(CommandError, match="--user"):
        call_command("import_folder", str(music))  # two users: which one?
    with pytest.raises(CommandError, match="no active user"):
        call_command("import_folder", str(music), user="nobody")


def test_process_runs_the_pipeline_in_the_command(music, user, settings, tmp_path, capsys):
    settings.MODEL_DIR = tmp_path / "models"
    settings.STEMCRATE_DEVICE = "cpu"
    make_tiny_htdemucs(settings.MODEL_DIR, "htdemucs")
    call_command("process", str(music / "one.wav"), user=user.username, steps="analyse,separate,midi", no_progress=True)
    out, _ = capsys.readouterr()
    pipeline = Pipeline.objects.get()
    assert pipeline.status == "succeeded", out
    assert {j.step for j in pipeline.jobs.all()} == {"analyse", "separate", "midi:bass", "midi:other", "midi:drums"}
    assert MidiClip.objects.filter(track__owner=user).count() == 3
    assert "Done" in out and "midi:bass" in out


def test_process_reports_failures_and_bad_requests(music, user, settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "no-models"
    with pytest.raises(CommandError, match="Unknown step"):
        call_command("process", str(music / "one.wav"), user=user.username, steps="mastering")
    with pytest.raises(CommandError, match=r"three.mp3: "):
        call_command("process", str(music / "Album" / "three.mp3"), user=user.username)
    call_command("process", str(music / "one.wav"), user=user.username, steps="analyse,separate", no_progress=True)
    pipeline = Pipeline.objects.get()
    assert pipeline.status == "partial"
    assert "download_models htdemucs" in pipeline.jobs.get(pipeline_step__step="separate").error
