"""Hostile uploads (issue 8): a corpus of bad files and names, and fuzzing of the upload and analysis path.

Every bad file gets a clear 4xx with a sentence (or, when it is valid audio, is accepted and its analysis job
ends with a result or a reason); nothing is stored, no temporary file is left behind, and a worker that meets
a file it cannot analyse goes on to the next job.
"""

import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from audio import audio_io
from jobs.models import Job
from jobs.services import perform as perform_job
from tests import audio_factory as af
from tests import hostile_corpus as hc
from tracks.models import Track

GENERIC_FAILURE = "Something went wrong"


def media_listing():
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def temp_listing():
    """Everything in this test process's temporary folder (tests/testenv.py), except pytest's own tmp_path."""
    root = Path(tempfile.gettempdir())
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if not p.relative_to(root).parts[0].startswith("pytest-of-")
    )


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def post_api(api, content: bytes, name: str):
    return api.post("/api/tracks/", {"file": SimpleUploadedFile(name, content)}, format="multipart")


def post_page(client, content: bytes, name: str):
    return client.post("/upload/", {"file": SimpleUploadedFile(name, content)})


def post_raw(client, url: str, content: bytes, raw_filename: bytes, **extra):
    """A multipart body written by hand, so the file name reaches the server exactly as given (the test
    client would take its basename first)."""
    boundary = b"----hostile-boundary-7e3f"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + raw_filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n"
    )
    return client.generic("POST", url, body, content_type=f"multipart/form-data; boundary={boundary.decode()}", **extra)


def analyse_now(track_id):
    """Run the track's analysis job here, as a worker would; returns the job afterwards."""
    job = Job.objects.get(subject_id=track_id, kind="analyse")
    perform_job("analyse", str(job.pk))
    job.refresh_from_db()
    return job


# ------------------------------------------------------------------------------------------------ the corpus


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["api", "page"])
@pytest.mark.parametrize("case", hc.REFUSED)
def test_a_hostile_file_gets_a_clear_4xx_and_leaves_nothing(api, user_client, tmp_path, case, endpoint):
    make, name = hc.REFUSED[case]
    content = make(tmp_path / name).read_bytes()
    before_media, before_tmp = media_listing(), temp_listing()
    if endpoint == "api":
        response = post_api(api, content, name)
        assert response.status_code in (400, 413, 415), (case, response.content)
        detail = response.json()["detail"]
        assert len(detail) > 20 and detail.endswith("."), detail  # a sentence, not a code
    else:
        response = post_page(user_client, content, name)
        assert response.status_code == 400, case
        assert response.context["results"][0]["ok"] is False
        assert len(response.context["results"][0]["message"]) > 20
    assert not Track.objects.exists()
    assert not Job.objects.exists()
    assert media_listing() == before_media
    assert temp_listing() == before_tmp


def test_the_corpus_files_are_small():
    """Bombs are small files: the point is what they decode to, not what they cost to upload."""
    with tempfile.TemporaryDirectory() as tmp:
        for make, name in hc.REFUSED.values():
            assert make(Path(tmp) / name).stat().st_size < 600_000, name


def test_bombs_are_refused_by_the_duration_limit_without_decoding_everything(tmp_path):
    """What is decoded is counted (not timed): a bomb costs a decode of the limit, never of what it declares."""
    real, decoded = audio_io._decoded_frames, []

    def counted(path, info, demuxer, limit):
        result = real(path, info, demuxer, limit)
        decoded.append(result[0] / info.sample_rate)
        return result

    # 24 h of 8 kHz mono that declares no length: decoding stops just past the limit (30 min).
    with mock.patch.object(audio_io, "_decoded_frames", counted):
        with pytest.raises(audio_io.AudioError) as exc:
            audio_io.validate(
                hc.flac_bomb_unknown_length(tmp_path / "a.flac"), max_duration=settings.UPLOAD_MAX_DURATION
            )
        assert exc.value.code == "too_long"
        assert len(decoded) == 1 and settings.UPLOAD_MAX_DURATION < decoded[0] <= settings.UPLOAD_MAX_DURATION + 2
        # A declared length over the limit is refused from the header alone: nothing is decoded.
        for make in (hc.flac_bomb_declared_24h, hc.mp3_xing_huge_frame_count):
            with pytest.raises(audio_io.AudioError, match="long; the limit is") as exc:
                audio_io.validate(make(tmp_path / "b"), max_duration=settings.UPLOAD_MAX_DURATION)
            assert exc.value.code == "too_long"
    assert len(decoded) == 1, decoded


