"""audio.lyrics: vocal activity, Whisper through the model store, edits and exports.

Whisper runs for real (weights.get_model -> whisper.load_model -> whisper.transcribe) on a tiny random-weight
checkpoint made by tests/model_factory.py: its words are random tokens, so these tests check the pipeline and
the formats (types, times inside the audio and the vocal regions, order), never what was transcribed.
Decoding is greedy (temperature 0: deterministic, and no sampling, which fails on the random model's fully
masked logits) and limited to 24 tokens per window (sample_len): a random model never says "end of text", so
without the limit each window would decode 224 tokens, several times, and the test would take far longer.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio import lyrics as ly
from audio import weights
from audio.lyrics import Line, Lyrics, Word
from audio.weights import ModelNotInstalled
from tests import model_factory as mf

ROOT = Path(__file__).resolve().parents[2]
SR = 44100
FAST = {"temperature": 0.0, "sample_len": 24}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    mf.make_tiny_whisper(root, "tiny")
    mf.make_tiny_whisper(root, "tiny.en")
    yield root
    weights.clear_cache()


def sung(seconds: float, sr: int = SR, f0: float = 220.0, amplitude: float = 0.3) -> np.ndarray:
    """A vocal-like note: harmonics of a pitch with vibrato, with 40 ms fades."""
    t = np.arange(int(seconds * sr)) / sr
    pitch = f0 * (1 + 0.03 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    fade = np.clip(np.minimum(t, seconds - t) / 0.04, 0, 1)
    return (amplitude * tone / np.abs(tone).max() * fade).astype(np.float32)


def track(total: float, bursts, sr: int = SR, bed=None) -> np.ndarray:
    """Mono `total` seconds of silence (or `bed`) with sung bursts [(start, end)]."""
    x = np.zeros(int(total * sr), np.float32) if bed is None else bed.copy()
    for start, end in bursts:
        note = sung(end - start, sr)
        x[int(start * sr) : int(start * sr) + note.size] += note
    return x


def assert_well_formed(result: Lyrics) -> None:
    """Every time within [0, duration], lines in order without overlap, words in order inside their line."""
    previous = 0.0
    for line in result.lines:
        assert previous <= line.start <= line.end <= result.duration
        assert line.text == " ".join(line.text.split()) and line.text
        cursor = line.start
        for word in line.words:
            assert isinstance(word, Word) and isinstance(word.text, str) and word.text
            assert cursor <= word.start <= word.end <= line.end
            assert word.probability is None or 0.0 <= word.probability <= 1.0
            cursor = word.end
        previous = line.end


def inside(regions, start, end) -> bool:
    return any(a <= start and end <= b for a, b in regions)


# ------------------------------------------------------------------------------------------------ vocal activity


def test_the_analysis_rate_and_languages_are_whisper_s():
    import whisper.audio
    import whisper.tokenizer

    assert ly.WHISPER_SAMPLE_RATE == whisper.audio.SAMPLE_RATE
    assert ly.languages() == {code: name.title() for code, name in whisper.tokenizer.LANGUAGES.items()}
    assert set(ly.MODEL_CHOICES) <= set(weights.WHISPER_MODELS)


def test_silence_and_near_silence_have_no_vocal_regions():
    sr = ly.WHISPER_SAMPLE_RATE
    assert ly.vocal_regions(np.zeros(5 * sr, np.float32), sr) == []
    hiss = np.random.default_rng(0).normal(0, 10 ** (-75 / 20), 5 * sr).astype(np.float32)  # -75 dBFS
    assert ly.vocal_regions(hiss, sr) == []
    assert ly.vocal_regions(np.zeros(0, np.float32), sr) == []
    with pytest.raises(ValueError, match="mono samples"):
        ly.vocal_regions(np.zeros((2, 100), np.float32), sr)


def test_vocal_regions_find_bursts_in_silence():
    sr = ly.WHISPER_SAMPLE_RATE
    regions = ly.vocal_regions(track(10.0, [(1.0, 2.5), (6.0, 7.0)], sr), sr)
    assert len(regions) == 2
    for (start, end), (sung_start, sung_end) in zip(regions, [(1.0, 2.5), (6.0, 7.0)], strict=True):
        # The burst, padded before (soft onsets) and after (decays), by at most onset pad / hangover + a frame.
        assert sung_start - ly.VAD_ONSET_PAD - 0.05 <= start <= sung_start
        assert sung_end <= end <= sung_end + ly.VAD_HANGOVER + 0.05


def test_vocal_regions_ignore_bleed_clicks_and_join_breaths():
    sr = ly.WHISPER_SAMPLE_RATE
    rng = np.random.default_rng(1)
    bleed = (rng.normal(0, 1, 10 * sr) * 10 ** (-48 / 20)).astype(np.float32)  # ~40 dB below the singing
    regions = ly.vocal_regions(track(10.0, [(2.0, 4.0)], sr, bed=bleed), sr)
    assert len(regions) == 1 and inside(regions, 2.0, 4.0) and regions[0][1] - regions[0][0] < 3.0

    click = track(10.0, [(2.0, 4.0)], sr)
    click[8 * sr : 8 * sr + 40] = 0.9  # 2.5 ms at full scale: louder than the singing, but not singing
    assert len(ly.vocal_regions(click, sr)) == 1

    phrases = track(10.0, [(1.0, 2.0), (2.4, 3.5)], sr)  # a breath between two phrases: one region
    (region,) = ly.vocal_regions(phrases, sr)
    assert region[0] < 1.0 and region[1] > 3.5


# --------------------------------------------------------------------------------------------------- transcribe


def test_it_transcribes_only_the_vocal_regions_through_the_model_store(store, monkeypatch):
    import whisper

    real = whisper.transcribe
    calls = []

    def spy(model, audio, **options):
        calls.append((audio.size, options))
        return real(model, audio, **options)

    monkeypatch.setattr(whisper, "transcribe", spy)
    mono = track(9.0, [(1.0, 2.5), (5.5, 7.0)])
    stereo = np.stack([mono, 0.5 * mono])
    seen = []

    result = ly.transcribe(
        stereo,
        SR,
        model="tiny",
        model_dir=store,
        device="cpu",
        progress=seen.append,
        whisper_options=FAST,
        backend="openai-whisper",
        silero_vad=False,
    )

    assert isinstance(result, Lyrics)
    assert result.model_name == "tiny" and result.duration == 9.0 and not result.edited
    assert result.language in whisper.tokenizer.LANGUAGES  # detected (a random one: the model is random)
    assert len(result.regions) == 2
    assert inside(result.regions, 1.0, 2.5) and inside(result.regions, 5.5, 7.0)
    # Whisper heard each region on its own, and nothing else, with the guard's settings.
    assert [size for size, _ in calls] == [round((b - a) * 16000) for a, b in result.regions]
    for _, options in calls:
        assert options["condition_on_previous_text"] is False
        assert options["word_timestamps"] is True
        assert options["hallucination_silence_threshold"] == 2.0
        assert options["no_speech_threshold"] == 0.6 and options["compression_ratio_threshold"] == 2.4
        assert options["fp16"] is False  # CPU
        assert options["language"] == result.language
    assert result.lines, "the tiny model writes random words for each region"
    assert_well_formed(result)
    for line in result.lines:
        assert isinstance(line, Line) and isinstance(line.text, str)
        assert inside(result.regions, line.start, line.end)
        for word in line.words:
            assert inside(result.regions, word.start, word.end)
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)

    assert Lyrics.from_dict(result.to_dict()) == result
    assert Lyrics.from_dict(json.loads(ly.to_json(result))) == result
    srt = ly.to_srt(result)
    cue_times = re.findall(r"^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", srt, re.MULTILINE)
    assert srt.startswith("1\n") and len(cue_times) == len(result.lines)
    assert ly.to_vtt(result).startswith("WEBVTT\n\n")
    assert ly.to_lrc(result).count("\n") >= len(result.lines)


def test_a_given_language_is_used_without_detection(store, monkeypatch):
    model = weights.get_model("whisper", "tiny", store, "cpu")
    monkeypatch.setattr(model, "detect_language", lambda *a: pytest.fail("detected a language that was given"))
    mono = track(4.0, [(1.0, 2.5)])
    result = ly.transcribe(
        mono, SR, model=model, model_name="tiny", language="German", whisper_options=FAST, silero_vad=False
    )
    assert result.language == "de" and result.model_name == "tiny"
    assert_well_formed(result)


class Untouchable:
    """A model that fails the test if anything about it is used."""

    def __getattr__(self, name):
        pytest.fail(f"the model was used ({name}) although there are no vocals")

    def __call__(self, *args, **kwargs):
        pytest.fail("the model was called although there are no vocals")


def test_no_vocals_gives_empty_lyrics_without_running_the_model(store):
    seen = []
    silent = np.zeros((2, 3 * SR), np.float32)
    result = ly.transcribe(silent, SR, model=Untouchable(), model_name="turbo", progress=seen.append, silero_vad=False)
    assert result.lines == () and result.regions == ()
    assert result.note == ly.NO_VOCALS_NOTE and result.model_name == "turbo" and result.duration == 3.0
    assert seen == [1.0]
    assert ly.to_srt(result) == "" and ly.to_vtt(result) == "WEBVTT\n" and ly.to_text(result) == ""
    # By name, the model is installed but never loaded.
    weights.clear_cache()
    ly.transcribe(silent, SR, model="tiny", model_dir=store, backend="openai-whisper", silero_vad=False)
    assert weights.cache_info()["loads"] == 0


def test_a_missing_model_says_how_to_install_it(tmp_path):
    mono = track(3.0, [(1.0, 2.0)])
    with pytest.raises(
        ModelNotInstalled, match=r"^model base is not installed: run python manage\.py download_models base$"
    ):
        ly.transcribe(mono, SR, model="base", model_dir=tmp_path)  # faster-whisper, the default backend
    with pytest.raises(ModelNotInstalled, match=r"^model small is not installed: run python manage\.py download_"):
        ly.transcribe(mono, SR, model="small", model_dir=tmp_path, backend="openai-whisper", silero_vad=False)
    with pytest.raises(ModelNotInstalled, match="download_models --backend openai-whisper turbo"):
        ly.transcribe(
            np.zeros(SR, np.float32), SR, model="turbo", model_dir=tmp_path, backend="openai-whisper", silero_vad=False
        )  # even when silent


def test_words_heard_outside_the_vocal_regions_are_dropped(store, monkeypatch):
    import whisper

    def fake(model, audio, **options):
        # Relative to the region: one word inside, one straddling its end, one in whisper's silence padding.
        length = audio.size / 16000
        words = [
            {"word": " in", "start": 0.3, "end": 0.6, "probability": 0.9},
            {"word": " edge", "start": length - 0.3, "end": length + 0.2, "probability": 0.8},
            {"word": " ghost", "start": 12.0, "end": 12.5, "probability": 0.1},
        ]
        return {"segments": [{"start": 0.3, "end": 12.5, "text": " in edge ghost", "words": words}]}

    monkeypatch.setattr(whisper, "transcribe", fake)
    mono = track(6.0, [(1.0, 2.5)])
    result = ly.transcribe(
        mono, SR, model="tiny", model_dir=store, language="en", backend="openai-whisper", silero_vad=False
    )
    ((start, end),) = result.regions
    (line,) = result.lines
    assert [w.text for w in line.words] == ["in", "edge"]
    assert line.words[0].start == round(start + 0.3, 3)
    assert line.words[1].end == end  # clamped to the region's end
    assert line.text == "in edge"


def test_without_vocal_activity_whisper_hears_all_of_the_audio(store, monkeypatch):
    import whisper

    sizes = []
    monkeypatch.setattr(whisper, "transcribe", lambda model, audio, **o: sizes.append(audio.size) or {"segments": []})
    result = ly.transcribe(
        np.zeros(3 * SR, np.float32),
        SR,
        model="tiny",
        model_dir=store,
        vocal_activity=False,
        backend="openai-whisper",
        silero_vad=False,
    )
    assert sizes == [3 * 16000] and result.regions == ((0.0, 3.0),) and result.note == ly.NO_WORDS_NOTE


def test_a_failed_sampling_is_decoded_again_greedily(store, monkeypatch):
    import whisper

    temperatures = []

    def flaky(model, audio, **options):
        temperatures.append(options["temperature"])
        if options["temperature"] != 0.0:
            raise ValueError("Expected parameter logits ... but found invalid values: tensor([[nan, nan]])")
        return {"segments": []}

    monkeypatch.setattr(whisper, "transcribe", flaky)
    result = ly.transcribe(
        track(4.0, [(1.0, 2.5)]),
        SR,
        model="tiny",
        model_dir=store,
        language="en",
        backend="openai-whisper",
        silero_vad=False,
    )
    assert temperatures == [ly.TEMPERATURES, 0.0]
    assert result.lines == () and result.note == ly.NO_WORDS_NOTE


def test_english_only_models_refuse_other_languages(store):
    with pytest.raises(ValueError, match="only transcribes English"):
        ly.transcribe(
            track(3.0, [(1.0, 2.0)]),
            SR,
            model="tiny.en",
            model_dir=store,
            language="fr",
            backend="openai-whisper",
            silero_vad=False,
        )


# ------------------------------------------------------------------------------------------------------ options


def test_clean_options_defaults_and_normalises():
    assert ly.clean_options(None) == {
        "model": ly.DEFAULT_MODEL,
        "language": None,
        "vocal_activity": True,
        "backend": "faster-whisper",
        "silero_vad": ly.SILERO_VAD_DEFAULT,
    }
    assert ly.clean_options(
        {"model": "small", "language": "German", "vocal_activity": "off", "backend": "openai-whisper",
         "silero_vad": "no"}
    ) == {
        "model": "small",
        "language": "de",
        "vocal_activity": False,
        "backend": "openai-whisper",
        "silero_vad": False,
    }  # fmt: skip
    assert ly.clean_options({}, backend="openai-whisper")["backend"] == "openai-whisper"
    assert ly.clean_options({"language": "auto"})["language"] is None
    assert ly.clean_options({"language": " JA "})["language"] == "ja"
    assert ly.clean_options({"language": "castilian"})["language"] == "es"  # whisper's aliases
    assert ly.clean_options({"model": "large-v3", "language": "yue"})["language"] == "yue"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "huge"}, "unknown lyrics model 'huge': choose one of large-v3, turbo, medium, medium.en, small"),
        ({"model": "htdemucs"}, "unknown lyrics model"),
        ({"language": "klingon"}, "unknown language 'klingon': use auto"),
        ({"language": 7}, "language must be a language code or name"),
        ({"model": "tiny.en", "language": "de"}, "model tiny.en only transcribes English"),
        ({"model": "small", "language": "yue"}, "model small does not know Cantonese: choose large-v3 or turbo"),
        ({"vocal_activity": "maybe"}, "vocal_activity must be true or false"),
        ({"beam": 5}, "unknown lyrics option 'beam'; the options are model, language, vocal_activity, backend"),
        ({"backend": "whisper.cpp"}, "unknown lyrics backend 'whisper.cpp': choose faster-whisper or openai-whisper"),
        ({"silero_vad": 2}, "silero_vad must be true or false"),
        ("tiny", "lyrics options must be a mapping"),
    ],
)
def test_clean_options_explain_what_is_wrong(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ly.clean_options(options)


def test_only_installed_models_are_accepted_and_the_default_is_the_best_installed():
    installed = ["tiny", "base.en", "tiny.en"]
    assert ly.clean_options({}, installed=installed)["model"] == "base.en"
    assert ly.clean_options({"model": "tiny"}, installed=installed)["model"] == "tiny"
    assert ly.best_model(["tiny", "small", "large-v3"]) == "large-v3"
    assert ly.best_model(["tiny.en", "tiny"]) == "tiny"  # at one size, the one that knows every language
    assert ly.best_model([]) is None
    with pytest.raises(ly.ModelNotOffered, match=re.escape("run python manage.py download_models turbo")):
        ly.clean_options({"model": "turbo"}, installed=installed)
    with pytest.raises(
        ly.ModelNotOffered, match=re.escape("run python manage.py download_models --backend openai-whisper small")
    ):
        ly.clean_options({"model": "small"}, installed=[], backend="openai-whisper")
    with pytest.raises(ly.NoModelInstalled, match="no lyrics model is installed for faster-whisper: run python"):
        ly.clean_options({}, installed=[])


def test_checking_options_does_not_import_torch():
    code = (
        "import sys; from audio import lyrics; "
        "lyrics.clean_options({'language': 'de'}); lyrics.languages(); "
        "assert 'torch' not in sys.modules and 'whisper' not in sys.modules, 'imported'; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# ------------------------------------------------------------------------------------------------------ exports

SONG = Lyrics(
    language="en",
    lines=(
        Line(0.0, 1.5, "Hello world", (Word(0.0, 0.5, "Hello", 0.9), Word(0.6, 1.5, "world", 0.8))),
        Line(2.004, 4.0, "Again", (Word(2.004, 4.0, "Again", 0.7),)),
        Line(
            59.995,
            61.5,  # past the end of the audio: clamped in every export
            "Fish & <chips>",
            (Word(59.995, 60.5, "Fish"), Word(60.5, 60.7, "&"), Word(60.7, 61.5, "<chips>")),
        ),
    ),
    model_name="tiny",
    duration=61.2,
)


def test_lrc_golden():
    assert ly.to_lrc(SONG, title="Song ]x", artist="Me") == (
        "[ti:Song )x]\n"
        "[ar:Me]\n"
        "[length:01:01]\n"
        "[00:00.00]Hello world\n"
        "[00:02.00]Again\n"
        "[00:04.00]\n"  # 56 s without lyrics follow: the display is cleared
        "[01:00.00]Fish & <chips>\n"  # 59.995 s rounds up, with the carry into the minutes
        "[01:01.20]\n"  # the last line's end, clamped to the duration
    )
    assert ly.to_lrc(SONG, words=True, clear_after=None) == (
        "[length:01:01]\n"
        "[00:00.00]<00:00.00>Hello <00:00.60>world<00:01.50>\n"
        "[00:02.00]<00:02.00>Again<00:04.00>\n"
        "[01:00.00]<01:00.00>Fish <01:00.50>& <01:00.70><chips><01:01.20>\n"
    )
    assert ly.to_lrc(SONG, length=60.5, clear_after=None).splitlines()[-1] == "[01:00.00]Fish & <chips>"


def test_srt_golden():
    assert ly.to_srt(SONG) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello world\n\n"
        "2\n00:00:02,004 --> 00:00:04,000\nAgain\n\n"
        "3\n00:00:59,995 --> 00:01:01,200\nFish & <chips>\n"
    )


def test_vtt_golden():
    assert ly.to_vtt(SONG) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nHello world\n\n"
        "00:00:02.004 --> 00:00:04.000\nAgain\n\n"
        "00:00:59.995 --> 00:01:01.200\nFish &amp; &lt;chips&gt;\n"
    )


def test_text_and_json():
    assert ly.to_text(SONG) == "Hello world\nAgain\nFish & <chips>\n"
    data = json.loads(ly.to_json(SONG))
    assert data["lines"][0]["words"][1] == {"start": 0.6, "end": 1.5, "text": "world", "probability": 0.8}
    assert data["language"] == "en" and data["duration"] == 61.2


def test_times_carry_and_never_go_negative():
    carry = Lyrics("en", (Line(-0.2, 59.9996, "a"), Line(3599.9996, 3600.0004, "b")), "tiny")  # no duration
    assert ly.to_srt(carry) == "1\n00:00:00,000 --> 00:01:00,000\na\n\n2\n01:00:00,000 --> 01:00:00,000\nb\n"
    assert ly.to_vtt(carry).endswith("01:00:00.000 --> 01:00:00.000\nb\n")
    assert ly.to_lrc(carry, clear_after=None) == "[00:00.00]a\n[60:00.00]b\n"
    # 0.145 is 0.14499999... in binary, and still rounds half up.
    assert ly.to_lrc(Lyrics("en", (Line(0.145, 1.0, "x"),), None), clear_after=None) == "[00:00.15]x\n"


# ------------------------------------------------------------------------------------------------------ editing

BASE = Lyrics(
    language="en",
    lines=(
        Line(
            1.0,
            3.0,
            "Hello cruel world",
            (Word(1.0, 1.5, "Hello", 0.9), Word(1.6, 2.2, "cruel", 0.5), Word(2.3, 3.0, "world", 0.8)),
        ),
        Line(10.0, 12.0, "Goodbye now", (Word(10.0, 10.8, "Goodbye", 0.9), Word(11.0, 12.0, "now", 0.7))),
    ),
    model_name="tiny",
    duration=20.0,
    regions=((0.8, 3.4), (6.0, 8.0), (9.8, 12.4)),
)


def test_unchanged_text_keeps_everything():
    edited = ly.edit_text(BASE, BASE.text + "\n\n")
    assert edited.lines == BASE.lines and edited.edited


def test_an_edited_word_keeps_the_timing_of_the_others():
    edited = ly.edit_text(BASE, "hello, kind world!\nGoodbye now")
    first, second = edited.lines
    assert (first.start, first.end, first.text) == (1.0, 3.0, "hello, kind world!")
    assert first.words == (
        Word(1.0, 1.5, "hello,", 0.9),  # case and punctuation do not make another word
        Word(1.6, 2.2, "kind", None),  # takes the replaced word's time
        Word(2.3, 3.0, "world!", 0.8),
    )
    assert second == BASE.lines[1]
    for export in (ly.to_srt(edited), ly.to_vtt(edited), ly.to_lrc(edited), ly.to_text(edited), ly.to_json(edited)):
        assert "kind world!" in export and "cruel" not in export
    assert Lyrics.from_dict(edited.to_dict()) == edited


def test_an_added_word_goes_between_its_neighbours():
    (first, _) = ly.edit_text(BASE, "Hello cruel cruel world\nGoodbye now").lines
    assert [w.text for w in first.words] == ["Hello", "cruel", "cruel", "world"]
    assert first.words[0] == BASE.lines[0].words[0] and first.words[-1] == BASE.lines[0].words[-1]
    assert first.words.count(BASE.lines[0].words[1]) == 1  # one "cruel" is the old one, with its time
    (added,) = [w for w in first.words if w.probability is None]
    assert 1.5 <= added.start <= added.end <= 2.3


def test_an_added_line_goes_on_the_untranscribed_vocals_in_its_gap():
    edited = ly.edit_text(BASE, "Hello cruel world\nLa la la\nGoodbye now")
    first, added, last = edited.lines
    assert first == BASE.lines[0] and last == BASE.lines[1]
    assert (added.start, added.end) == (6.0, 8.0)  # the region between the two lines that no line covers
    assert [w.text for w in added.words] == ["La", "la", "la"]
    assert [(w.start, w.end) for w in added.words] == [(6.0, 6.667), (6.667, 7.333), (7.333, 8.0)]
    assert "00:00:06,000 --> 00:00:08,000\nLa la la" in ly.to_srt(edited)


def test_removed_merged_and_split_lines():
    removed = ly.edit_text(BASE, "Goodbye now")
    assert removed.lines == (BASE.lines[1],)

    merged = ly.edit_text(BASE, "Hello cruel world goodbye now")
    (line,) = merged.lines
    assert (line.start, line.end) == (1.0, 12.0)
    assert [(w.start, w.end) for w in line.words] == [(w.start, w.end) for w in BASE.words]

    split = ly.edit_text(BASE, "Hello cruel\nworld")
    assert [(ln.text, ln.start, ln.end) for ln in split.lines] == [("Hello cruel", 1.0, 2.2), ("world", 2.3, 3.0)]


def test_repeated_lines_stay_in_place():
    chorus = Lyrics(
        "en",
        (Line(1.0, 2.0, "Oh oh"), Line(5.0, 6.0, "Oh oh"), Line(9.0, 10.0, "Oh oh")),
        "tiny",
        duration=12.0,
    )
    edited = ly.edit_text(chorus, "Oh oh\nAh ah\nOh oh")
    assert [(ln.start, ln.text) for ln in edited.lines] == [(1.0, "Oh oh"), (5.0, "Ah ah"), (9.0, "Oh oh")]
    edited = ly.edit_text(chorus, "Intro\nOh oh\nOh oh")
    assert [(ln.start, ln.text) for ln in edited.lines] == [(1.0, "Intro"), (5.0, "Oh oh"), (9.0, "Oh oh")]


def test_text_typed_into_empty_lyrics_is_placed_on_the_vocals():
    empty = Lyrics("en", (), "tiny", ly.NO_WORDS_NOTE, 8.0, ((1.0, 2.0), (5.0, 6.0)))
    edited = ly.edit_text(empty, "one two\nthree four")
    assert edited.note == "" and [ln.text for ln in edited.lines] == ["one two", "three four"]
    assert_well_formed(edited)
    assert edited.lines[0].start == 1.0 and edited.lines[-1].end == 6.0
    assert all(inside(empty.regions, w.start, w.end) for w in edited.words if w.end > w.start)
    assert ly.edit_text(edited, "").lines == ()


def test_edits_of_many_lines_stay_ordered_and_inside_the_audio():
    edited = ly.edit_text(SONG, "hello\nnew line here\nagain and again\nfish and chips\nthe end")
    assert_well_formed(edited)
    assert [ln.text for ln in edited.lines] == [
        "hello",
        "new line here",
        "again and again",
        "fish and chips",
        "the end",
    ]


def test_edit_text_refuses_what_is_not_text():
    with pytest.raises(ValueError, match="must be text"):
        ly.edit_text(BASE, None)
    with pytest.raises(ValueError, match="too long"):
        ly.edit_text(BASE, "la " * 50_000)


# ------------------------------------------------------------------------------------------------- from_dict


def test_from_dict_checks_and_repairs_what_clients_send():
    data = BASE.to_dict()
    data["lines"] = list(reversed(data["lines"]))  # out of order
    data["lines"][0]["end"] = 25.0  # past the end of the audio
    repaired = Lyrics.from_dict(data)
    assert [ln.text for ln in repaired.lines] == ["Hello cruel world", "Goodbye now"]
    assert repaired.lines[1].end == 20.0
    assert_well_formed(repaired)

    with pytest.raises(ValueError, match="line 1: start must be a number of seconds"):
        Lyrics.from_dict({"lines": [{"start": "soon", "end": 1, "text": "x"}]})
    with pytest.raises(ValueError, match="line 1, word 1: text must be a string"):
        Lyrics.from_dict({"lines": [{"start": 0, "end": 1, "text": "x", "words": [{"start": 0, "end": 1}]}]})
    with pytest.raises(ValueError, match="version 2 cannot be read"):
        Lyrics.from_dict({"version": 2, "lines": []})
    with pytest.raises(ValueError, match="finite"):
        Lyrics.from_dict({"lines": [{"start": float("nan"), "end": 1, "text": "x"}]})
