"""Sample browser pages. Thin: read input, call a service, render a page or, for htmx, the named partial.

The browser (/samples/) is one page with named partials in templates/library/samples.html: "results" (the grid,
pagination and the bulk action bar; htmx swaps it on every filter change and after a bulk action), "card" (one
sample, swapped after a category correction from its menu). The detail page (templates/library/samples/detail.html)
has partials for its category, tags, collections and "More like this" panels. Every write is a POST that works as
a plain form (redirect back, with a message) and as htmx (the partial, with the result in it).
"""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from audio.sample_edit import CURVES as FADE_CURVES
from core.ids import parse_id_list
from core.media import safe_filename, serve_converted, serve_file
from core.waveform import wave_path
from samples import services as sample_services
from samples.audition import audition_kind
from samples.filters import GROUPS, SORT_LABELS, SOURCES, SampleFilters
from samples.models import Sample, SampleCategory
from samples.similar import similar_samples
from tracks import services
from tracks.models import Collection, Tag, Track

PAGE_SIZE = 60
SIMILAR_COUNT = 24
VIEWS = ("grid", "list")
PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
GROUP_LABELS = {"drums": "Drums", "pitched": "Pitched", "other": "Other"}
GROUP_OF = {category: group for group, members in GROUPS.items() for category in members}
CATEGORY_LABELS = dict(SampleCategory.choices)
# The category choices as the forms show them: grouped like the filter.
CATEGORY_GROUPS = [
    {"value": group, "label": GROUP_LABELS[group], "choices": [(c, CATEGORY_LABELS[c]) for c in members]}
    for group, members in GROUPS.items()
]
SOURCE_LABELS = {
    s: ("Full mix" if s == "mix" else "Instrumental" if s == "no_vocals" else s.capitalize()) for s in SOURCES
}

# The thumbnail: one bar per peak, mirrored around the middle, in a 96 x 32 box the CSS stretches.


class BadInput(ValueError):
    """Input a user could fix: answered with a 400 and this sentence."""


# --- lookups ----------------------------------------------------------------------------------------------


def _get_sample_for_user(request, sample_id) -> Sample:
    return get_object_or_404(Sample.objects.for_user(request.user).select_related("track"), pk=sample_id)


def _get_collection_for_user(request, collection_id) -> Collection:
    try:
        collection_id = uuid.UUID(str(collection_id))
    except ValueError:
        raise BadInput("Choose one of your collections.") from None
    return get_object_or_404(Collection.objects.for_user(request.user), pk=collection_id)


def _browser_queryset(user):
    """What a card shows, in a constant number of queries: the sample, its track's title and BPM, its tags."""
    return (
        Sample.objects.for_user(user)
        .select_related("track")
        .defer("embedding", "track__peaks", "track__beats", "track__error")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    )


def _parse_ids(values) -> list[uuid.UUID]:
    """Sample ids from the form (repeated `ids` fields, or one comma-separated value), without duplicates."""
    try:
        return parse_id_list(
            values, limit=sample_services.MAX_BULK,
            too_many=f"Select at most {sample_services.MAX_BULK} samples at a time.",
        )  # fmt: skip
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _samples_for_ids(request, ids) -> list[Sample]:
    """All of them, or a 404: one sample that is missing or someone else's stops the whole action."""
    samples = list(Sample.objects.for_user(request.user).filter(pk__in=ids).defer("embedding"))
    if len(samples) != len(ids):
        raise Http404("Some of the selected samples do not exist any more. Reload the page and try again.")
    order = {pk: i for i, pk in enumerate(ids)}
    return sorted(samples, key=lambda s: order[s.pk])


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _plural(count: int, word: str = "sample") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- presentation -----------------------------------------------------------------------------------------


def duration_label(seconds) -> str:
    if seconds is None:
        return "—"
    return f"{round(seconds * 1000)} ms" if seconds < 1 else f"{seconds:.2f} s"


