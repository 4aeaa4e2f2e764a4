"""audio.audio_io: probing, validating, decoding and transcoding real files made by ffmpeg."""

import numpy as np
import pytest
import soundfile as sf

from audio import audio_io
from audio.audio_io import AudioError, AudioInfo, decode, probe, transcode, validate, write_wav
from tests import audio_factory as af
from tests.audio.conftest import CLIP_SECONDS

# fmt, bit_depth -> format, codec, bit depth, sample rate, lossy, browser_playable
ACCEPTED = [
    ("wav", 16, "wav", "pcm_s16le", 16, 44100, False, True),
    ("wav", 24, "wav", "pcm_s24le", 24, 44100, False, True),
    ("aiff", 16, "aiff", "pcm_s16be", 16, 44100, False, False),
    ("aiff", 24, "aiff", "pcm_s24be", 24, 44100, False, False),
    ("flac", 16, "flac", "flac", 16, 44100, False, True),
    ("flac", 24, "flac", "flac", 24, 44100, False, True),
    ("mp3", 16, "mp3", "mp3", None, 44100, True, True),
    ("ogg", 16, "ogg", "vorbis", None, 44100, True, True),
    ("opus", 16, "opus", "opus", None, 48000, True, True),
    ("m4a", 16, "m4a", "aac", None, 44100, True, True),
    ("alac", 16, "m4a", "alac", 16, 44100, False, False),
]
ACCEPTED_IDS = [f"{row[0]}{row[1]}" for row in ACCEPTED]


@pytest.mark.parametrize(
    ("fmt", "depth", "format", "codec", "bit_depth", "rate", "lossy", "playable"), ACCEPTED, ids=ACCEPTED_IDS
)
def test_it_probes_every_accepted_format(clip_file, fmt, depth, format, codec, bit_depth, rate, lossy, playable):
    info = probe(clip_file(fmt, depth))

    assert isinstance(info, AudioInfo)
    assert (info.format, info.codec, info.bit_depth) == (format, codec, bit_depth)
    assert info.format in audio_io.SUPPORTED_FORMATS
    assert info.codec in audio_io.SUPPORTED_FORMATS[info.format]
    assert (info.sample_rate, info.channels) == (rate, 2)
    assert info.duration == pytest.approx(CLIP_SECONDS, abs=0.05)
    assert not info.duration_estimated
    assert info.browser_playable is playable
    if lossy:
        assert 32_000 <= info.bitrate <= 400_000
    else:
        assert info.bitrate is None


@pytest.mark.parametrize(("fmt", "depth"), [(row[0], row[1]) for row in ACCEPTED], ids=ACCEPTED_IDS)
def test_it_validates_every_accepted_format(clip_file, fmt, depth):
    info = validate(clip_file(fmt, depth), max_duration=60)

    # The length of the music: without the encoder delay/padding some containers count.
    assert info.duration == pytest.approx(CLIP_SECONDS, abs=0.03)


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "mp3", "ogg", "opus", "m4a", "alac"])
def test_it_reads_title_artist_and_album_tags(clip_file, fmt):
    tags = {"title": "Nachtzug — Intro", "artist": "Zoë & The Loops", "album": "Stems Vol. 2"}

    info = probe(clip_file(fmt, tags=tags))

    assert {k: info.tags.get(k) for k in tags} == tags
    assert all(key == key.lower() for key in info.tags)
    assert "encoder" not in info.tags


def test_it_has_no_tags_when_the_file_has_none(clip_file):
    assert probe(clip_file("flac")).tags == {}


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [("flac", "x.mp3", "flac"), ("mp3", "song.wav", "mp3"), ("wav", "take.flac", "wav"), ("opus", "a.ogg", "opus")],
)
def test_it_detects_the_format_from_the_content_not_the_name(clip_file, fmt, name, expected):
    assert probe(clip_file(fmt, name=name)).format == expected


def test_it_reads_files_with_names_ffmpeg_could_misread(clip_file, media_dir):
    path = clip_file("wav", name="-i concat:a|b http:.wav")

    assert validate(path).format == "wav"
    assert decode(path)[0].shape == (2, round(CLIP_SECONDS * af.SR))


# ---------------------------------------------------------------------------------------------- bad files


def _reason(exc_info) -> str:
    exc = exc_info.value
    assert str(exc) == exc.reason
    return exc.reason


def test_it_rejects_an_empty_file(tmp_path):
    with pytest.raises(AudioError) as exc_info:
        validate(af.zero_bytes(tmp_path / "empty.wav"))

    assert exc_info.value.code == "empty"
    assert "empty (0 bytes)" in _reason(exc_info)