def test_a_24_hour_wav_header_in_front_of_one_second_is_truncated_not_accepted(tmp_path):
    with pytest.raises(audio_io.AudioError, match=r"truncated or corrupt: decoding stopped at 0:00 of 24:00:00"):
        audio_io.validate(hc.wav_24_hours_truncated(tmp_path / "a.wav"), max_duration=settings.UPLOAD_MAX_DURATION)


def test_a_wav_written_to_a_pipe_without_sizes_is_accepted(tmp_path):
    """ffmpeg (and sox) write 0xFFFFFFFF sizes when the output cannot seek; the last packet is then short."""
    path = tmp_path / "piped.wav"
    with open(path, "wb") as out:
        import subprocess

        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=d=3", "-f", "wav", "pipe:1"],
            stdout=out,
            check=True,
            timeout=60,
        )
    assert path.read_bytes()[4:8] == b"\xff\xff\xff\xff"
    info = audio_io.validate(path, max_duration=settings.UPLOAD_MAX_DURATION)
    assert (info.format, info.sample_rate) == ("wav", 44100)
    assert 2.9 < info.duration <= 3.0


# Transactional: the job's lease keeper thread writes to the database while the job runs.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", hc.ACCEPTED)
def test_valid_but_extreme_files_are_accepted_and_analysed(api, tmp_path, case):
    """8 channels at 384 kHz are within the limits; a streamed WAV (sizes 0xFFFFFFFF) is a valid WAV of
    unknown length. Both are stored, and analysis ends with a result or a reason, never a crash."""
    make, name = hc.ACCEPTED[case]
    before_tmp = temp_listing()
    response = post_api(api, make(tmp_path / name).read_bytes(), name)
    assert response.status_code == 201, response.content
    job = analyse_now(response.json()["id"])
    track = Track.objects.get(pk=response.json()["id"])
    assert job.status in ("succeeded", "failed"), job.status
    if job.status == "failed":
        assert job.error and GENERIC_FAILURE not in job.error and "unexpectedly" not in track.error, job.error
    else:
        assert track.status == Track.Status.READY, track.error
    assert temp_listing() == before_tmp


@pytest.mark.django_db
@pytest.mark.parametrize("case", hc.HOSTILE_NAMES)
def test_hostile_file_names_never_reach_a_path_or_a_page(api, user_client, tmp_path, case):
    raw = hc.HOSTILE_NAMES[case].encode("utf-8")
    content = hc.small_wav(tmp_path / "ok.wav").read_bytes()
    before_tmp = temp_listing()
    response = post_raw(api, "/api/tracks/", content, raw)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:  # the multipart parser could not make a file of it
        assert response.json()["detail"]
        assert not Track.objects.exists()
    else:
        track = Track.objects.get(pk=response.json()["id"])
        shown = track.original_filename
        assert shown and len(shown) <= 255
        assert not any(c in shown for c in "/\\\x00\n\r\x07\x1b\x7f"), repr(shown)
        assert not shown.startswith(".")
        # Stored under the track's own id, whatever the name said.
        assert track.original.name.startswith(f"users/{track.owner_id}/tracks/{track.pk}/original")
        assert all(".." not in part for part in Path(track.original.name).parts)
        assert default_storage.exists(track.original.name)
        page = user_client.get(f"/tracks/{track.pk}/")
        assert page.status_code in (200, 302, 404)  # shown (escaped) or not; never a 500
    assert temp_listing() == before_tmp


@pytest.mark.django_db
def test_the_page_form_takes_hostile_names_too(user_client, tmp_path):
    content = hc.small_wav(tmp_path / "ok.wav").read_bytes()
    response = post_raw(user_client, "/upload/", content, "../../\u202eevil\x01\n.wav".encode())
    assert response.status_code in (200, 400)
    for track in Track.objects.all():
        assert "/" not in track.original_filename and "\x01" not in track.original_filename


