"""Search, filters and sorting for tracks, shared by the library page and /api/tracks/ so both agree."""

from dataclasses import dataclass, field

from django.db.models import F, Q

from core.ids import parse_uuid
from tracks.models import Track

# Tracks not analysed yet have no BPM or duration: they go last either way, on SQLite and PostgreSQL alike
# (which otherwise disagree on where NULL sorts).
SORTS = {
    "newest": ("-created_at",),
    "oldest": ("created_at",),
    "title": ("title", "-created_at"),
    "artist": ("artist", "title"),
    "bpm": (F("bpm").asc(nulls_last=True), "title"),
    "-bpm": (F("bpm").desc(nulls_last=True), "title"),
    "key": ("key", "scale", "title"),
    "duration": (F("duration").asc(nulls_last=True), "title"),
    "-duration": (F("duration").desc(nulls_last=True), "title"),
}
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "title": "Title A–Z",
    "artist": "Artist A–Z",
    "bpm": "BPM, slowest first",
    "-bpm": "BPM, fastest first",
    "key": "Key",
    "duration": "Shortest first",
    "-duration": "Longest first",
}
KEYS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}


@dataclass
class TrackFilters:
    q: str = ""
    key: str = ""
    scale: str = ""
    bpm_min: float | None = None
    bpm_max: float | None = None
    tag: str = ""
    status: str = ""
    collection: str = ""
    sort: str = "newest"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params) -> "TrackFilters":
        """Read filters from a QueryDict. Bad values are dropped and explained in `errors`, never raised."""
        f = cls()
        f.q = " ".join((params.get("q") or "").split())[:200]
        key_text = (params.get("key") or "").strip()
        if key_text:
            parts = key_text.replace("m", " minor", 1).split() if key_text.endswith("m") else key_text.split()
            note = FLATS.get(parts[0][:1].upper() + parts[0][1:], parts[0][:1].upper() + parts[0][1:])
            if note in KEYS:
                f.key = note
                if len(parts) > 1 and parts[1].lower() in ("major", "minor"):
                    f.scale = parts[1].lower()
            else:
                f.errors.append(
                    f"Unknown key “{key_text}”: use a note such as A, F# or Bb, optionally with major or minor."
                )
        scale = (params.get("scale") or "").strip().lower()
        if scale in ("major", "minor"):
            f.scale = scale
        for name in ("bpm_min", "bpm_max"):
            raw = (params.get(name) or "").strip()
            if raw:
                try:
                    value = float(raw)
                    if not 0 < value < 1000:
                        raise ValueError
                    setattr(f, name, value)
                except ValueError:
                    f.errors.append(f"{name.replace('_', ' ').upper()} must be a number between 1 and 999.")
        f.tag = (params.get("tag") or "").strip()[:60]
        status = (params.get("status") or "").strip()
        if status in Track.Status.values:
            f.status = status
        elif status:
            f.errors.append(f"Unknown status “{status}”.")
        f.collection = (params.get("collection") or "").strip()[:64]
        sort = (params.get("sort") or "newest").strip()
        f.sort = sort if sort in SORTS else "newest"
        return f

    @property
    def active(self) -> bool:
        return any([self.q, self.key, self.scale, self.bpm_min, self.bpm_max, self.tag, self.status, self.collection])

    def apply(self, queryset):
        if self.q:
            for word in self.q.split()[:8]:
                queryset = queryset.filter(
                    Q(title__icontains=word)
                    | Q(artist__icontains=word)
                    | Q(album__icontains=word)
                    | Q(original_filename__icontains=word)
                    | Q(pk__in=Track.objects.filter(tags__name__icontains=word).values("pk"))
                )
        if self.key:
            queryset = queryset.filter(key=self.key)
        if self.scale:
            queryset = queryset.filter(scale=self.scale)
        if self.bpm_min is not None:
            queryset = queryset.filter(bpm__gte=self.bpm_min)
        if self.bpm_max is not None:
            queryset = queryset.filter(bpm__lte=self.bpm_max)
        if self.tag:
            queryset = queryset.filter(pk__in=Track.objects.filter(tags__name__iexact=self.tag).values("pk"))
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.collection:
            queryset = queryset.filter(
                pk__in=Track.objects.filter(collections__pk=parse_uuid(self.collection)).values("pk")
            )
        return queryset.order_by(*SORTS[self.sort])