def test_it_rejects_a_text_file_named_mp3(tmp_path):
    with pytest.raises(AudioError) as exc_info:
        validate(af.text_as_mp3(tmp_path / "song.mp3"))

    assert exc_info.value.code == "not_audio"
    assert _reason(exc_info) == (
        "This file is not audio we can read (it looks like plain text). "
        "Upload WAV, AIFF, FLAC, MP3, OGG/Opus or M4A/AAC."
    )


@pytest.mark.parametrize(
    ("head", "looks_like"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
        (b"%PDF-1.7\n" + bytes(200), "a PDF document"),
        (b"MThd\x00\x00\x00\x06" + bytes(200), "a MIDI file"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "a web page"),
    ],
)
def test_it_says_what_a_non_audio_file_looks_like(tmp_path, head, looks_like):
    path = tmp_path / "upload.wav"
    path.write_bytes(head)

    with pytest.raises(AudioError) as exc_info:
        probe(path)

    assert f"(it looks like {looks_like}" in _reason(exc_info)


def test_it_rejects_random_bytes(tmp_path):
    path = tmp_path / "noise.flac"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 50_000, dtype=np.uint8).tobytes())

    with pytest.raises(AudioError) as exc_info:
        validate(path)

    assert exc_info.value.code == "not_audio"


def test_it_rejects_a_truncated_wav(tmp_path):
    path = af.truncated_wav(tmp_path / "cut.wav", seconds=6)

    with pytest.raises(AudioError) as exc_info:
        validate(path)

    assert exc_info.value.code == "corrupt"
    assert _reason(exc_info).startswith("The audio data is truncated or corrupt: decoding stopped at 0:02 of 0:06.")


@pytest.mark.parametrize("fmt", ["flac", "mp3", "m4a"])
def test_it_rejects_a_truncated_compressed_file(tmp_path, stereo_clip, fmt):
    path = af.write(tmp_path / f"cut.{fmt}", np.tile(stereo_clip, 2), fmt=fmt)
    if fmt == "m4a":  # the index is at the end unless moved to the front
        af.ffmpeg(["-i", str(path), "-c", "copy", "-movflags", "+faststart", "-f", "ipod", str(tmp_path / "fs.m4a")])
        path = tmp_path / "fs.m4a"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(AudioError) as exc_info:
        validate(path)

    assert exc_info.value.code == "corrupt"
    assert "truncated or corrupt: decoding stopped at" in _reason(exc_info)


