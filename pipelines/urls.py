from django.urls import path

from pipelines import views

app_name = "pipelines"
urlpatterns = [
    path("tracks/<uuid:track_id>/process", views.track_process, name="track_process"),
    path("tracks/<uuid:track_id>/pipeline", views.track_pipeline, name="track_pipeline"),
    path(
        "tracks/<uuid:track_id>/pipelines/<uuid:pipeline_id>/cancel",
        views.track_pipeline_cancel,
        name="track_pipeline_cancel",
    ),
    path("tracks/<uuid:track_id>/outputs", views.track_outputs, name="track_outputs"),
    path("tracks/bulk", views.tracks_bulk, name="tracks_bulk"),
]
