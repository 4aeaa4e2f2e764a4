"""Export pages and the ZIP download. Owner only.

An export is asked for on a track's page (`track_export`), from the library's selection (views.tracks_bulk) or on
the exports page (`export_create`: the whole library, the favourite samples or a collection). Each answer is a
redirect to the export's page, which follows its job (partial "status", polled every 2 s until the ZIP is ready
or the job has ended, then 286) and offers the download, a retry after a failure, and delete.
"""

import tempfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from audio import package
from audio.export_audio import FORMATS, RATES
from core.ids import parse_id_list, parse_uuid
from core.media import serve_file
from exports import services as export_services
from exports.build import DEFAULT_OPTIONS, PARTS, write_export
from exports.models import Export
from samples.models import Sample
from tracks.models import Collection, Track
from tracks.panels import track_panel
from tracks.views import _get_track_for_user, _track_context

PART_LABELS = {
    "original": ("Original", "the track itself, converted"),
    "stems": ("Stems", "the newest separation"),
    "samples": ("Samples", "by category, pitched ones with their note"),
    "midi": ("MIDI", "a .mid per clip at the track's tempo"),
    "lyrics": ("Lyrics", "LRC, SRT, VTT, text and JSON"),
    "project": ("REAPER project", "everything lined up at 0:00"),
}
RATE_LABELS = {44100: "44.1 kHz", 48000: "48 kHz"}
SCOPE_CHOICES = (
    ("library", "Whole library", "every track, with everything made from it"),
    ("favourites", "Favourite samples", "the samples you starred, by track and category"),
    ("collection", "A collection", "its tracks with everything made from them, and the samples in it"),
)


def _get_export_for_user(request, export_id) -> Export:
    return get_object_or_404(Export.objects.for_user(request.user).select_related("job", "track"), pk=export_id)


def export_form_context(post=None) -> dict:
    """The choices of every export form (formats, sample rates, the parts a ZIP can hold) and the values to show:
    the defaults, or what was sent when a form comes back with an error."""
    values = dict(DEFAULT_OPTIONS)
    if post is not None:
        values["format"] = post.get("format") or values["format"]
        rate = post.get("sample_rate") or ""
        values["sample_rate"] = int(rate) if rate.isdigit() else values["sample_rate"]
        if post.get("include_given"):
            values["include"] = post.getlist("include")
    return {
        "export_formats": [(key, spec.label) for key, spec in FORMATS.items()],
        "export_rates": [(rate, RATE_LABELS.get(rate, f"{rate} Hz")) for rate in RATES],
        "export_parts": [(part, *PART_LABELS[part]) for part in PARTS],
        "export_values": values,
    }


def export_options_from(post) -> dict:
    """Export options from a form. Forms with the "include" boxes send include_given, so that none ticked is an
    error rather than "everything"."""
    options = {"format": post.get("format") or None, "sample_rate": post.get("sample_rate") or None}
    if post.get("include_given"):
        include = post.getlist("include")
        if not include:
            raise ValueError("Choose at least one thing to put in the ZIP.")
        options["include"] = include
    return options


def _state(export) -> str:
    """ready, queued, running, failed or cancelled; an export whose job is gone counts as failed."""
    if export.is_ready:
        return "ready"
    job = export.job
    if job is None:
        return "failed"
    if job.status == job.Status.SUCCEEDED:  # the job ended but the file is not there: treat it as a failure
        return "failed"
    return job.status


def _decorate(export) -> Export:
    export.state = _state(export)
    export.is_active = export.state in ("queued", "running")
    spec = FORMATS.get(export.options.get("format"))
    export.format_label = spec.label if spec else export.options.get("format", "")
    export.extension = spec.extension if spec else ""
    export.rate_label = RATE_LABELS.get(export.options.get("sample_rate"), "")
    include = export.options.get("include") or list(PARTS)
    export.parts = [(part, PART_LABELS[part][0]) for part in PARTS if part in include]
    export.include = set(include)
    # What the ZIP holds: a favourites export has the samples only (in their tracks' folders).
    export.tree = export.include & {"samples"} if export.scope == Export.Scope.FAVOURITES else export.include
    return export


def _layout(export) -> dict:
    """Example names for "What's inside": the track's own for a track export, a made-up song's otherwise."""

    track = export.track if export.scope == Export.Scope.TRACK else None
    if track is not None:
        folder = package.track_folder(track.artist, track.display_title)
        title, bpm, key = track.display_title, track.bpm, track.key_label
    else:
        folder, title, bpm, key = "Artist - Title", "Title", 124.0, "A minor"
    return {
        "folder": folder,
        "original": package.stem_name(title, bpm, key) + export.extension,
        "stem": package.stem_name("Bass", bpm, key) + export.extension,
        "midi": package.stem_name("Bass", bpm, key) + ".mid",
        "project": package.with_extension(folder, "rpp"),
    }


def _error_text(export) -> str:
    job = export.job
    if job is None:
        return "The job that was building this export is gone. Delete this export and ask for a new one."
    if job.status == job.Status.CANCELLED:
        return "The export was cancelled before it finished."
    return job.error or "The export stopped without saying why. Retry it; if it fails again, check the Jobs page."


