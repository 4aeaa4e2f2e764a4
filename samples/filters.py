"""Search, filters and sorting for samples, shared by the sample browser and /api/samples/ so both agree."""

import re
import uuid
from dataclasses import dataclass, field

from django.db.models import F, Q

from core.ids import parse_uuid
from samples.models import Sample, SampleCategory
from tracks.filters import FLATS

GROUPS = {
    "drums": ["kick", "snare", "clap", "hihat_closed", "hihat_open", "cymbal", "tom", "percussion"],
    "pitched": ["bass", "vocal", "keys", "guitar", "strings", "brass_wind", "synth_lead", "pad"],
    "other": ["fx_other"],
}
SORTS = {
    "newest": ("-created_at", "track_id", "source", "index"),
    "source": ("track_id", "source", "index"),
    "category": ("category", "-confidence"),
    "shortest": ("duration", "index"),
    "longest": ("-duration", "index"),
    "loudest": ("-loudness", "index"),
    "note": (F("note").asc(), "category"),
}
SORT_LABELS = {
    "newest": "Newest first",
    "source": "By source, in order",
    "category": "By category",
    "shortest": "Shortest first",
    "longest": "Longest first",
    "loudest": "Loudest first",
    "note": "By note",
}
SOURCES = ["mix", "drums", "vocals", "bass", "other", "guitar", "piano", "no_vocals"]
_NOTE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)?$")


@dataclass
class SampleFilters:
    q: str = ""
    categories: list[str] = field(default_factory=list)
    tag: str = ""
    note: str = ""  # "A" (any octave) or "A2"
    bpm_min: float | None = None
    bpm_max: float | None = None
    track: uuid.UUID | None = None
    source: str = ""
    favourite: bool = False
    collection: uuid.UUID | None = None
    sort: str = "newest"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params) -> "SampleFilters":
        """Read filters from a QueryDict. Bad values are dropped and explained in `errors`, never raised."""
        f = cls()
        f.q = " ".join((params.get("q") or "").split())[:200]
        raw = params.getlist("category") if hasattr(params, "getlist") else [params.get("category")]
        for value in [v.strip() for item in raw if item for v in item.split(",")]:
            if value in GROUPS:
                f.categories += [c for c in GROUPS[value] if c not in f.categories]
            elif value in SampleCategory.values:
                if value not in f.categories:
                    f.categories.append(value)
            elif value:
                f.errors.append(f"Unknown category “{value}”.")
        f.tag = (params.get("tag") or "").strip()[:60]
        note = (params.get("note") or params.get("key") or "").strip()
        if note:
            match = _NOTE.match(note)
            if match:
                name = match.group(1).upper() + match.group(2)
                f.note = FLATS.get(name, name) + (match.group(3) or "")
            else:
                f.errors.append(f"Unknown note “{note}”: use a note such as A, F#, Bb or A2.")
        for name in ("bpm_min", "bpm_max"):
            raw_bpm = (params.get(name) or "").strip()
            if raw_bpm:
                try:
                    value = float(raw_bpm)
                    if not 0 < value < 1000:
                        raise ValueError
                    setattr(f, name, value)
                except ValueError:
                    f.errors.append(f"{name.replace('_', ' ').upper()} must be a number between 1 and 999.")
        for name in ("track", "collection"):
            raw_id = (params.get(name) or "").strip()
            if raw_id:
                value = parse_uuid(raw_id)
                if value is None:
                    f.errors.append(f"{name.capitalize()} must be an id.")
                setattr(f, name, value)
        source = (params.get("source") or params.get("stem") or "").strip()
        if source in SOURCES:
            f.source = source
        elif source:
            f.errors.append(f"Unknown source “{source}”: use one of {', '.join(SOURCES)}.")
        f.favourite = (params.get("favourite") or "").lower() in ("1", "true", "on", "yes")
        sort = (params.get("sort") or "newest").strip()
        f.sort = sort if sort in SORTS else "newest"
        return f

    @property
    def active(self) -> bool:
        return any(
            [self.q, self.categories, self.tag, self.note, self.bpm_min, self.bpm_max, self.track, self.source,
             self.favourite, self.collection]
        )  # fmt: skip

    def apply(self, queryset):
        if self.q:
            labels = {label.lower(): value for value, label in SampleCategory.choices}
            for word in self.q.split()[:8]:
                matching = [v for lab, v in labels.items() if word.lower() in lab or word.lower() in v]
                queryset = queryset.filter(
                    Q(track__title__icontains=word)
                    | Q(track__artist__icontains=word)
                    | Q(source__icontains=word)
                    | Q(note__iexact=word)
                    | Q(category__in=matching)
                    | Q(pk__in=Sample.objects.filter(tags__name__icontains=word).values("pk"))
                )
        if self.categories:
            queryset = queryset.filter(category__in=self.categories)
        if self.tag:
            queryset = queryset.filter(pk__in=Sample.objects.filter(tags__name__iexact=self.tag).values("pk"))
        if self.note:
            if self.note[-1].isdigit():
                queryset = queryset.filter(note=self.note)
            else:
                queryset = queryset.filter(note__regex=rf"^{re.escape(self.note)}-?\d$")
        if self.bpm_min is not None:
            queryset = queryset.filter(track__bpm__gte=self.bpm_min)
        if self.bpm_max is not None:
            queryset = queryset.filter(track__bpm__lte=self.bpm_max)
        if self.track:
            queryset = queryset.filter(track_id=self.track)
        if self.source:
            queryset = queryset.filter(source=self.source)
        if self.favourite:
            queryset = queryset.filter(favourite=True)
        if self.collection:
            queryset = queryset.filter(pk__in=Sample.objects.filter(collections__pk=self.collection).values("pk"))
        return queryset.order_by(*SORTS[self.sort])