def _decorate(sample: Sample) -> Sample:
    """Attach what the templates show and cannot compute cheaply (no template tags of our own)."""
    sample.wave_path = wave_path(sample.peaks)
    sample.group = GROUP_OF.get(sample.category, "other")
    sample.confidence_pct = round((sample.confidence or 0) * 100)
    sample.predicted_label = CATEGORY_LABELS.get(sample.predicted_category, sample.predicted_category)
    sample.duration_label = duration_label(sample.duration)
    sample.audio_url = reverse("samples:sample_audio", args=[sample.pk])
    # Every caller selects the track with the sample (select_related), so this costs no query.
    bpm = sample.track.bpm
    sample.audition_kind = audition_kind(category=sample.category, duration=sample.duration, note=sample.note, bpm=bpm)
    similarity = getattr(sample, "similarity", None)
    if similarity is not None:
        sample.similarity_pct = max(0, round(similarity * 100))
    return sample


def _filter_options(user) -> dict:
    samples = Sample.objects.filter(owner=user)
    notes = set(samples.exclude(note="").order_by().values_list("note", flat=True).distinct())

    def pitch(note):
        name, octave = note.rstrip("-0123456789"), note[len(note.rstrip("-0123456789")) :]
        try:
            return (int(octave), PITCH_CLASSES.index(name))
        except ValueError:
            return (99, 99)

    return {
        "tags": list(Tag.objects.for_user(user).filter(Exists(samples.filter(tags=OuterRef("pk")))).only("id", "name")),
        "collections": list(Collection.objects.for_user(user).only("id", "name")),
        "source_tracks": list(
            Track.objects.for_user(user)
            .filter(Exists(samples.filter(track=OuterRef("pk"))))
            .only("id", "title", "original_filename")
            .order_by("title", "original_filename")
        ),
        "pitch_classes": PITCH_CLASSES,
        "exact_notes": sorted(notes, key=pitch),
        "sources": [(s, SOURCE_LABELS[s]) for s in SOURCES],
        "category_groups": CATEGORY_GROUPS,
        "sort_labels": SORT_LABELS,
    }


def _browser_context(request, params, **extra) -> dict:
    filters = SampleFilters.from_params(params)
    page = Paginator(filters.apply(_browser_queryset(request.user)), PAGE_SIZE).get_page(params.get("page"))
    samples = [_decorate(s) for s in page.object_list]
    count = page.paginator.count
    library_empty = count == 0 and (
        not filters.active or not Sample.objects.for_user(request.user).exists()
    )  # fmt: skip
    query = params.copy()
    query.pop("page", None)
    querystring = query.urlencode()
    view = params.get("view") if params.get("view") in VIEWS else "grid"
    selected = {str(pk) for pk in extra.pop("selected", ())}
    for sample in samples:
        sample.is_selected = str(sample.pk) in selected
    chosen = set(filters.categories)
    selected_groups = {group for group, members in GROUPS.items() if chosen >= set(members)}
    return {
        "filters": filters,
        "selected_categories": set(filters.categories),
        "page_obj": page,
        "samples": samples,
        "library_empty": library_empty,
        "querystring": querystring,
        "page_query": params.urlencode(),
        "current_url": reverse("samples:samples") + (f"?{params.urlencode()}" if params else ""),
        "view": view,
        "view_urls": {name: _with_param(query, "view", "" if name == "grid" else name) for name in VIEWS},
        "selected": selected,
        "selected_groups": selected_groups,
        "category_summary": _category_summary(filters.categories, selected_groups),
        **_filter_options(request.user),
        **extra,
    }


def _with_param(query: QueryDict, name: str, value: str) -> str:
    params = query.copy()
    params.pop(name, None)
    if value:
        params[name] = value
    return reverse("samples:samples") + (f"?{params.urlencode()}" if params else "")


def _category_summary(categories, groups) -> str:
    if not categories:
        return "Any category"
    if len(groups) == 1 and len(categories) == len(GROUPS[next(iter(groups))]):
        return f"All {GROUP_LABELS[next(iter(groups))].lower()}"
    if len(categories) == 1:
        return CATEGORY_LABELS[categories[0]]
    return f"{len(categories)} categories"


