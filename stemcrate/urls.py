from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from exports import api as export_api
from jobs import api as jobs_api
from lyrics import api as lyrics_api
from midi import api as midi_api
from pipelines import api as pipelines_api
from samples import api as samples_api
from stemcrate import health
from stems import api as stems_api
from tracks import api as tracks_api

admin.site.site_header = "Stemcrate administration"
admin.site.site_title = "Stemcrate admin"

router = SimpleRouter(use_regex_path=False)  # path converters: lookup_value_converter = "uuid" applies
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="token")
router.register("tracks", tracks_api.TrackViewSet, basename="track")
# What the apps above tracks and stems can do to one: POST /api/tracks/{id}/separate/, .../slice/, and so on.
router.register("tracks", stems_api.TrackStemsViewSet, basename="track-stems")
router.register("tracks", samples_api.TrackSliceViewSet, basename="track-slice")
router.register("tracks", midi_api.TrackMidiViewSet, basename="track-midi")
router.register("tracks", lyrics_api.TrackLyricsViewSet, basename="track-lyrics")
router.register("tracks", pipelines_api.TrackProcessViewSet, basename="track-process")
router.register("stems", stems_api.StemViewSet, basename="stem")
router.register("stems", samples_api.StemSliceViewSet, basename="stem-slice")
router.register("stems", midi_api.StemMidiViewSet, basename="stem-midi")
router.register("stems", lyrics_api.StemLyricsViewSet, basename="stem-lyrics")
router.register("samples", samples_api.SampleViewSet, basename="sample")
router.register("midi", midi_api.MidiClipViewSet, basename="midi")
router.register("lyrics", lyrics_api.LyricsViewSet, basename="lyrics")
router.register("exports", export_api.ExportViewSet, basename="export")
router.register("tags", tracks_api.TagViewSet, basename="tag")
router.register("collections", tracks_api.CollectionViewSet, basename="collection")
router.register("jobs", jobs_api.JobViewSet, basename="job")
router.register("pipelines", pipelines_api.PipelineViewSet, basename="pipeline")

api_patterns = [
    path("auth/token/", accounts_api.obtain_token, name="token"),
    path("me/", accounts_api.me, name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", metadata_class=None), name="docs"),
    *router.urls,
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("api/", include((api_patterns, "api"))),
    path("jobs/", include("jobs.urls")),
    path("", include("tracks.urls")),
    path("", include("stems.urls")),
    path("", include("samples.urls")),
    path("", include("midi.urls")),
    path("", include("lyrics.urls")),
    path("", include("exports.urls")),
    path("", include("pipelines.urls")),
]
