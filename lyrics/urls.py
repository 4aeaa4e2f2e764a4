from django.urls import path

from lyrics import views

app_name = "lyrics"
urlpatterns = [
    path("lyrics/<uuid:lyrics_id>/", views.lyrics_page, name="lyrics"),
    path("lyrics/<uuid:lyrics_id>/export", views.lyrics_export, name="lyrics_export"),
    path("lyrics/<uuid:lyrics_id>/edit", views.lyrics_edit, name="lyrics_edit"),
    path("lyrics/<uuid:lyrics_id>/revert", views.lyrics_revert, name="lyrics_revert"),
    path("lyrics/<uuid:lyrics_id>/delete", views.lyrics_delete, name="lyrics_delete"),
    path("tracks/<uuid:track_id>/lyrics", views.track_lyrics, name="track_lyrics"),
]
