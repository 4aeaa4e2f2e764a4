from django.urls import path

from . import export_views, sample_views, slicer_views, transcription_views, views

app_name = "library"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    # Sample browser (library/sample_views.py)
    path("samples/", sample_views.browser, name="samples"),
    path("samples/bulk", sample_views.bulk, name="samples_bulk"),
    path("samples/<uuid:sample_id>/", sample_views.sample_detail, name="sample"),
    path("samples/<uuid:sample_id>/similar", sample_views.sample_similar, name="sample_similar"),
    path("samples/<uuid:sample_id>/favourite", sample_views.sample_favourite, name="sample_favourite"),
    path("samples/<uuid:sample_id>/category", sample_views.sample_category, name="sample_category"),
    path("samples/<uuid:sample_id>/tags", sample_views.sample_tags, name="sample_tags"),
    path("samples/<uuid:sample_id>/collections", sample_views.sample_collections, name="sample_collections"),
    path(
        "samples/<uuid:sample_id>/collections/<uuid:collection_id>/remove",
        sample_views.sample_collection_remove,
        name="sample_collection_remove",
    ),
    # Slicer (library/slicer_views.py): ?stem=<id> picks a stem, none slices the full mix
    path("tracks/<uuid:track_id>/slicer", slicer_views.slicer, name="slicer"),
    path("tracks/<uuid:track_id>/onsets", slicer_views.onsets, name="onsets"),
    path("tracks/<uuid:track_id>/slice", slicer_views.slice_submit, name="slice"),
    path("media/samples/<uuid:sample_id>/audio", sample_views.sample_audio, name="sample_audio"),
    # MIDI and lyrics (library/transcription_views.py)
    path("midi/<uuid:clip_id>/", transcription_views.midi_page, name="midi"),
    path("media/midi/<uuid:clip_id>/file", transcription_views.midi_file, name="midi_file"),
    path("lyrics/<uuid:lyrics_id>/", transcription_views.lyrics_page, name="lyrics"),
    path("lyrics/<uuid:lyrics_id>/export", transcription_views.lyrics_export, name="lyrics_export"),
    path("midi/<uuid:clip_id>/delete", transcription_views.midi_delete, name="midi_delete"),
    path("lyrics/<uuid:lyrics_id>/edit", transcription_views.lyrics_edit, name="lyrics_edit"),
    path("lyrics/<uuid:lyrics_id>/revert", transcription_views.lyrics_revert, name="lyrics_revert"),
    path("lyrics/<uuid:lyrics_id>/delete", transcription_views.lyrics_delete, name="lyrics_delete"),
    # Exports (library/export_views.py)
    path("exports/", export_views.exports, name="exports"),
    path("exports/new", export_views.export_create, name="export_create"),
    path("exports/<uuid:export_id>/", export_views.export_detail, name="export"),
    path("exports/<uuid:export_id>/delete", export_views.export_delete, name="export_delete"),
    path("media/exports/<uuid:export_id>/file", export_views.export_file, name="export_file"),
    path("tracks/<uuid:track_id>/export", export_views.track_export, name="track_export"),
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
    path("tracks/<uuid:track_id>/stems", views.track_stems, name="track_stems"),
    path("tracks/<uuid:track_id>/separate", views.track_separate, name="track_separate"),
    # Process everything, MIDI and lyrics from the track page; the library's action bar (library/views.py)
    path("tracks/<uuid:track_id>/process", views.track_process, name="track_process"),
    path("tracks/<uuid:track_id>/pipeline", views.track_pipeline, name="track_pipeline"),
    path(
        "tracks/<uuid:track_id>/pipelines/<uuid:pipeline_id>/cancel",
        views.track_pipeline_cancel,
        name="track_pipeline_cancel",
    ),
    path("tracks/<uuid:track_id>/outputs", views.track_outputs, name="track_outputs"),
    path("tracks/<uuid:track_id>/midi", views.track_midi, name="track_midi"),
    path("tracks/<uuid:track_id>/lyrics", views.track_lyrics, name="track_lyrics"),
    path("tracks/bulk", views.tracks_bulk, name="tracks_bulk"),
    path("stems/<uuid:set_id>/delete", views.stem_set_delete, name="stem_set_delete"),
    path("media/stems/<uuid:stem_id>/audio", views.stem_audio, name="stem_audio"),
    path("media/stems/<uuid:stem_id>/file", views.stem_file, name="stem_file"),
    path("media/stem-sets/<uuid:set_id>/mix", views.stem_set_mix, name="stem_set_mix"),
    path("media/tracks/<uuid:track_id>/audio", views.track_audio, name="track_audio"),
    path("media/tracks/<uuid:track_id>/original", views.track_original, name="track_original"),
]