def _render_results(request, params, *, status=200, **extra):
    context = _browser_context(request, params, **extra)
    template = "samples/browser.html#results" if request.htmx else "samples/browser.html"
    return render(request, template, context, status=status)


# --- the browser ------------------------------------------------------------------------------------------


@require_GET
def browser(request):
    context = _browser_context(request, request.GET)
    if request.htmx and request.htmx.target == "results":
        return render(request, "samples/browser.html#results", context)
    return render(request, "samples/browser.html", context)


@require_POST
def bulk(request):
    """One action on the selected samples (`ids`), then the results again with the same filters (`query`).

    A missing or someone else's id is a 404 and bad input a 400 with the reason; either way nothing changes.
    "delete" only asks (a confirmation page, or for htmx the action bar in its confirm state); "delete-confirmed"
    deletes.
    """
    params = QueryDict(request.POST.get("query", ""), mutable=False)
    action = request.POST.get("action") or ""
    try:
        ids = _parse_ids(request.POST.getlist("ids"))
    except BadInput as exc:
        return _render_results(request, params, status=400, action_error=str(exc))
    samples = _samples_for_ids(request, ids)
    if action == "delete":
        if request.htmx:
            return _render_results(request, params, selected=ids, confirm_delete=True)
        return render(request, "samples/confirm_delete.html", {
            "samples": samples, "query": params.urlencode(),
            "back_url": reverse("samples:samples") + (f"?{params.urlencode()}" if params else ""),
        })  # fmt: skip
    try:
        with transaction.atomic():
            notice = _run_bulk(request, action, samples)
    except ValueError as exc:
        return _render_results(request, params, status=400, selected=ids, action_error=str(exc))
    keep = [] if action == "delete-confirmed" else ids
    if request.htmx:
        return _render_results(request, params, selected=keep, notice=notice)
    messages.success(request, notice)
    return HttpResponseRedirect(reverse("samples:samples") + (f"?{params.urlencode()}" if params else ""))


def _run_bulk(request, action, samples) -> str:
    """Do it and say what was done. ValueError (or BadInput) with a sentence when it cannot be done."""
    user, noun = request.user, _plural(len(samples))
    if action == "typed":  # Enter in one of the bar's text fields, without JavaScript
        typed_collection = request.POST.get("new_collection", "").strip() or request.POST.get("collection")
        action = "tag" if request.POST.get("tags", "").strip() else "collection" if typed_collection else ""
    if action == "favourite":
        sample_services.do_bulk_favourite(user, samples, True)
        return f"Added {noun} to your favourites."
    if action == "unfavourite":
        sample_services.do_bulk_favourite(user, samples, False)
        return f"Removed {noun} from your favourites."
    if action == "tag":
        tags = sample_services.do_bulk_add_tags(user, samples, request.POST.get("tags", ""))
        return f"Tagged {noun} with {', '.join(f'“{t.name}”' for t in tags)}."
    if action == "category":
        category = sample_services.clean_category(request.POST.get("category"))
        sample_services.do_bulk_set_category(user, samples, category)
        return f"Set {noun} to {CATEGORY_LABELS[category]}."
    if action == "collection":
        new_name = (request.POST.get("new_collection") or "").strip()
        if new_name:
            collection = services.do_create_collection(user, new_name)
        elif request.POST.get("collection"):
            collection = _get_collection_for_user(request, request.POST["collection"])
        else:
            raise BadInput("Choose a collection or name a new one.")
        sample_services.do_add_samples_to_collection(collection, samples)
        return f"{noun[0].upper()}{noun[1:]} added to “{collection.name}”."
    if action == "delete-confirmed":
        sample_services.do_delete_samples(user, samples)
        return f"Deleted {noun} and {'its file' if len(samples) == 1 else 'their files'}."
    raise BadInput("Choose what to do with the selected samples: favourite, tag, category, collection or delete.")


