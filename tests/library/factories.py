"""Rows for tests that do not need real decoding: a Track whose stored file is given bytes."""

import hashlib
import uuid

from django.core.files.base import ContentFile

from library.models import Track


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
