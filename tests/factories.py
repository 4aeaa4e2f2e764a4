"""Rows for tests that do not need real decoding: a Track whose stored file is given bytes."""

import hashlib
import uuid

from django.core.files.base import ContentFile

from lyrics import services as lyrics_services
from tracks.models import Track


def make_track(owner, *, data: bytes = b"RIFF....WAVEfmt fake", fmt="wav", **fields) -> Track:
    defaults = {
        "title": "Song",
        "format": fmt,
        "codec": "pcm_s16le",
        "duration": 10.0,
        "sample_rate": 44100,
        "channels": 2,
        "bit_depth": 16,
        "size": len(data),
        "sha256": hashlib.sha256(data + uuid.uuid4().bytes).hexdigest(),
        "status": Track.Status.READY,
    }
    defaults.update(fields)
    track = Track(owner=owner, **defaults)
    track.original.save("original", ContentFile(data), save=False)
    track.save()
    return track


def make_lyrics(owner, *, title="Night Drive", artist="Mara Lune"):
    """A track of 30 s with two lines of timed lyrics ("hello dark night" at 1-2.5 s, "drive on" at 4-5 s), stored
    through the service as a transcription job would."""
    from audio import lyrics as engine

    def words(*items):
        return tuple(engine.Word(s, e, t, 0.9) for s, e, t in items)

    track = make_track(owner, title=title, artist=artist, duration=30.0)
    data = engine.Lyrics(
        "en",
        (
            engine.Line(
                1.0, 2.5, "hello dark night", words((1.0, 1.4, "hello"), (1.5, 1.9, "dark"), (2.0, 2.5, "night"))
            ),
            engine.Line(4.0, 5.0, "drive on", words((4.0, 4.4, "drive"), (4.5, 5.0, "on"))),
        ),
        "tiny",
        duration=30.0,
    )
    return lyrics_services.do_store_lyrics(
        track, stem=None, source="mix", job=None, model_name="tiny", language="en", params={},
        data=data.to_dict(), text=engine.to_text(data),
    )  # fmt: skip