@pytest.mark.parametrize("fmt", ["ogg", "opus"])
def test_it_rejects_a_truncated_ogg_file(tmp_path, stereo_clip, fmt):
    # Ogg declares no total length: a cut file shows by its last page, which is incomplete or not the last.
    path = af.write(tmp_path / f"cut.{fmt}", np.tile(stereo_clip, 2), fmt=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(AudioError) as exc_info:
        validate(path)

    assert exc_info.value.code == "corrupt"
    assert _reason(exc_info).startswith("The audio data is truncated: the file ends abruptly at 0:0")


def test_it_rejects_a_flac_file_with_missing_frames(tmp_path, stereo_clip):
    path = af.write(tmp_path / "holes.flac", np.tile(stereo_clip, 2), fmt="flac")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(2000)  # the decoder skips the damaged frames without an error
    path.write_bytes(bytes(data))

    with pytest.raises(AudioError) as exc_info:
        validate(path)

    assert exc_info.value.code == "corrupt"
    assert "of 0:08" in _reason(exc_info)


def test_it_says_an_m4a_without_its_index_is_damaged(tmp_path, stereo_clip):
    path = af.write(tmp_path / "cut.m4a", stereo_clip, fmt="m4a")  # index (moov) after the data
    path.write_bytes(path.read_bytes()[:20_000])

    with pytest.raises(AudioError) as exc_info:
        probe(path)

    assert exc_info.value.code == "damaged"
    assert "starts like MP4/M4A audio but it cannot be read" in _reason(exc_info)


@pytest.mark.parametrize("fmt", ["flac", "mp3"])
def test_it_rejects_random_bytes_after_a_valid_header(tmp_path, fmt):
    path = af.corrupt_after_header(tmp_path / f"broken.{fmt}", fmt=fmt)

    probe(path)  # the header is fine...
    with pytest.raises(AudioError) as exc_info:  # ...the data is not
        validate(path)

    assert exc_info.value.code == "corrupt"
    assert _reason(exc_info).startswith("The audio data is truncated or corrupt: decoding stopped at 0:00 of 0:06.")


def test_it_rejects_an_unsupported_codec(tmp_path):
    with pytest.raises(AudioError) as exc_info:
        validate(af.unsupported_codec(tmp_path / "song.mp3"))

    assert exc_info.value.code == "unsupported"
    assert _reason(exc_info) == (
        "Unsupported codec 'wmav2' in an ASF (Windows Media) container. "
        "Upload WAV, AIFF, FLAC, MP3, OGG/Opus or M4A/AAC."
    )


def test_it_rejects_an_unsupported_codec_in_an_accepted_container(tmp_path, stereo_clip):
    source = af.write(tmp_path / "a.wav", stereo_clip)
    path = tmp_path / "mp3-in.wav"
    af.ffmpeg(["-i", str(source), "-c:a", "libmp3lame", "-f", "wav", str(path)])

    with pytest.raises(AudioError) as exc_info:
        probe(path)

    assert _reason(exc_info).startswith("Unsupported codec 'mp3' in a WAV container.")


def test_it_rejects_a_video_without_sound(tmp_path):
    with pytest.raises(AudioError) as exc_info:
        validate(af.video_only(tmp_path / "clip.m4a"))

    assert exc_info.value.code == "video"
    assert "video file (mpeg4 video) without any sound" in _reason(exc_info)


def test_it_rejects_a_video_with_sound(tmp_path):
    with pytest.raises(AudioError) as exc_info:
        probe(af.video_with_audio(tmp_path / "clip.mp4"))

    assert exc_info.value.code == "video"
    assert "Export the sound only" in _reason(exc_info)


def test_it_accepts_cover_art(tmp_path, clip_file):
    cover = tmp_path / "cover.png"
    af.ffmpeg(["-f", "lavfi", "-i", "color=red:size=64x64:duration=0.1", "-frames:v", "1", str(cover)])
    path = tmp_path / "with-cover.mp3"
    af.ffmpeg(
        [
            *("-i", str(clip_file("mp3")), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c", "copy"),
            *("-disposition:v", "attached_pic", "-id3v2_version", "3", str(path)),
        ]
    )

    assert validate(path).format == "mp3"


def test_it_rejects_a_damaged_header(tmp_path, clip_file):
    data = bytearray(clip_file("wav").read_bytes())
    fmt_chunk = data.find(b"fmt ")
    data[fmt_chunk + 12 : fmt_chunk + 16] = bytes(4)  # sample rate 0
    path = tmp_path / "sr0.wav"
    path.write_bytes(bytes(data))

    with pytest.raises(AudioError) as exc_info:
        probe(path)

    assert exc_info.value.code == "damaged"
    assert "starts like WAV audio but it cannot be read" in _reason(exc_info)


def test_it_rejects_too_many_channels(tmp_path):
    path = tmp_path / "ten.wav"
    sf.write(path, np.zeros((4410, 10), dtype=np.float32), 44100)

    with pytest.raises(AudioError) as exc_info:
        probe(path)

    assert exc_info.value.code == "invalid"
    assert _reason(exc_info).startswith("This file has 10 channels; the limit is 8.")


def test_it_takes_the_limits_as_parameters(clip_file):
    path = clip_file("wav")

    with pytest.raises(AudioError, match="has 2 channels; the limit is 1"):
        probe(path, max_channels=1)
    with pytest.raises(AudioError, match="declares 44100 Hz, outside the accepted 48000–96000 Hz"):
        validate(path, min_sample_rate=48000, max_sample_rate=96000)
    assert probe(path, max_channels=2, max_sample_rate=44100).channels == 2


def test_it_rejects_an_absurd_sample_rate(tmp_path):
    path = tmp_path / "fast.wav"
    sf.write(path, np.zeros((4000, 1), dtype=np.float32), 768_000)

    with pytest.raises(AudioError, match="declares 768000 Hz, outside the accepted 8000–384000 Hz"):
        probe(path)


# --------------------------------------------------------------------------------------------------- length


def test_it_enforces_max_duration_from_the_header(clip_file):
    with pytest.raises(AudioError) as exc_info:
        validate(clip_file("flac"), max_duration=2)

    assert exc_info.value.code == "too_long"
    assert _reason(exc_info) == "This file is 0:00:04 long; the limit is 0:00:02."


def test_it_formats_long_durations():
    assert audio_io.format_duration(7390, hours=True) == "2:03:10"
    assert audio_io.format_duration(1200, hours=True) == "0:20:00"
    assert audio_io.format_duration(190) == "3:10"
    assert audio_io.format_duration(42.9) == "0:42"


def test_it_measures_an_mp3_whose_length_is_only_estimated(tmp_path, stereo_clip):
    # A VBR MP3 without a Xing header: ffmpeg can only guess the length from the first frame's bitrate.
    source = af.write(tmp_path / "a.wav", np.tile(stereo_clip, 2))
    path = tmp_path / "vbr.mp3"
    af.ffmpeg(["-i", str(source), "-c:a", "libmp3lame", "-q:a", "5", "-write_xing", "0", str(path)])

    assert probe(path).duration_estimated
    info = validate(path)
    assert not info.duration_estimated
    assert info.duration == pytest.approx(2 * CLIP_SECONDS, abs=0.06)
    with pytest.raises(AudioError) as exc_info:  # the limit holds even when the header does not tell
        validate(path, max_duration=5)
    assert _reason(exc_info) == "This file is longer than the limit of 0:00:05."


# -------------------------------------------------------------------------------------------------- decoding


def test_it_decodes_to_float32_channels_by_frames(clip_file, stereo_clip):
    samples, rate = decode(clip_file("wav", 24))

    assert rate == 44100
    assert samples.dtype == np.float32
    assert samples.shape == stereo_clip.shape
    assert np.abs(samples - stereo_clip).max() < 1e-4
    assert samples.T.flags.c_contiguous  # the interleaved buffer, as (frames, channels)


def test_it_decodes_to_mono(clip_file):
    samples, _ = decode(clip_file("flac"), mono=True)

    assert samples.shape == (1, round(CLIP_SECONDS * 44100))


def test_it_decodes_with_resampling_and_a_length_limit(clip_file):
    samples, rate = decode(clip_file("opus"), sample_rate=22050, max_seconds=1.5)

    assert rate == 22050
    assert samples.shape == (2, round(1.5 * 22050))


def test_it_decodes_lossy_files_to_the_full_length(clip_file):
    for fmt in ("mp3", "m4a", "ogg"):
        samples, _ = decode(clip_file(fmt), sample_rate=44100)
        assert samples.shape[0] == 2
        assert samples.shape[1] / 44100 == pytest.approx(CLIP_SECONDS, abs=0.05)


def test_it_raises_audio_error_when_decoding_fails(tmp_path):
    with pytest.raises(AudioError):
        decode(af.text_as_mp3(tmp_path / "t.mp3"))


# ---------------------------------------------------------------------------------------------------- writing


def test_it_transcodes_a_browser_preview(clip_file, tmp_path):
    out = tmp_path / "preview.mp3"

    transcode(clip_file("aiff", 24), out, bitrate="128k")

    info = probe(out)
    assert (info.format, info.codec, info.channels, info.browser_playable) == ("mp3", "mp3", 2, True)
    assert info.bitrate == 128_000
    assert info.duration == pytest.approx(CLIP_SECONDS, abs=0.06)
    assert [p.name for p in tmp_path.iterdir()] == ["preview.mp3"]  # no temporary file left


def test_it_transcodes_surround_to_stereo_aac(tmp_path):
    source = af.write(tmp_path / "six.wav", af.tone(440, 1.0, channels=6))
    out = tmp_path / "preview.m4a"

    transcode(source, out, codec="aac", sample_rate=48000)

    info = probe(out)
    assert (info.format, info.codec, info.channels, info.sample_rate) == ("m4a", "aac", 2, 48000)


def test_it_raises_audio_error_when_transcoding_fails(tmp_path):
    out = tmp_path / "preview.mp3"

    with pytest.raises(AudioError):
        transcode(af.text_as_mp3(tmp_path / "t.mp3"), out)
    assert not out.exists()


def test_it_writes_wav_files(tmp_path):
    samples = np.stack([np.linspace(-1.5, 1.5, 1000), np.zeros(1000)]).astype(np.float32)

    write_wav(tmp_path / "a.wav", samples, 48000, bit_depth=24)

    info = probe(tmp_path / "a.wav")
    assert (info.codec, info.bit_depth, info.sample_rate, info.channels) == ("pcm_s24le", 24, 48000, 2)
    back, _ = decode(tmp_path / "a.wav")
    assert back.shape == (2, 1000)
    assert back.max() == pytest.approx(1.0, abs=1e-6)  # clipped, not wrapped around
    assert back.min() == pytest.approx(-1.0, abs=1e-6)
