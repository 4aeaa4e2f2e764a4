"""audio.midi: real Basic Pitch inference (its ONNX model through onnxruntime) on synthesised tones,
the per-source decoding, MIDI files at the track's tempo, quantisation and option checking.

Accuracy against Basic Pitch's own decoding on FluidR3_GM renders is measured by benchmarks/midi.py, not here:
these tests check behaviour with generous margins (onsets within 50 ms, the mir_eval tolerance).
"""

import io
import itertools
import threading

import mido
import numpy as np
import pretty_midi
import pytest

from audio import midi
from audio.midi import Note, clean_options, monophonic, quantise, to_midi_bytes, transcribe
from tests import audio_factory as af

SR = 44100  # not the model's rate: every test also goes through the resampling


def _hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def harmonic_line(notes, seconds: float, sr: int = SR, *, vibrato_cents: float = 0.0, decay: float = 1.5):
    """(start s, end s, MIDI note) as plucked harmonic tones (5 harmonics, exponential decay, 10 ms release)."""
    out = np.zeros(round(seconds * sr))
    for start, end, note in notes:
        a, b = round(start * sr), round(end * sr)
        t = np.arange(b - a) / sr
        cents = vibrato_cents * np.sin(2 * np.pi * 5.5 * t) * np.clip((t - 0.2) / 0.2, 0, 1)
        phase = 2 * np.pi * np.cumsum(_hz(note) * 2 ** (cents / 1200)) / sr
        tone = sum(np.sin(h * phase) / h for h in range(1, 6))
        envelope = np.exp(-t / decay) * np.minimum(1, t / 0.005)
        release = min(len(t), round(0.01 * sr))
        envelope[-release:] *= np.linspace(1, 0, release)
        out[a:b] += tone * envelope
    return (0.4 * out / np.abs(out).max()).astype(np.float32)


BASS = [(0.50, 1.10, 45), (1.50, 2.10, 48), (2.50, 3.10, 52), (3.50, 3.80, 45), (3.80, 4.40, 40)]  # A2 C3 E3 A2 E2
CHORD = [(0.5, 2.5, 57), (0.5, 2.5, 60), (0.5, 2.5, 64)]  # A minor: A3 C4 E4


@pytest.fixture(scope="module")
def bass_notes():
    return transcribe(harmonic_line(BASS, 5.0)[np.newaxis], SR, source="bass").notes


def test_it_transcribes_a_bass_line_with_the_right_pitches_and_onsets(bass_notes):
    assert [n.pitch for n in bass_notes] == [45, 48, 52, 45, 40]
    for note, (start, end, _) in zip(bass_notes, BASS, strict=True):
        assert abs(note.start - start) <= 0.05
        assert note.end > note.start
        assert abs(note.end - end) <= max(0.05, 0.2 * (end - start)) + 0.05  # the offset too, within a margin
        assert 1 <= note.velocity <= 127


def test_it_keeps_bass_monophonic(bass_notes):
    for a, b in itertools.pairwise(bass_notes):
        assert a.end <= b.start + 1e-9


def test_it_transcribes_a_chord_polyphonically():
    audio = harmonic_line(CHORD, 3.5, decay=3.0)
    notes = transcribe(np.stack([audio, audio]), SR, source="piano").notes  # stereo in
    assert sorted(n.pitch for n in notes) == [57, 60, 64]
    assert all(abs(n.start - 0.5) <= 0.05 for n in notes)
    assert all(abs(n.end - 2.5) <= 0.45 for n in notes)


def test_it_reads_a_file_and_reports_progress(tmp_path):
    path = af.write(tmp_path / "bass.flac", harmonic_line(BASS, 5.0)[np.newaxis], SR, "flac")
    seen = []
    result = transcribe(path, source="bass", progress=seen.append, threads=1)
    assert [n.pitch for n in result.notes] == [45, 48, 52, 45, 40]
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert result.duration == pytest.approx(5.0, abs=0.01)
    payload = result.to_json()
    assert payload["source"] == "bass"
    assert payload["options"]["max_freq"] == 400.0
    assert [d["pitch"] for d in payload["notes"]] == [45, 48, 52, 45, 40]
    assert Note.from_dict(payload["notes"][0]) == Note(**{**payload["notes"][0], "bends": None})


