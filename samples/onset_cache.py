"""A source's onset curve (what the slicer's markers are picked from), computed once and kept in storage.

A source is a track's mix or one of its stems. `get_onsets` decodes it and runs
`audio.slicing.onset_curve` the first time, stores the JSON under the track's storage prefix
(`{track.storage_prefix}/onsets/{stem id or "mix"}-{silence_db}.json`, so deleting the track removes it) and
reads that file on every later call. A source's audio never changes (a new separation makes new stems), so the
file stays valid until the engine changes, which bumps VERSION.

Cost, measured on the 2-core development machine for 3-minute sources (FLAC, 44.1 kHz stereo; fake stems of
tests/browser/conftest.py): decoding 0.3-0.5 s, onset_curve 1.5-2.4 s (drums 1.6 s, vocals 1.5-2.2 s, bass
2.0-2.4 s, other 1.7 s; the first call in a process adds about 1 s for importing Essentia). So the first
request for a source takes 2-3 s for a 3-minute stem and proportionally more for a longer one (a 10-minute mix:
decoding 1.5 s, onset_curve 8 s, about 750 MB of memory at its peak), which the slicer page covers with a
loading state; every later request reads a file of 30-150 kB (about 350 kB for 10 minutes). A 30-minute upload
(the longest allowed) would take about 30 s and 2 GB in the web process: should such sources become common,
compute the curve in a CPU-queue job instead.

The JSON is `OnsetCurve.to_json()` (the display curve and one [time, strength, level_db] per candidate), with
the candidates written at full precision instead of rounded: time as the float64 it is, strength and level as
the shortest decimals that give back their float32 values. The browser then applies `slicing.pick`'s rule to
exactly the numbers Python compares, so the count it shows is the count the slicing job cuts. Added keys:
"strategy", "defaults" (the slicing options a user starts from, max_length per strategy), "pre_roll" (s of
audio kept before each onset), "max_samples" and "silence_db" (the threshold the curve was made with).
"""

import json
import logging
import math

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audio import audio_io, slice_options, slicing
from core.storage import local_path

logger = logging.getLogger(__name__)

VERSION = 1  # bump when onset_curve's output changes, so stored curves are computed again
# Only vocals ("phrases") use silence_db in onset_curve (phrase starts); for every other strategy the curve is
# the same at any threshold (pick() applies it), so it is stored once, under the default threshold.
SILENCE_DEPENDENT = {"vocals"}


def strategy_of(stem) -> str:
    return slice_options.strategy_for(stem.name) if stem is not None else "mix"


def defaults_for(strategy: str) -> dict:
    """The options a user starts from for a strategy, max_length resolved."""
    return {**slice_options.DEFAULTS, "max_length": slice_options.MAX_LENGTH.get(strategy, 4.0)}


def clean_silence(value) -> float:
    """A silence threshold from a query string (dBFS), or ValueError with a sentence."""
    if value is None or value == "":
        return float(slice_options.DEFAULTS["silence_db"])
    try:
        silence = float(value)
    except (TypeError, ValueError):
        raise ValueError("The silence threshold must be a number of dBFS, like -50.") from None
    if not math.isfinite(silence) or not -120 <= silence <= -6:
        raise ValueError("The silence threshold must be between -120 and -6 dBFS.")
    return round(silence, 1)


def cache_name(track, stem, silence_db: float) -> str:
    """Where a source's curve is stored. Non-vocal sources share one file for every threshold."""
    if strategy_of(stem) not in SILENCE_DEPENDENT:
        silence_db = float(slice_options.DEFAULTS["silence_db"])
    return f"{track.storage_prefix}/onsets/{stem.pk if stem is not None else 'mix'}-{silence_db:g}.json"


def _source_file(track, stem) -> tuple[str, str]:
    """(stored name, suffix) of the audio the slicing job would cut: the stem's FLAC or the track's original."""
    if stem is not None:
        name = stem.file.name
        return name, "." + name.rsplit(".", 1)[-1] if "." in name else ""
    return track.original.name, f".{track.format}"


def _float32_text(values) -> list[float]:
    # str() of a numpy float32 is its shortest round-trip decimal: parsed back (Python or JS) and rounded to
    # float32 it is the same number, which pick() compares.
    return [float(str(v)) for v in np.asarray(values, dtype=np.float32)]


def compute(track, stem, silence_db: float) -> dict:
    """Decode the source and run onset_curve (seconds for a long source; see the module docstring)."""

    strategy = strategy_of(stem)
    name, suffix = _source_file(track, stem)
    with local_path(name, suffix=suffix) as path:
        samples, sample_rate = audio_io.decode(path)
    curve = slicing.onset_curve(samples, sample_rate, source=strategy, silence_db=silence_db)
    del samples
    data = curve.to_json()
    data["curve"] = [round(v, 3) for v in data["curve"]]  # float32 values print as 0.9660000205039978
    strengths, levels = _float32_text(curve.strengths), _float32_text(curve.levels)
    data["onsets"] = [[t, s, lv] for t, s, lv in zip(curve.times.tolist(), strengths, levels, strict=True)]
    data["version"] = VERSION
    data["silence_db"] = silence_db
    return data


def _read(name: str) -> dict | None:
    try:
        with default_storage.open(name, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except Exception:  # a cache must never break the page (corrupt file, S3 hiccup): compute it again
        logger.warning("Unreadable onset cache %s; computing it again", name, exc_info=True)
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def _write(name: str, data: dict) -> None:
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).encode("utf-8")
    # Storage.save never overwrites (it would pick another name): remove a stale or corrupt file first. Two
    # requests computing the same curve at once both write the same content; the second one is dropped.
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(payload))
    if saved != name:
        default_storage.delete(saved)


def _finish(data: dict, stem, silence_db: float) -> dict:
    strategy = strategy_of(stem)

    return {
        **data,
        "strategy": strategy,
        "defaults": defaults_for(strategy),
        "pre_roll": slicing._strategy(strategy).pre_roll,  # the engine's default for the strategy
        "max_samples": slice_options.MAX_SAMPLES,
        "silence_db": silence_db,
    }


def cached_onsets(track, stem, silence_db: float) -> dict | None:
    """The stored curve, or None when it has not been computed yet (never computes)."""
    data = _read(cache_name(track, stem, silence_db))
    return _finish(data, stem, silence_db) if data is not None else None


def get_onsets(track, stem, silence_db: float) -> dict:
    """The source's onset curve as JSON-ready dict: computed once per (source, silence_db), then read back.

    Raises audio.audio_io.AudioError when the stored audio cannot be decoded.
    """
    name = cache_name(track, stem, silence_db)
    data = _read(name)
    if data is None:
        effective = silence_db if strategy_of(stem) in SILENCE_DEPENDENT else slice_options.DEFAULTS["silence_db"]
        data = compute(track, stem, float(effective))
        try:
            _write(name, data)
        except Exception:  # the curve is still served; the next request computes it again
            logger.warning("Could not store the onset cache %s", name, exc_info=True)
    return _finish(data, stem, silence_db)
