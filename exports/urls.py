from django.urls import path

from exports import views

app_name = "exports"
urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/new", views.export_create, name="export_create"),
    path("exports/<uuid:export_id>/", views.export_detail, name="export"),
    path("exports/<uuid:export_id>/delete", views.export_delete, name="export_delete"),
    path("media/exports/<uuid:export_id>/file", views.export_file, name="export_file"),
    path("samples/selection.zip", views.samples_zip, name="samples_zip"),
    path("tracks/<uuid:track_id>/export", views.track_export, name="track_export"),
]
