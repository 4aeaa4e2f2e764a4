"""Library pages. Thin: read input, call a service, render a page or, for htmx, the named partial."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.media import serve_file
from tracks import panels, services
from tracks.filters import KEYS, SORT_LABELS, TrackFilters
from tracks.forms import TrackMetaForm
from tracks.models import Collection, Tag, Track

PAGE_SIZE = 50
ACCEPT = ".wav,.wave,.aif,.aiff,.aifc,.flac,.mp3,.ogg,.oga,.opus,.m4a,.mp4,.aac,audio/*"


def _get_track_for_user(request, track_id) -> Track:
    return get_object_or_404(Track.objects.for_user(request.user), pk=track_id)


def _get_collection_for_user(request, collection_id) -> Collection:
    return get_object_or_404(Collection.objects.for_user(request.user), pk=collection_id)


def _upload_context():
    return {
        "accept": ACCEPT,
        "max_upload_mb": settings.UPLOAD_MAX_SIZE // 1_000_000,
        "max_duration_minutes": settings.UPLOAD_MAX_DURATION // 60,
    }


def _index_context(request, **extra):
    filters = TrackFilters.from_params(request.GET)
    queryset = filters.apply(
        Track.objects.for_user(request.user)
        # The peaks draw each row's mini waveform (the "audition" partial); the beats are for the track page only.
        .defer("beats")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page_obj": page,
        "tracks": page.object_list,
        "filters": filters,
        "querystring": params.urlencode(),
        "sort_labels": SORT_LABELS,
        "keys": KEYS,
        # Tags are one table for tracks and samples: the filter offers only those on a track, or it finds nothing.
        "tags": Tag.objects.for_user(request.user)
        .filter(Exists(Track.objects.filter(tags=OuterRef("pk"))))
        .only("id", "name"),
        "collections": Collection.objects.for_user(request.user).only("id", "name"),
        "statuses": Track.Status.choices,
        "library_empty": not filters.active and page.paginator.count == 0,
        **_upload_context(),
        **extra,
    }


@require_GET
def index(request):
    context = _index_context(request)
    if request.htmx and request.htmx.target == "results":
        return render(request, "tracks/index.html#results", context)
    return render(request, "tracks/index.html", context)


@require_GET
def track_row(request, track_id):
    """One library row, polled while the track is being analysed; polling stops once it is done."""
    track = _get_track_for_user(request, track_id)
    response = render(request, "tracks/index.html#row", {"track": track})
    if not track.is_processing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_http_methods(["GET", "POST"])
def upload(request):
    """The upload page. Browsers with JS send each file to the API with a progress bar; this form is the
    fallback, and answers with one result per file."""
    results = []
    if request.method == "POST":
        if getattr(request, "upload_too_large", False):
            results.append({"name": "", "ok": False, "message": services.upload_too_large_reason()})
        for uploaded in request.FILES.getlist("file"):
            try:
                result = services.do_upload_track(request.user, uploaded)
                results.append({"name": uploaded.name, "ok": True, "message": result.note, "track": result.track})
            except services.UploadError as exc:
                results.append({"name": uploaded.name, "ok": False, "message": exc.reason})
        if not results:
            results.append({"name": "", "ok": False, "message": "Choose one or more audio files to upload."})
    status = 200 if all(r["ok"] for r in results) else 400
    return render(request, "tracks/upload.html", {"results": results, **_upload_context()}, status=status)


def _track_context(request, track, **extra):
    return {
        "track": track,
        "meta_form": extra.pop("meta_form", None) or TrackMetaForm(instance=track),
        "tags_text": ", ".join(t.name for t in track.tags.all()),
        "all_tags": Tag.objects.for_user(request.user).only("id", "name"),
        "track_collections": track.collections.all(),
        "collections": Collection.objects.for_user(request.user).exclude(tracks=track),
        **panels.page_context(request, track),
        **extra,
    }


@require_GET
def track_detail(request, track_id):
    track = _get_track_for_user(request, track_id)
    return render(request, "tracks/track.html", _track_context(request, track))


@require_GET
def track_status(request, track_id):
    """The status panel, polled during analysis. When analysis ends the page reloads to show the results."""
    track = _get_track_for_user(request, track_id)
    response = render(request, "tracks/track.html#status", {"track": track})
    if not track.is_processing:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def track_update(request, track_id):
    track = _get_track_for_user(request, track_id)
    form = TrackMetaForm(request.POST, instance=track)
    if form.is_valid():
        services.do_update_track(track, **{k: form.cleaned_data[k] for k in ("title", "artist", "album")})
        if not request.htmx:
            messages.success(request, "Saved.")
            return redirect("tracks:track", track.pk)
        return render(request, "tracks/track.html#meta", _track_context(request, track, saved=True))
    track.refresh_from_db()
    context = _track_context(request, track, meta_form=form)
    template = "tracks/track.html#meta" if request.htmx else "tracks/track.html"
    return render(request, template, context, status=400)


@require_POST
def track_tags(request, track_id):
    track = _get_track_for_user(request, track_id)
    services.do_set_track_tags(track, request.POST.get("tags", ""))
    if not request.htmx:
        return redirect("tracks:track", track.pk)
    return render(request, "tracks/track.html#tags", _track_context(request, track, tags_saved=True))


@require_POST
def track_collections(request, track_id):
    """Add the track to an existing collection, or to a new one named in `new_collection`."""
    track = _get_track_for_user(request, track_id)
    error = None
    new_name = (request.POST.get("new_collection") or "").strip()
    if new_name:
        try:
            collection = services.do_create_collection(request.user, new_name)
        except ValueError as exc:
            collection, error = None, str(exc)
    elif request.POST.get("collection"):
        collection = _get_collection_for_user(request, request.POST["collection"])
    else:
        collection, error = None, "Choose a collection or name a new one."
    if collection:
        services.do_add_to_collection(collection, [track])
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("tracks:track", track.pk)
    return render(
        request, "tracks/track.html#collections", _track_context(request, track, collection_error=error),
        status=400 if error else 200,
    )  # fmt: skip


@require_POST
def track_collection_remove(request, track_id, collection_id):
    track = _get_track_for_user(request, track_id)
    services.do_remove_from_collection(_get_collection_for_user(request, collection_id), [track])
    if not request.htmx:
        return redirect("tracks:track", track.pk)
    return render(request, "tracks/track.html#collections", _track_context(request, track))


@require_http_methods(["GET", "POST"])
def track_delete(request, track_id):
    """GET asks for confirmation (the page that plain links land on); POST deletes."""
    track = _get_track_for_user(request, track_id)
    if request.method == "GET":
        return render(request, "tracks/track_delete.html", {"track": track})
    title = track.display_title
    services.do_delete_track(track)
    messages.success(request, f"Deleted “{title}” and all of its files.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("tracks:index")
        return response
    return redirect("tracks:index")


@require_POST
def track_reanalyse(request, track_id):
    track = services.do_reanalyse_track(_get_track_for_user(request, track_id))
    if request.htmx:
        return render(request, "tracks/track.html#status", {"track": track})
    return redirect("tracks:track", track.pk)


@require_GET
def track_audio(request, track_id):
    """What the player plays: the browser preview when the original needs one, else the original."""
    track = _get_track_for_user(request, track_id)
    name = track.preview.name if track.preview else track.original.name
    return serve_file(request, name)


@require_GET
def track_original(request, track_id):
    track = _get_track_for_user(request, track_id)
    return serve_file(request, track.original.name, download_name=f"{track.display_title}.{track.format}")


def _library_url(request) -> str:
    """Back to the library with the filters the page had (POST "next" is a query string, nothing more)."""
    query = (request.POST.get("next") or "").lstrip("?")
    base = reverse("tracks:index")
    if query and "//" not in query and "\\" not in query:
        return f"{base}?{query}"
    return base
