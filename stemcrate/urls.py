from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from library import api as library_api
from library import export_api, sample_api, transcription_api
from processing import api as processing_api

from . import health

admin.site.site_header = "Stemcrate administration"
admin.site.site_title = "Stemcrate admin"

router = SimpleRouter(use_regex_path=False)  # path converters: lookup_value_converter = "uuid" applies
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="token")
router.register("tracks", library_api.TrackViewSet, basename="track")
router.register("stems", sample_api.StemViewSet, basename="stem")
router.register("samples", sample_api.SampleViewSet, basename="sample")
router.register("midi", transcription_api.MidiClipViewSet, basename="midi")
router.register("lyrics", transcription_api.LyricsViewSet, basename="lyrics")
router.register("exports", export_api.ExportViewSet, basename="export")
router.register("tags", library_api.TagViewSet, basename="tag")
router.register("collections", library_api.CollectionViewSet, basename="collection")
router.register("jobs", processing_api.JobViewSet, basename="job")
router.register("pipelines", processing_api.PipelineViewSet, basename="pipeline")

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
    path("jobs/", include("processing.urls")),
    path("", include("library.urls")),
]