# ------------------------------------------------------------------------------------------------- fuzzing


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    signal = af.tone(440, 0.4, sr=8000)
    return {
        "wav": af.write(folder / "s.wav", signal, sr=8000, fmt="wav").read_bytes(),
        "flac": af.write(folder / "s.flac", signal, sr=8000, fmt="flac").read_bytes(),
        "mp3": af.write(folder / "s.mp3", signal, sr=8000, fmt="mp3").read_bytes(),
    }


_ops = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.none()),
    st.tuples(
        st.just("field"), st.integers(0, 96), st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x10000, 8, 384_001])
    ),
)


def mutate(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for op, offset, arg in ops:
        at = offset % (len(out) + 1)
        if op == "flip" and at < len(out):
            out[at] ^= arg
        elif op == "insert":
            out[at:at] = arg
        elif op == "truncate":
            del out[at:]
        elif op == "field":
            out[at : at + 4] = arg.to_bytes(4, "little")
    return bytes(out)


mutations = st.tuples(st.sampled_from(["wav", "flac", "mp3"]), st.lists(_ops, min_size=1, max_size=4))


@hsettings(max_examples=100, deadline=20_000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutations)
def test_validate_fuzz_only_ever_returns_info_or_raises_audio_error(seeds, case):
    fmt, ops = case
    before_tmp = temp_listing()
    with tempfile.TemporaryDirectory(dir=tempfile.gettempdir(), prefix="pytest-of-fuzz-") as folder:
        path = Path(folder) / f"x.{fmt}"
        path.write_bytes(mutate(seeds[fmt], ops))
        try:
            info = audio_io.validate(path, max_duration=60)
        except audio_io.AudioError as exc:
            assert str(exc) and exc.code
        else:
            assert info.format in audio_io.SUPPORTED_FORMATS
            assert 0 < info.duration <= 60
            assert 1 <= info.channels <= audio_io.MAX_CHANNELS
    assert temp_listing() == before_tmp


@pytest.mark.django_db
@hsettings(
    max_examples=20,
    deadline=30_000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=mutations)
def test_upload_fuzz_answers_2xx_or_4xx_with_a_reason(api, seeds, case):
    fmt, ops = case
    before_tmp = temp_listing()
    response = post_api(api, mutate(seeds[fmt], ops), f"fuzz.{fmt}")
    assert response.status_code in (200, 201, 400, 413, 415), response.content
    if response.status_code >= 400:
        assert len(response.json()["detail"]) > 20
    assert temp_listing() == before_tmp


# ------------------------------------------------------------------------------------------ the worker stays up


def _wait_for_job(track_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.filter(subject_id=track_id).first()
        if job and not job.is_active:
            return job
        time.sleep(0.05)
    raise AssertionError(f"the job of track {track_id} did not finish in {timeout} s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_meets_an_unanalysable_file_goes_on_to_the_next_job(api_client, user, tmp_path, worker_factory):
    api_client.force_authenticate(user)
    # Valid at upload, then damaged in storage (bit rot): only analysis can find out. The worker starts once the
    # file is damaged, so it cannot analyse the good file first (its next poll could come before the write).
    good = af.write(tmp_path / "a.flac", af.tone(440, 3.0), fmt="flac").read_bytes()
    response = post_api(api_client, good, "a.flac")
    assert response.status_code == 201, response.content
    bad_id = response.json()["id"]
    track = Track.objects.get(pk=bad_id)
    with default_storage.open(track.original.name, "wb") as fh:
        fh.write(good[:300] + hc.flac_silence_bomb(tmp_path / "bomb.flac", seconds=5).read_bytes()[40:] * 3)
    worker = worker_factory("cpu")
    job = _wait_for_job(bad_id)
    assert job.status == "failed"
    assert job.error and GENERIC_FAILURE not in job.error, job.error
    assert Track.objects.get(pk=bad_id).status == Track.Status.FAILED

    ok = af.write(tmp_path / "b.wav", af.click_track(bpm=120, seconds=6), fmt="wav").read_bytes()
    response = post_api(api_client, ok, "b.wav")
    assert response.status_code == 201
    job = _wait_for_job(response.json()["id"])
    assert job.status == "succeeded", job.error
    assert worker.proc.poll() is None  # the same worker process, still running