# --- one sample -------------------------------------------------------------------------------------------


def _detail_context(request, sample, **extra) -> dict:
    _decorate(sample)
    collections = list(Collection.objects.for_user(request.user).only("id", "name"))
    mine = set(sample.collections.values_list("pk", flat=True))
    tags = list(sample.tags.all())
    return {
        "sample": sample,
        "track": sample.track,
        "tags_text": ", ".join(t.name for t in tags),
        "sample_tags": tags,
        "all_tags": Tag.objects.for_user(request.user).only("id", "name"),
        "sample_collections": [c for c in collections if c.pk in mine],
        "other_collections": [c for c in collections if c.pk not in mine],
        "category_groups": CATEGORY_GROUPS,
        "current_url": sample.get_absolute_url(),
        "pitch_confidence_pct": round((sample.pitch_confidence or 0) * 100),
        "rate_label": f"{sample.sample_rate / 1000:g} kHz",
        "edits": sample.edits.all().order_by("-created_at")[:20],
        "edit_values": {},
        "fade_curves": FADE_CURVES,
        **extra,
    }


def _similar_context(sample) -> dict:
    return {"sample": sample, "similar": [_decorate(s) for s in similar_samples(sample, SIMILAR_COUNT)]}


@require_GET
def sample_detail(request, sample_id):
    sample = _get_sample_for_user(request, sample_id)
    return render(request, "samples/detail.html", _detail_context(request, sample))


@require_GET
def sample_similar(request, sample_id):
    """ "More like this": the partial for htmx (the detail page loads it), else the page with it filled in."""
    sample = _get_sample_for_user(request, sample_id)
    if request.htmx:
        return render(request, "samples/detail.html#similar", _similar_context(sample))
    context = _detail_context(request, sample, similar=_similar_context(sample)["similar"], similar_loaded=True)
    return render(request, "samples/detail.html", context)


@require_GET
def sample_audio(request, sample_id):
    sample = _get_sample_for_user(request, sample_id)
    if request.GET.get("format"):  # a drag into a DAW, in the format the person chose (core.media.serve_converted)
        track = sample.track
        return serve_converted(
            request, sample.file.name, download_name=safe_filename(sample.display_name), bpm=track.bpm,
            key=track.key_label or None, note=sample.note or None, title=sample.display_name,
            artist=track.artist or None, comment=f"From {track.display_title} ({sample.source_label})",
        )  # fmt: skip
    download = request.GET.get("download") == "1"
    return serve_file(request, sample.file.name, download_name=f"{sample.display_name}.wav" if download else None)


EDIT_FIELDS = ("start", "end", "fade_in", "fade_out", "fade_curve", "gain_db", "pitch", "pitch_mode")
EDIT_FLAGS = ("reverse", "normalise")


@require_POST
def sample_edit(request, sample_id):
    """The editor's "Save as new sample": the edit renders on the cpu worker; the original stays."""
    sample = _get_sample_for_user(request, sample_id)
    edit = {k: request.POST[k] for k in EDIT_FIELDS if request.POST.get(k, "").strip()}
    edit.update({k: True for k in EDIT_FLAGS if request.POST.get(k)})
    try:
        sample_services.do_request_sample_edit(sample, edit)
    except ValueError as exc:
        context = _detail_context(request, sample, edit_error=str(exc), edit_values=request.POST)
        return render(request, "samples/detail.html", context, status=400)
    messages.success(
        request, f"Rendering your edit of {sample.display_name}: it appears as “{sample.display_name} edit” "
        "under Edits in a few seconds. This sample stays as it is.",
    )  # fmt: skip
    return redirect(sample.get_absolute_url() + "#sample-edit")


