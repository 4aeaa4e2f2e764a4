"""audio.export_audio: every export format and rate, read back by other readers, with its tempo/key."""

import os
import struct

import mutagen.aiff
import mutagen.flac
import mutagen.id3
import mutagen.mp3
import mutagen.wave
import numpy as np
import pytest
import soundfile as sf

from audio import export_audio as ea
from audio.audio_io import AudioError, decode, probe
from audio.export_audio import FORMATS, RATES, clean_format, export_audio, read_metadata
from tests import audio_factory as af
from tests.audio.conftest import CLIP_SECONDS

# format -> soundfile container, subtype, bit depth as ffprobe reports it
EXPECTED = {
    "wav16": ("WAV", "PCM_16", 16),
    "wav24": ("WAV", "PCM_24", 24),
    "wav32f": ("WAV", "FLOAT", 32),
    "aiff": ("AIFF", "PCM_24", 24),
    "flac": ("FLAC", "PCM_24", 24),
    "mp3": ("MP3", "MPEG_LAYER_III", None),
}
CASES = [(fmt, rate) for fmt in FORMATS for rate in RATES]
TAGS = {"bpm": 124.5, "key": "A minor", "title": "Nachtzug — Intro", "artist": "Zoë", "album": "Stems Vol. 2"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, clip_file):
    """(fmt, rate) -> (ExportResult, read_metadata) of the 4 s stereo 24-bit clip, made once per module."""
    source = clip_file("wav", 24)
    folder = tmp_path_factory.mktemp("exports")
    made = {}

    def get(fmt, rate):
        if (fmt, rate) not in made:
            result = export_audio(
                source, folder / f"{fmt}-{rate}{FORMATS[fmt].extension}", fmt=fmt, sample_rate=rate, **TAGS
            )
            made[fmt, rate] = (result, read_metadata(result.path))
        return made[fmt, rate]

    return get


@pytest.mark.parametrize(("fmt", "rate"), CASES, ids=[f"{f}-{r}" for f, r in CASES])
def test_it_writes_each_format_at_each_rate(exported, fmt, rate):
    result, meta = exported(fmt, rate)
    container, subtype, bit_depth = EXPECTED[fmt]
    info = sf.info(result.path)

    assert result.path.endswith(FORMATS[fmt].extension)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (container, subtype, rate, 2)
    assert info.frames / rate == pytest.approx(CLIP_SECONDS, abs=0.003)  # mp3 too: the encoder delay is trimmed
    assert (result.sample_rate, result.channels, result.bit_depth) == (rate, 2, FORMATS[fmt].bit_depth)
    assert result.duration == pytest.approx(CLIP_SECONDS, abs=0.003)
    assert (meta["sample_rate"], meta["bit_depth"]) == (rate, bit_depth)
    if fmt == "mp3":
        assert meta["bitrate"] == 320_000 and result.bitrate == 320_000
        assert mutagen.mp3.MP3(result.path).info.bitrate == 320_000
    if fmt == "wav32f":
        assert meta["codec"] == "pcm_f32le"