def test_it_keeps_a_sung_note_with_vibrato_whole_and_bends_it():
    audio = harmonic_line([(0.3, 2.3, 64)], 2.8, vibrato_cents=40, decay=20.0)
    notes = transcribe(audio, SR, source="vocals").notes
    assert [n.pitch for n in notes] == [64]
    assert notes[0].bends  # the vibrato shows as bends (the contour has 1/3 semitone bins)
    assert max(abs(s) for _, s in notes[0].bends) <= 1.0
    notes_off = transcribe(audio, SR, source="vocals", options={"pitch_bends": False}).notes
    assert notes_off[0].bends is None


def test_it_finds_nothing_in_silence_and_in_empty_audio():
    assert transcribe(np.zeros((2, SR), np.float32), SR, source="mix").notes == []
    assert transcribe(np.zeros((1, 0), np.float32), SR, source="mix").notes == []


def test_it_loads_the_model_once_per_process_and_thread_count():
    sessions = []
    threads = [threading.Thread(target=lambda: sessions.append(midi.session(2))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in sessions}) == 1
    assert midi.session(2) is sessions[0]


# ---------------------------------------------------------------------------------------------- clean-up


def test_monophonic_cuts_overlaps_and_keeps_the_louder_of_two_starting_together():
    notes = [
        Note(0.0, 1.0, 40, 90),
        Note(0.5, 1.5, 43, 80),  # starts inside the first: the first is cut at 0.5
        Note(1.51, 2.0, 45, 50),
        Note(1.52, 2.2, 47, 100),  # starts with the one before and is louder: it wins
    ]
    out = monophonic(notes)
    assert [(n.start, n.end, n.pitch) for n in out] == [(0.0, 0.5, 40), (0.5, 1.5, 43), (1.52, 2.2, 47)]
    for a, b in itertools.pairwise(out):
        assert a.end <= b.start


# --------------------------------------------------------------------------------------------- MIDI files


def _read(data: bytes) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def test_the_midi_file_has_the_tracks_tempo_and_exact_note_times():
    notes = [Note(0.5123, 0.9871, 45, 100), Note(1.2345, 2.5, 52, 64)]
    data = to_midi_bytes(notes, bpm=97.3, program=33, name="Bass")
    pm = _read(data)
    _, tempi = pm.get_tempo_changes()
    assert tempi == pytest.approx([97.3], abs=1e-3)
    inst = pm.instruments[0]
    assert inst.program == 33
    assert inst.name == "Bass"
    got = [(n.start, n.end, n.pitch, n.velocity) for n in inst.notes]
    for (start, end, pitch, velocity), note in zip(got, notes, strict=True):
        assert start == pytest.approx(note.start, abs=1e-3)
        assert end == pytest.approx(note.end, abs=1e-3)
        assert (pitch, velocity) == (note.pitch, note.velocity)
    # and the ticks really are at that tempo: a note 1 beat long is TICKS_PER_BEAT ticks
    beat = 60 / 97.3
    mid = mido.MidiFile(file=io.BytesIO(to_midi_bytes([Note(beat, 2 * beat, 60, 90)], bpm=97.3, program=0, name="")))
    ticks, on = 0, None
    for msg in mid.tracks[1]:
        ticks += msg.time
        if msg.type == "note_on":
            on = ticks
    assert (on, ticks - on) == (midi.TICKS_PER_BEAT, midi.TICKS_PER_BEAT)


def test_the_midi_file_falls_back_to_120_bpm_only_without_a_tempo():
    pm = _read(to_midi_bytes([Note(0.25, 0.5, 60, 90)], bpm=None, program=0, name="x"))
    assert pm.get_tempo_changes()[1] == pytest.approx([120.0])
    assert pm.instruments[0].notes[0].start == pytest.approx(0.25, abs=1e-3)


