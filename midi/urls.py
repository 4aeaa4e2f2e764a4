from django.urls import path

from midi import views

app_name = "midi"
urlpatterns = [
    path("midi/<uuid:clip_id>/", views.midi_page, name="midi"),
    path("media/midi/<uuid:clip_id>/file", views.midi_file, name="midi_file"),
    path("midi/<uuid:clip_id>/delete", views.midi_delete, name="midi_delete"),
    path("tracks/<uuid:track_id>/midi", views.track_midi, name="track_midi"),
]