@require_POST
def sample_favourite(request, sample_id):
    """`favourite` = 1 or 0 (none: toggle). htmx gets the star button back."""
    sample = _get_sample_for_user(request, sample_id)
    value = (request.POST.get("favourite") or "").lower()
    if value in ("1", "true", "on", "yes"):
        favourite = True
    elif value in ("0", "false", "off", "no"):
        favourite = False
    elif not value:
        favourite = not sample.favourite
    else:
        return render(request, "samples/_star.html", {"sample": sample, "star_error": True}, status=400)
    sample_services.do_set_sample_favourite(sample, favourite)
    if request.htmx:
        context = {"sample": sample, "current_url": _safe_next(request, ""), "large": request.POST.get("large") == "1"}
        return render(request, "samples/_star.html", context)
    change = "Added to" if favourite else "Removed from"
    messages.success(request, f"{change} your favourites: {sample.display_name}.")
    return redirect(_safe_next(request, sample.get_absolute_url()))


@require_POST
def sample_category(request, sample_id):
    """The user's correction. From a card (hx-target is the card) the card comes back; else the detail panel."""
    sample = _get_sample_for_user(request, sample_id)
    error = None
    try:
        sample_services.do_set_sample_category(sample, request.POST.get("category"))
    except ValueError as exc:
        error = str(exc)
        sample.refresh_from_db()
    status = 400 if error else 200
    if request.htmx and request.htmx.target == f"sample-{sample.pk}":
        card = _browser_queryset(request.user).get(pk=sample.pk)
        card.is_selected = str(card.pk) in request.POST.getlist("ids")
        context = {
            "sample": _decorate(card), "category_groups": CATEGORY_GROUPS, "card_error": error,
            "current_url": _safe_next(request, reverse("samples:samples")),
        }  # fmt: skip
        return render(request, "samples/browser.html#card", context, status=status)
    if request.htmx:
        context = _detail_context(request, sample, category_error=error, category_saved=not error)
        return render(request, "samples/detail.html#category", context, status=status)
    if error:
        return render(request, "samples/detail.html", _detail_context(request, sample, category_error=error),
                      status=400)  # fmt: skip
    messages.success(request, f"Saved: this sample is now {sample.category_label}.")
    return redirect(_safe_next(request, sample.get_absolute_url()))


@require_POST
def sample_tags(request, sample_id):
    sample = _get_sample_for_user(request, sample_id)
    sample_services.do_set_sample_tags(sample, request.POST.get("tags", ""))
    if not request.htmx:
        messages.success(request, "Tags saved.")
        return redirect(sample.get_absolute_url())
    return render(request, "samples/detail.html#tags", _detail_context(request, sample, tags_saved=True))


@require_POST
def sample_collections(request, sample_id):
    """Add the sample to an existing collection, or to a new one named in `new_collection`."""
    sample = _get_sample_for_user(request, sample_id)
    error = None
    new_name = (request.POST.get("new_collection") or "").strip()
    try:
        with transaction.atomic():
            if new_name:
                collection = services.do_create_collection(request.user, new_name)
            elif request.POST.get("collection"):
                collection = _get_collection_for_user(request, request.POST["collection"])
            else:
                raise BadInput("Choose a collection or name a new one.")
            sample_services.do_add_samples_to_collection(collection, [sample])
    except ValueError as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            return render(request, "samples/detail.html",
                          _detail_context(request, sample, collection_error=error), status=400)  # fmt: skip
        messages.success(request, f"Added to “{collection.name}”.")
        return redirect(sample.get_absolute_url())
    context = _detail_context(request, sample, collection_error=error)
    return render(request, "samples/detail.html#collections", context, status=400 if error else 200)


@require_POST
def sample_collection_remove(request, sample_id, collection_id):
    sample = _get_sample_for_user(request, sample_id)
    collection = _get_collection_for_user(request, collection_id)
    sample_services.do_remove_samples_from_collection(collection, [sample])
    if not request.htmx:
        messages.success(request, f"Removed from “{collection.name}”.")
        return redirect(sample.get_absolute_url())
    return render(request, "samples/detail.html#collections", _detail_context(request, sample))
