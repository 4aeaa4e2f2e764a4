"""Writes for what is transcribed from audio: MIDI clips (Basic Pitch) and lyrics (Whisper).

A new result for the same source (the track's mix, or one stem) replaces the earlier one atomically: the file
is written first, the rows swap in one transaction, and the old file goes after commit.
"""

import logging

from django.core.files import File
from django.db import transaction

from .models import Lyrics, MidiClip, Stem, Track
from .services import _delete_files_logged

logger = logging.getLogger(__name__)


def _check_still_there(track: Track, stem: Stem | None) -> None:
    if not Track.objects.filter(pk=track.pk).exists():
        raise Track.DoesNotExist("the track was deleted while it was being transcribed")
    if stem is not None and not Stem.objects.filter(pk=stem.pk).exists():
        raise Stem.DoesNotExist("the stem was deleted while it was being transcribed")


def do_store_midi(
    track: Track, *, stem: Stem | None, source: str, job, preset: str, params: dict, notes: list, midi_path: str,
    bpm: float | None, quantised: bool,
) -> MidiClip:  # fmt: skip
    """Store a MIDI clip (notes as [start, end, pitch, velocity] rows, and the .mid file), replacing the source's
    earlier clip."""
    clip = MidiClip(
        owner=track.owner, track=track, stem=stem, source=source, preset=preset, params=params, notes=notes,
        note_count=len(notes), bpm=bpm, quantised=quantised, job=job,
    )  # fmt: skip
    with open(midi_path, "rb") as fh:
        clip.file.save("clip.mid", File(fh), save=False)
    try:
        with transaction.atomic():
            _check_still_there(track, stem)
            old = list(MidiClip.objects.filter(track=track, stem=stem, source=source))
            MidiClip.objects.filter(pk__in=[c.pk for c in old]).delete()
            clip.save()
            names = [c.file.name for c in old if c.file]
            transaction.on_commit(lambda: _delete_files_logged(names))
    except BaseException:
        _delete_files_logged([clip.file.name])
        raise
    return clip


def do_delete_midi(clip: MidiClip) -> None:
    name = clip.file.name
    with transaction.atomic():
        clip.delete()
        transaction.on_commit(lambda: _delete_files_logged([name] if name else []))


@transaction.atomic
def do_store_lyrics(
    track: Track, *, stem: Stem | None, source: str, job, model_name: str, language: str, params: dict,
    data: dict, text: str, note: str = "",
) -> Lyrics:  # fmt: skip
    """Store a transcription, replacing the source's earlier one (a user's edits to that one go with it: the
    page asks before re-running over edited lyrics)."""
    _check_still_there(track, stem)
    Lyrics.objects.filter(track=track, stem=stem, source=source).delete()
    return Lyrics.objects.create(
        owner=track.owner, track=track, stem=stem, source=source, model_name=model_name, language=language or "",
        params=params, data=data, original=data, text=text, note=note[:300], job=job,
    )  # fmt: skip


@transaction.atomic
def do_edit_lyrics(lyrics: Lyrics, text: str) -> Lyrics:
    """Apply the user's edited text; word timings are kept where the words still match (see engines.lyrics)."""
    from processing.engines import lyrics as engine

    edited = engine.edit_text(engine.Lyrics.from_dict(lyrics.original or lyrics.data), text)
    lyrics.data = edited.to_dict()
    lyrics.text = engine.to_text(edited)
    lyrics.edited = lyrics.data != lyrics.original
    lyrics.save(update_fields=["data", "text", "edited", "updated_at"])
    return lyrics


@transaction.atomic
def do_revert_lyrics(lyrics: Lyrics) -> Lyrics:
    from processing.engines import lyrics as engine

    lyrics.data = lyrics.original
    lyrics.text = engine.to_text(engine.Lyrics.from_dict(lyrics.original))
    lyrics.edited = False
    lyrics.save(update_fields=["data", "text", "edited", "updated_at"])
    return lyrics


def do_delete_lyrics(lyrics: Lyrics) -> None:
    lyrics.delete()
