"""Slicing options, validated in the web process (no Essentia import here).

A source is the track's mix or one of its stems; the stem's name picks the slicing strategy (drum hits, vocal
phrases and chops, note chops) and the tagger's prior. The instrumental of a two-stem split slices as a mix.
"""

STRATEGY_FOR_STEM = {
    "drums": "drums",
    "vocals": "vocals",
    "bass": "bass",
    "other": "other",
    "guitar": "guitar",
    "piano": "piano",
    "no_vocals": "mix",
}
# Per strategy: the defaults a producer would start from (max_length mirrors engines.slicing.DEFAULT_MAX_LENGTH).
MAX_LENGTH = {"drums": 1.5, "mix": 4.0, "vocals": 8.0, "bass": 4.0, "other": 4.0, "guitar": 4.0, "piano": 4.0}
DEFAULTS = {"sensitivity": 0.5, "min_length": 0.05, "max_length": None, "silence_db": -50.0, "normalise": False}
MAX_SAMPLES = 2000  # per source and run: beyond this a sensitivity is picking noise, not hits


def strategy_for(stem_name: str | None) -> str:
    """The slicing strategy (and tagging prior) for a stem name, or "mix" for the track itself."""
    return STRATEGY_FOR_STEM.get(stem_name or "", "mix")


def _number(params, name, low, high, unit=""):
    try:
        value = float(params[name])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number.") from exc
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}{unit}.")
    return value


def clean_params(data: dict, strategy: str = "mix") -> dict:
    """Validated slicing options for a source's strategy, or ValueError with a reason a user can act on."""
    params = {**DEFAULTS, **{k: v for k, v in (data or {}).items() if v is not None and v != ""}}
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown option(s): {', '.join(sorted(unknown))}.")
    params["sensitivity"] = _number(params, "sensitivity", 0, 1)
    params["min_length"] = _number(params, "min_length", 0.01, 10, " seconds")
    if params["max_length"] is None:
        params["max_length"] = max(MAX_LENGTH.get(strategy, 4.0), params["min_length"])
    params["max_length"] = _number(params, "max_length", 0.02, 30, " seconds")
    if params["max_length"] < params["min_length"]:
        raise ValueError("max_length must be at least min_length.")
    params["silence_db"] = _number(params, "silence_db", -120, -6, " dBFS")
    normalise = params["normalise"]
    if isinstance(normalise, str):
        if normalise.lower() not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
            raise ValueError("normalise must be true or false.")
        normalise = normalise.lower() in ("true", "1", "on", "yes")
    if not isinstance(normalise, bool | int):
        raise ValueError("normalise must be true or false.")
    params["normalise"] = bool(normalise)
    return params
