"""Separation options, validated in the web process (no torch or demucs import here)."""

MODELS = ("htdemucs", "htdemucs_ft", "htdemucs_6s")
DEFAULTS = {"model": "htdemucs", "two_stems": None, "shifts": 1, "overlap": 0.25, "segment": None}


def clean_params(data: dict) -> dict:
    """Validated separation options, or ValueError with a reason a user can act on."""
    params = {**DEFAULTS, **{k: v for k, v in (data or {}).items() if v is not None and v != ""}}
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown option(s): {', '.join(sorted(unknown))}.")
    if params["model"] not in MODELS:
        raise ValueError(f"Unknown model “{params['model']}”. Choose one of: {', '.join(MODELS)}.")
    if params["two_stems"] not in (None, "vocals", "drums", "bass", "other", "guitar", "piano"):
        raise ValueError("two_stems must name one stem, for example “vocals”.")
    if params["two_stems"] in ("guitar", "piano") and params["model"] != "htdemucs_6s":
        raise ValueError(f"Only htdemucs_6s has a {params['two_stems']} stem.")
    try:
        params["shifts"] = int(params["shifts"])
        params["overlap"] = float(params["overlap"])
        params["segment"] = float(params["segment"]) if params["segment"] is not None else None
    except (TypeError, ValueError) as exc:
        raise ValueError("shifts must be a whole number, overlap and segment numbers.") from exc
    if not 0 <= params["shifts"] <= 10:
        raise ValueError("shifts must be between 0 and 10.")
    if not 0 <= params["overlap"] < 1:
        raise ValueError("overlap must be at least 0 and below 1.")
    if params["segment"] is not None and not 1 <= params["segment"] <= 7.8:
        raise ValueError("segment must be between 1 and 7.8 seconds (the length htdemucs was trained on).")
    return params
