"""Writes for what is transcribed from audio: MIDI clips (Basic Pitch) and lyrics (Whisper).

A new result for the same source (the track's mix, or one stem) replaces the earlier one atomically: the file
is written first, the rows swap in one transaction, and the old file goes after commit.
"""

import logging

from django.db import transaction

from audio import lyrics as engine
from core.model_choices import clean_lyric_options
from core.quotas import check_rate
from jobs.services import create_job
from lyrics.models import Lyrics
from stems.models import Stem
from stems.services import _check_still_there
from tracks.models import Track

logger = logging.getLogger(__name__)


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

    edited = engine.edit_text(engine.Lyrics.from_dict(lyrics.original or lyrics.data), text)
    lyrics.data = edited.to_dict()
    lyrics.text = engine.to_text(edited)
    lyrics.edited = lyrics.data != lyrics.original
    lyrics.save(update_fields=["data", "text", "edited", "updated_at"])
    return lyrics


@transaction.atomic
def do_revert_lyrics(lyrics: Lyrics) -> Lyrics:

    lyrics.data = lyrics.original
    lyrics.text = engine.to_text(engine.Lyrics.from_dict(lyrics.original))
    lyrics.edited = False
    lyrics.save(update_fields=["data", "text", "edited", "updated_at"])
    return lyrics


def do_delete_lyrics(lyrics: Lyrics) -> None:
    lyrics.delete()


def default_lyrics_stem(track):
    """The vocals of the newest separation that has them, or None (then the track itself is transcribed)."""

    return Stem.objects.filter(track=track, name="vocals").order_by("-stem_set__created_at").first()


def do_request_lyrics(track, *, stem=None, options: dict | None = None, use_default_stem: bool = True):
    """Queue a Whisper transcription (gpu queue) of a stem, or by default of the vocals stem when there is one."""

    if stem is not None and stem.track_id != track.pk:
        raise ValueError("That stem belongs to another track.")
    if stem is None and use_default_stem:
        stem = default_lyrics_stem(track)
    if stem is None and track.status != track.Status.READY:
        raise ValueError("This track has not been analysed yet; transcribe it once it is ready.")
    params = clean_lyric_options(options or {})  # a model that is not installed: refused now, with the command
    check_rate(track.owner, "job")
    return create_job(track.owner, "lyrics", subject=stem or track, params=params)
