from django.urls import path

from samples import slicer_views, views

app_name = "samples"
urlpatterns = [
    path("samples/", views.browser, name="samples"),
    path("samples/bulk", views.bulk, name="samples_bulk"),
    path("samples/<uuid:sample_id>/", views.sample_detail, name="sample"),
    path("samples/<uuid:sample_id>/similar", views.sample_similar, name="sample_similar"),
    path("samples/<uuid:sample_id>/favourite", views.sample_favourite, name="sample_favourite"),
    path("samples/<uuid:sample_id>/edit", views.sample_edit, name="sample_edit"),
    path("samples/<uuid:sample_id>/category", views.sample_category, name="sample_category"),
    path("samples/<uuid:sample_id>/tags", views.sample_tags, name="sample_tags"),
    path("samples/<uuid:sample_id>/collections", views.sample_collections, name="sample_collections"),
    path(
        "samples/<uuid:sample_id>/collections/<uuid:collection_id>/remove",
        views.sample_collection_remove,
        name="sample_collection_remove",
    ),
    path("tracks/<uuid:track_id>/slicer", slicer_views.slicer, name="slicer"),
    path("tracks/<uuid:track_id>/onsets", slicer_views.onsets, name="onsets"),
    path("tracks/<uuid:track_id>/slice", slicer_views.slice_submit, name="slice"),
    path("media/samples/<uuid:sample_id>/audio", views.sample_audio, name="sample_audio"),
]
