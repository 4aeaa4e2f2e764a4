from django.urls import path

from stems import views

app_name = "stems"
urlpatterns = [
    path("tracks/<uuid:track_id>/stems", views.track_stems, name="track_stems"),
    path("tracks/<uuid:track_id>/separate", views.track_separate, name="track_separate"),
    path("stems/<uuid:set_id>/delete", views.stem_set_delete, name="stem_set_delete"),
    path("media/stems/<uuid:stem_id>/audio", views.stem_audio, name="stem_audio"),
    path("media/stems/<uuid:stem_id>/file", views.stem_file, name="stem_file"),
    path("media/stem-sets/<uuid:set_id>/mix", views.stem_set_mix, name="stem_set_mix"),
]