@require_GET
def export_file(request, export_id):
    export = _get_export_for_user(request, export_id)
    return serve_file(request, export.file.name, download_name=f"{export.name or 'Stemcrate export'}.zip")


# A selection's ZIP is built inside the request (samples are short: about 0.1 s each to convert), so it is capped;
# more than this goes through an export job on the Exports page.
SELECTION_ZIP_MAX = 200


def _selection_ids(request) -> list:
    """Sample ids from `?ids=a,b` or repeated `ids`, in order and without duplicates; ValueError says what is wrong."""
    return parse_id_list(
        request.GET.getlist("ids"), limit=SELECTION_ZIP_MAX,
        too_many=f"A selection ZIP holds at most {SELECTION_ZIP_MAX} samples. For more, export your favourites or "
        "a collection from the Exports page.",
    )  # fmt: skip


@require_GET
def samples_zip(request):
    """The selected samples as one ZIP (`?ids=…&format=wav24`): the one-click download of the sample browser's
    selection, and what a drag of several selected samples delivers (a browser drags one file at a time).
    Laid out and named as an export: Artist - Title/Samples/Kick/Kick 41.wav, with manifest.json and .csv.
    Bad input is a 400 with the reason; one sample that is missing or someone else's makes it a 404."""
    try:
        ids = _selection_ids(request)
        fmt = request.GET.get("format") or DEFAULT_OPTIONS["format"]
        if fmt not in FORMATS:
            raise ValueError(f"Unknown format “{fmt[:20]}”. Choose one of: {', '.join(FORMATS)}.")
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    samples = Sample.objects.for_user(request.user).filter(pk__in=ids).defer("embedding")
    if samples.count() != len(ids):
        raise Http404("Some of the selected samples do not exist any more.")
    handle = tempfile.TemporaryFile(prefix="stemcrate-selection-", suffix=".zip")  # noqa: SIM115 (FileResponse closes it)
    try:
        write_export(handle, request.user, samples=samples, options={"format": fmt, "include": ["samples"]})
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    count = len(ids)
    name = f"Stemcrate samples ({count} sample{'' if count == 1 else 's'}).zip"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")


@require_GET
def export_detail(request, export_id):
    export = _decorate(_get_export_for_user(request, export_id))
    context = {"export": export, "export_error": _error_text(export) if export.state in ("failed", "cancelled") else ""}
    if request.htmx:
        response = render(request, "exports/export.html#status", context)
        if request.GET.get("poll") and not export.is_active:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "exports/export.html", {**context, "layout": _layout(export)})


@require_POST
def export_delete(request, export_id):
    export = _get_export_for_user(request, export_id)
    name = export.name
    export_services.do_delete_export(export)
    messages.success(request, f"Deleted the export “{name}”.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("exports:exports")
        return response
    return redirect("exports:exports")


def _exports_context(request, **extra) -> dict:
    queryset = Export.objects.for_user(request.user).select_related("job").defer("job__traceback", "job__params")
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    exports = [_decorate(export) for export in page.object_list]
    return {
        "exports": exports,
        "page_obj": page,
        "any_active": any(export.is_active for export in exports),
        "collections": Collection.objects.for_user(request.user).only("id", "name"),
        "favourite_count": Sample.objects.for_user(request.user).filter(favourite=True).count(),
        "track_count": Track.objects.for_user(request.user).count(),
        "scope_choices": SCOPE_CHOICES,
        **export_form_context(extra.pop("create_form", None)),
        **extra,
    }


@require_GET
def exports(request):
    context = _exports_context(request)
    if request.htmx:
        response = render(request, "exports/exports.html#list", context)
        if request.GET.get("poll") and not context["any_active"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "exports/exports.html", context)


@require_http_methods(["POST"])
def export_create(request):
    """A ZIP of the whole library, the favourite samples or a collection (POST "scope")."""
    scope = request.POST.get("scope") or ""
    collection = None
    try:
        if scope not in ("library", "favourites", "collection"):
            raise ValueError("Choose what to export: the whole library, your favourite samples or a collection.")
        if scope == "collection":
            collection_id = parse_uuid(request.POST.get("collection"))
            collection = Collection.objects.for_user(request.user).filter(pk=collection_id).first()
            if collection is None:
                raise ValueError("Choose one of your collections to export.")
        export = export_services.do_request_export(
            request.user, scope, collection=collection, options=export_options_from(request.POST)
        )
    except ValueError as exc:
        context = _exports_context(
            request, create_error=str(exc), create_form=request.POST, create_scope=scope,
            create_collection=request.POST.get("collection", ""),
        )  # fmt: skip
        return render(request, "exports/exports.html", context, status=400)
    return redirect(export.get_absolute_url())


@require_POST
def track_export(request, track_id):
    """The track page's Export form: a ZIP of the track and everything made from it."""

    track = _get_track_for_user(request, track_id)
    try:
        export = export_services.do_request_export(
            request.user, "track", track=track, options=export_options_from(request.POST)
        )
    except ValueError as exc:
        context = _track_context(request, track, export_error=str(exc), **export_form_context(request.POST))
        return render(request, "tracks/track.html", context, status=400)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = export.get_absolute_url()
        return response
    return redirect(export.get_absolute_url())


@track_panel("export")
def _export_panel(request, track) -> dict:
    return export_form_context()
