"""Fixtures for the audio engine tests: synthetic files made once per session (they need no database)."""

import pytest

from tests import audio_factory as af

CLIP_SECONDS = 4.0


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("engines-media")


@pytest.fixture(scope="session")
def stereo_clip():
    """Four seconds of stereo chords at 44.1 kHz."""
    return af.chord_progression("A", "minor", seconds=CLIP_SECONDS, channels=2)


@pytest.fixture(scope="session")
def clip_file(media_dir, stereo_clip):
    """make(fmt, bit_depth=16, name=None, tags=None) -> a path to stereo_clip written as fmt (cached per session)."""
    made = {}

    def make(fmt, bit_depth=16, name=None, tags=None):
        key = (fmt, bit_depth, name, tuple(sorted((tags or {}).items())))
        if key not in made:
            filename = name or f"clip-{fmt}-{bit_depth}-{len(made)}.{fmt}"
            made[key] = af.write(media_dir / filename, stereo_clip, af.SR, fmt, bit_depth=bit_depth, tags=tags)
        return made[key]

    return make