def test_the_midi_file_carries_bends_and_drops_them_on_overlapping_notes():
    bent = Note(0.0, 1.0, 60, 90, ((0.1, 0.5), (0.3, -1.0)))
    pm = _read(to_midi_bytes([bent], bpm=120, program=52, name="Vox"))
    values = [b.pitch for b in pm.instruments[0].pitch_bends]
    assert values[:2] == [2048, -4096]  # +-2 semitones = +-8192
    assert values[-1] == 0  # reset at the end of the note
    other = Note(0.5, 1.5, 64, 90)
    pm = _read(to_midi_bytes([bent, other], bpm=120, program=0, name=""))
    assert not pm.instruments[0].pitch_bends
    pm = _read(to_midi_bytes([bent, other], bpm=120, program=0, name="", multiple_pitch_bends=True))
    assert len(pm.instruments) == 2
    assert [len(i.pitch_bends) > 0 for i in pm.instruments] == [True, False]


def test_quantise_snaps_to_sixteenths_of_the_tempo():
    step = 60 / 100 / 4  # 0.15 s
    notes = [Note(0.16, 0.44, 60, 90), Note(0.62, 0.63, 62, 90)]  # the second is shorter than a step
    out = quantise(notes, 100.0, None)
    assert [(n.start, n.end) for n in out] == [
        (pytest.approx(step), pytest.approx(3 * step)),
        (pytest.approx(4 * step), pytest.approx(5 * step)),  # kept one step long, not collapsed
    ]


def test_quantise_follows_the_beat_grid():
    beats = [0.3, 0.8, 1.4, 1.9]  # a drifting tempo, the first beat at 0.3 s
    notes = [Note(0.05, 0.2, 60, 90), Note(0.93, 1.2, 62, 90), Note(2.0, 2.3, 64, 90)]
    out = quantise(notes, 110.0, beats)
    # before the first beat and after the last the median beat (0.5 s) continues the grid
    assert out[0].start == pytest.approx(0.05)
    assert out[0].end == pytest.approx(0.175)
    assert out[1].start == pytest.approx(0.95)
    assert out[1].end == pytest.approx(1.25)
    assert out[2].start == pytest.approx(2.025)
    data = to_midi_bytes(notes, bpm=110.0, beats=beats, quantise=True, program=0, name="")
    assert [round(n.start, 3) for n in _read(data).instruments[0].notes] == [0.05, 0.95, 2.025]


def test_quantise_needs_a_tempo_or_beats():
    with pytest.raises(ValueError, match="tempo"):
        quantise([Note(0.1, 0.2, 60, 90)], None, None)


# ------------------------------------------------------------------------------------------------ options


def test_clean_options_gives_the_preset_with_the_users_changes():
    bass = clean_options("bass", {})
    assert bass["monophonic"] is True
    assert (bass["min_freq"], bass["max_freq"]) == (30.0, 400.0)
    assert clean_options("vocals")["monophonic"] is True
    for source in ("piano", "guitar", "other", "mix"):
        assert clean_options(source)["monophonic"] is False
    cleaned = clean_options("piano", {"onset_threshold": "0.4", "min_freq": "", "pitch_bends": "true"})
    assert cleaned["onset_threshold"] == 0.4
    assert cleaned["min_freq"] is None
    assert cleaned["pitch_bends"] is True


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        ("drums", {}, "Unknown source"),
        ("bass", {"loudness": 1}, "Unknown MIDI option"),
        ("bass", {"onset_threshold": 1.5}, "onset_threshold must be"),
        ("bass", {"frame_threshold": "high"}, "frame_threshold must be"),
        ("bass", {"frame_threshold": True}, "frame_threshold must be"),
        ("bass", {"min_note_ms": float("nan")}, "min_note_ms must be"),
        ("bass", {"min_note_ms": 5}, "min_note_ms must be"),
        ("bass", {"max_freq": 10}, "max_freq must be"),
        ("bass", {"min_freq": 500}, "must be below max_freq"),
        ("piano", {"pitch_bends": "maybe"}, "pitch_bends must be true or false"),
        ("piano", {"monophonic": 2}, "monophonic must be true or false"),
        ("piano", ["onset_threshold"], "names and values"),
    ],
)
def test_clean_options_rejects_bad_values(source, options, message):
    with pytest.raises(ValueError, match=message):
        clean_options(source, options)


def test_transcribe_checks_options_before_any_work():
    with pytest.raises(ValueError, match="onset_threshold"):
        transcribe("/nonexistent.wav", source="bass", options={"onset_threshold": -1})
