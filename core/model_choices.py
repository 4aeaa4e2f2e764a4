"""Which models the forms offer, and which are installed: a look at file names, no model is loaded."""

import functools

from django.conf import settings

from audio import weights
from audio.lyrics import DEFAULT_MODEL, MODEL_CHOICES, languages
from audio.separation_options import MODELS


@functools.cache
def _language_choices() -> tuple:
    """Whisper's languages as (code, name), by name. Cheap (no torch import), but worth keeping."""

    try:
        return tuple(sorted(languages().items(), key=lambda item: item[1]))
    except ImportError:  # whisper missing: "Detect" is then the only choice, and transcription says why it fails
        return ()


def _choices() -> dict:
    """The model and language choices of the forms, with which models are installed (a look at file names)."""

    lyric_models = [{"name": m, "installed": weights.installed(m, settings.MODEL_DIR)} for m in MODEL_CHOICES]
    installed = [m["name"] for m in lyric_models if m["installed"]]
    separation = [{"name": m, "installed": weights.installed(m, settings.MODEL_DIR)} for m in MODELS]
    missing = []
    if not any(m["installed"] for m in separation):
        missing.append("separation (python manage.py download_models htdemucs)")
    if not installed:
        missing.append(f"lyrics (python manage.py download_models {DEFAULT_MODEL})")
    return {
        "lyric_models": lyric_models,
        "lyric_model_default": DEFAULT_MODEL if DEFAULT_MODEL in installed or not installed else installed[0],
        "separation_choices": separation,
        "languages": _language_choices(),
        # Steps that will fail for want of weights: the Process form says so before anyone presses it.
        "models_missing": missing,
    }