@pytest.mark.parametrize(("rate", "soxr"), [(44100, True), (48000, True), (48000, False)])
def test_it_resamples_without_changing_pitch_or_level(tmp_path, monkeypatch, rate, soxr):
    if not soxr:  # an ffmpeg built without libsoxr: its own resampler
        monkeypatch.setattr(ea, "has_soxr", lambda: False)
    elif not ea.has_soxr():
        pytest.skip("this ffmpeg has no libsoxr")
    source = af.write(tmp_path / "tone.wav", af.tone(1000.0, seconds=1.0, amplitude=0.5), 44100, "wav", bit_depth=24)

    result = export_audio(source, tmp_path / "out.wav", fmt="wav32f", sample_rate=rate)

    samples, sr = sf.read(result.path, dtype="float32")
    spectrum = np.abs(np.fft.rfft(samples[rate // 10 : rate // 10 + rate // 2] * np.hanning(rate // 2)))
    assert sr == rate
    assert np.argmax(spectrum) * rate / (rate // 2) == pytest.approx(1000.0, abs=2.0)
    assert np.max(np.abs(samples[rate // 10 : -rate // 10])) == pytest.approx(0.5, abs=0.005)


def test_it_copies_16_bit_audio_unchanged_and_dithers_when_reducing(tmp_path):
    plain = af.write(tmp_path / "plain.wav", af.tone(440.0, seconds=1.0), 44100, "wav", bit_depth=16)
    # -100 dBFS: below the 16-bit step, so without dither it would round to digital silence.
    quiet = af.write(tmp_path / "quiet.wav", af.tone(440.0, seconds=1.0, amplitude=1e-5), 44100, "wav", bit_depth=24)

    copy = export_audio(plain, tmp_path / "copy.wav", fmt="wav16", sample_rate=44100)
    reduced = export_audio(quiet, tmp_path / "reduced.wav", fmt="wav16", sample_rate=44100)

    assert np.array_equal(sf.read(copy.path, dtype="int16")[0], sf.read(plain, dtype="int16")[0])
    dithered = sf.read(reduced.path, dtype="int16")[0]
    assert np.count_nonzero(dithered) > dithered.size // 4
    assert np.max(np.abs(dithered)) <= 3  # TPDF: a couple of steps of noise, no more


def _riff_chunks(path):
    """{chunk id: body} of a WAV file, read independently of the module: a plain walk over the RIFF chunks."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks = {}
    position = 12
    while position + 8 <= len(data):
        chunk_id, size = struct.unpack("<4sI", data[position : position + 8])
        chunks[chunk_id.decode("ascii")] = data[position + 8 : position + 8 + size]
        position += 8 + size + (size & 1)
    assert position == len(data)
    return chunks


@pytest.mark.parametrize("fmt", ["wav16", "wav24", "wav32f"])
def test_it_writes_tempo_and_key_into_wav(exported, fmt):
    result, meta = exported(fmt, 48000)

    chunks = _riff_chunks(result.path)
    expected_order = (
        ["fmt ", "fact", "LIST", "acid", "data", "id3 "]
        if fmt == "wav32f"
        else ["fmt ", "LIST", "acid", "data", "id3 "]
    )
    assert list(chunks) == expected_order
    assert struct.unpack("<H", chunks["fmt "][:2])[0] == (3 if fmt == "wav32f" else 1)  # plain, not extensible
    flags, root, _, _, beats, denominator, numerator, tempo = struct.unpack("<IHHfIHHf", chunks["acid"])
    assert tempo == pytest.approx(124.5) and (numerator, denominator) == (4, 4)
    assert beats == round(CLIP_SECONDS * 124.5 / 60)
    assert flags & 0x02 and flags & 0x04 and not flags & 0x01  # root note set, stretch, not a one-shot
    assert root == 69  # A
    tags = mutagen.wave.WAVE(result.path).tags
    assert (str(tags["TBPM"]), str(tags["TKEY"]), str(tags["TIT2"])) == ("124", "Am", "Nachtzug — Intro")
    assert meta["tags"]["title"] == "Nachtzug — Intro" and meta["tags"]["artist"] == "Zoë"  # LIST/INFO
    assert meta["acid"]["tempo"] == pytest.approx(124.5)
    # The chunks do not disturb readers: soundfile, ffmpeg and the project's decoder see the same audio.
    assert probe(result.path).duration == pytest.approx(CLIP_SECONDS, abs=0.001)
    samples, _ = decode(result.path)
    assert samples.shape == (2, round(CLIP_SECONDS * 48000))


def test_it_writes_tempo_and_key_into_aiff(exported):
    result, meta = exported("aiff", 44100)

    tags = mutagen.aiff.AIFF(result.path).tags
    assert (str(tags["TBPM"]), str(tags["TKEY"]), str(tags["TPE1"])) == ("124", "Am", "Zoë")
    assert meta["tags"]["bpm"] == "124" and meta["tags"]["key"] == "Am"  # as an upload would be read


def test_it_writes_tempo_and_key_into_flac(exported):
    result, _ = exported("flac", 44100)

    tags = mutagen.flac.FLAC(result.path)
    assert tags["BPM"] == ["124.5"]
    assert tags["INITIALKEY"] == ["Am"] and tags["KEY"] == ["Am"]
    assert tags["TITLE"] == ["Nachtzug — Intro"] and tags["ALBUM"] == ["Stems Vol. 2"]
    assert tags["COMMENT"] == ["124.5 BPM, A minor"]


def test_it_writes_tempo_and_key_into_mp3(exported):
    result, meta = exported("mp3", 48000)

    tags = mutagen.mp3.MP3(result.path).tags
    assert tags.version[:2] == (2, 3)
    assert (str(tags["TBPM"]), str(tags["TKEY"]), str(tags["TIT2"])) == ("124", "Am", "Nachtzug — Intro")
    assert str(tags.getall("COMM")[0]) == "124.5 BPM, A minor"
    assert meta["tags"]["bpm"] == "124" and meta["tags"]["key"] == "Am"
    assert result.metadata["TBPM"] == "124" and result.metadata["TKEY"] == "Am"


def test_it_marks_a_pitched_one_shot_with_its_note(tmp_path, clip_file):
    result = export_audio(
        clip_file("wav", 24), tmp_path / "Bass 02 - A2.wav", fmt="wav24", sample_rate=44100, note="A2"
    )

    acid = read_metadata(result.path)["acid"]
    assert acid["one_shot"] and acid["root_note"] == 45 and not acid["stretch"]


def test_the_acid_chunk_and_the_id3_tag_survive_together_in_one_wav(tmp_path, clip_file):
    # mutagen adds the ID3 chunk to the file that already holds the ACID chunk: both must come back from it.
    result = export_audio(
        clip_file("wav", 24), tmp_path / "Kick.wav", fmt="wav24", sample_rate=44100, note="C2", title="Kick — dry"
    )

    chunks = _riff_chunks(result.path)
    assert list(chunks) == ["fmt ", "LIST", "acid", "data", "id3 "]
    acid = ea.read_acid(result.path)
    assert acid["one_shot"] and acid["root_note"] == 36
    tags = mutagen.wave.WAVE(result.path).tags
    assert tags.version[:2] == (2, 3) and str(tags["TIT2"]) == "Kick — dry"
    assert sf.info(result.path).frames == round(CLIP_SECONDS * 44100)


def test_a_wav_with_no_room_left_for_its_id3_chunk_keeps_only_its_info_tags(tmp_path, clip_file, monkeypatch):
    # As a WAV a few bytes under 4 GiB would: mutagen must not be left to overflow the RIFF size mid-write.
    source = clip_file("wav", 24)
    tagged = export_audio(source, tmp_path / "fits.wav", fmt="wav24", sample_rate=44100, **TAGS)
    id3_chunk = 8 + len(_riff_chunks(tagged.path)["id3 "])
    # Everything but the ID3 chunk fits, with a few bytes to spare.
    monkeypatch.setattr(ea, "_RIFF_LIMIT", os.path.getsize(tagged.path) - 8 - id3_chunk + 16)

    result = export_audio(source, tmp_path / "tagged.wav", fmt="wav24", sample_rate=44100, **TAGS)

    meta = read_metadata(result.path)
    assert meta["id3"] == {} and meta["acid"] is None
    assert meta["tags"]["title"] == "Nachtzug — Intro"
    assert set(result.metadata) == {"INAM", "IART", "IPRD", "ICMT"}
    assert sf.info(result.path).frames == round(CLIP_SECONDS * 44100)


def test_id3_text_is_latin_1_where_it_fits_and_utf_16_otherwise(exported):
    result, _ = exported("mp3", 44100)

    tags = mutagen.mp3.MP3(result.path).tags
    assert tags["TPE1"].encoding == mutagen.id3.Encoding.LATIN1  # "Zoë"
    assert tags["TIT2"].encoding == mutagen.id3.Encoding.UTF16  # the dash in "Nachtzug — Intro" is not Latin-1
    assert tags.getall("COMM")[0].lang == "eng" and tags.getall("COMM")[0].desc == ""


CURATION = {
    "title": "Brass/wind 03 · A2",
    "keywords": ["dusty", "Lo-fi; warm", "dusty"],
    "fields": {"CATEGORY": "Brass/wind", "FAVOURITE": "true", "SOURCE_START": "12.345", "NOTE": ""},
}


@pytest.mark.parametrize("fmt", ["wav24", "aiff", "mp3", "flac"])
def test_it_writes_keywords_and_named_fields_where_each_format_keeps_them(tmp_path, clip_file, fmt):
    path = tmp_path / f"sample{FORMATS[fmt].extension}"
    result = export_audio(clip_file("wav", 24), path, fmt=fmt, sample_rate=44100, note="A2", **CURATION)

    if fmt == "flac":
        tags = mutagen.flac.FLAC(path)
        assert tags["KEYWORDS"] == ["dusty", "Lo-fi; warm"]  # one comment per keyword, duplicates once
        assert tags["CATEGORY"] == ["Brass/wind"] and tags["FAVOURITE"] == ["true"]
        assert tags["SOURCE_START"] == ["12.345"] and "NOTE" not in tags  # empty fields are left out
        assert tags["TITLE"] == ["Brass/wind 03 · A2"]
    else:
        reader = {"wav24": mutagen.wave.WAVE, "aiff": mutagen.aiff.AIFF, "mp3": mutagen.mp3.MP3}[fmt]
        tags = reader(path).tags
        assert str(tags["TXXX:KEYWORDS"]) == "dusty; Lo-fi; warm"
        assert str(tags["TXXX:CATEGORY"]) == "Brass/wind" and str(tags["TXXX:FAVOURITE"]) == "true"
        assert str(tags["TXXX:SOURCE_START"]) == "12.345" and "TXXX:NOTE" not in tags
        assert str(tags["TIT2"]) == "Brass/wind 03 · A2"
        assert read_metadata(path)["id3"]["TXXX:CATEGORY"] == "Brass/wind"
    if fmt == "wav24":
        info = ea.read_riff_info(path)
        assert info["IKEY"] == "dusty; Lo-fi; warm" and info["INAM"] == "Brass/wind 03 · A2"
        assert sf.SoundFile(path).title == "Brass/wind 03 · A2"
        assert ea.read_acid(path)["root_note"] == 45  # the rest of the file is as before
    assert result.metadata["TXXX:CATEGORY" if fmt != "flac" else "CATEGORY"] == "Brass/wind"


def test_a_wav_that_keeps_only_its_info_tags_still_keeps_its_keywords(tmp_path, clip_file, monkeypatch):
    monkeypatch.setattr(ea, "_rewrite_wav", lambda *args, **kwargs: False)  # as for RF64

    result = export_audio(clip_file("wav", 24), tmp_path / "s.wav", fmt="wav24", sample_rate=44100, **CURATION)

    assert ea.read_riff_info(result.path)["IKEY"] == "dusty; Lo-fi; warm"
    assert result.metadata["IKEY"] == "dusty; Lo-fi; warm" and "TXXX:CATEGORY" not in result.metadata


@pytest.mark.parametrize("fields", [{"category": "x"}, {"A=B": "x"}, {"KATEGORIÉ": "x"}, {"BPM": "120"}, {1: "x"}])
def test_it_refuses_field_names_no_format_could_hold(tmp_path, clip_file, fields):
    with pytest.raises(ValueError, match=r"field|argument"):
        export_audio(clip_file("wav", 24), tmp_path / "x.flac", fmt="flac", sample_rate=44100, fields=fields)
    assert not (tmp_path / "x.flac").exists()


def test_it_writes_no_tags_when_there_is_nothing_to_say(tmp_path, clip_file):
    result = export_audio(clip_file("wav", 24), tmp_path / "plain.wav", fmt="wav24", sample_rate=44100)

    meta = read_metadata(result.path)
    assert meta["acid"] is None and meta["id3"] == {} and result.metadata == {}


def test_it_keeps_mono_mono_and_mixes_more_than_two_channels_for_mp3(tmp_path):
    mono = af.write(tmp_path / "mono.wav", af.tone(seconds=0.5), 44100, "wav")
    quad = af.write(tmp_path / "quad.wav", af.tone(seconds=0.5, channels=4), 44100, "wav")

    assert export_audio(mono, tmp_path / "mono.flac", fmt="flac", sample_rate=48000).channels == 1
    assert export_audio(quad, tmp_path / "quad.mp3", fmt="mp3", sample_rate=48000).channels == 2


def test_it_leaves_nothing_behind_when_the_source_is_not_audio(tmp_path):
    bogus = tmp_path / "notes.wav"
    bogus.write_text("just some text, not audio")
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(AudioError):
        export_audio(bogus, out / "x.wav", fmt="wav24", sample_rate=48000)
    assert list(out.iterdir()) == []


def test_it_checks_the_format_and_the_rate():
    assert clean_format(" WAV24 ", "48000") == ("wav24", 48000)
    assert clean_format("mp3", 44.1) == ("mp3", 44100)
    assert clean_format("flac", "48 kHz") == ("flac", 48000)
    with pytest.raises(ValueError, match=r"Unknown export format 'ogg'\. Choose one of: WAV 16-bit \(wav16\)"):
        clean_format("ogg", 44100)
    with pytest.raises(ValueError, match=r"A sample rate of 22050 is not offered\. Choose 44100 Hz or 48000 Hz\."):
        clean_format("wav16", 22050)
    with pytest.raises(ValueError, match="not offered"):
        clean_format("wav16", "fast")


def test_it_reads_keys_and_notes_the_way_people_write_them():
    assert ea.key_notation("A minor") == "Am"
    assert ea.key_notation("F# Major") == "F#"
    assert ea.key_notation("Bbm") == "Bbm"
    assert ea.key_notation("c♯ min") == "C#m"
    assert ea.parse_key("Eb major") == ("Eb", 3, False)
    assert ea.parse_note("A2") == 45 and ea.parse_note("C4") == 60 and ea.parse_note("C#-1") == 1
    for bad in ("H minor", "A lydian", ""):
        with pytest.raises(ValueError, match="is not a key"):
            ea.parse_key(bad)
    with pytest.raises(ValueError, match="not a note"):
        ea.parse_note("A")
    with pytest.raises(ValueError, match="out of range"):
        export_audio("unused.wav", "unused.wav", fmt="wav16", sample_rate=44100, bpm=5000)


def test_it_writes_a_key_without_a_tempo_only_where_a_key_belongs(tmp_path, clip_file):
    result = export_audio(clip_file("wav", 24), tmp_path / "pad.wav", fmt="wav24", sample_rate=44100, key="Eb major")

    meta = read_metadata(result.path)
    assert meta["acid"] is None  # a stretchable loop at 0 BPM would confuse a DAW
    assert meta["id3"]["TKEY"] == "Eb" and "TBPM" not in meta["id3"]
    assert meta["id3"]["COMM"] == "Eb major"
