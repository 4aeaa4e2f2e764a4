from django.urls import path

from tracks import views

app_name = "tracks"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("tracks/<uuid:track_id>/", views.track_detail, name="track"),
    path("tracks/<uuid:track_id>/row", views.track_row, name="track_row"),
    path("tracks/<uuid:track_id>/status", views.track_status, name="track_status"),
    path("tracks/<uuid:track_id>/edit", views.track_update, name="track_update"),
    path("tracks/<uuid:track_id>/tags", views.track_tags, name="track_tags"),
    path("tracks/<uuid:track_id>/collections", views.track_collections, name="track_collections"),
    path(
        "tracks/<uuid:track_id>/collections/<uuid:collection_id>/remove",
        views.track_collection_remove,
        name="track_collection_remove",
    ),
    path("tracks/<uuid:track_id>/delete", views.track_delete, name="track_delete"),
    path("tracks/<uuid:track_id>/analyse", views.track_reanalyse, name="track_reanalyse"),
    path("media/tracks/<uuid:track_id>/audio", views.track_audio, name="track_audio"),
    path("media/tracks/<uuid:track_id>/original", views.track_original, name="track_original"),
]
