"""MIDI clips in the API, and the MIDI request."""

from rest_framework import serializers

from audio.drum_midi import CLASSES
from core.api import _absolute_url
from midi.models import MidiClip


class MidiRequestSerializer(serializers.Serializer):
    onset_threshold = serializers.FloatField(required=False, help_text="0..1: higher finds fewer notes")
    frame_threshold = serializers.FloatField(required=False, help_text="0..1: higher ends notes sooner")
    min_note_ms = serializers.FloatField(required=False, help_text="Shortest note kept, milliseconds")
    min_freq = serializers.FloatField(required=False, allow_null=True, help_text="Hz")
    max_freq = serializers.FloatField(required=False, allow_null=True, help_text="Hz")
    pitch_bends = serializers.BooleanField(required=False)
    quantise = serializers.BooleanField(required=False, help_text="Snap notes to the track's beat grid (1/16)")
    drums = serializers.BooleanField(
        required=False, help_text="Make a General MIDI drum part (always so for a drums stem): a drum loop or stem"
    )
    quantise_strength = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="Drums: 0 as played .. 1 on the grid (quantise: 1)"
    )
    humanise = serializers.BooleanField(required=False, help_text="Drums: a few ms and velocity points of life")
    keep = serializers.ListField(
        child=serializers.ChoiceField(choices=CLASSES), required=False, allow_empty=False,
        help_text="Drums: the instruments to keep (default all)",
    )  # fmt: skip
    sensitivity = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="Drums: onset sensitivity, as the slicer's"
    )


class MidiClipSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="The .mid file, owner only.")
    url = serializers.SerializerMethodField()

    class Meta:
        model = MidiClip
        fields = ["id", "url", "track", "stem", "source", "preset", "params", "bpm", "quantised", "note_count",
                  "file_url", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_file_url(self, clip) -> str:
        return _absolute_url(self.context, "midi:midi_file", clip)

    def get_url(self, clip) -> str:
        return _absolute_url(self.context, "midi:midi", clip)


class MidiClipDetailSerializer(MidiClipSerializer):
    class Meta(MidiClipSerializer.Meta):
        fields = [*MidiClipSerializer.Meta.fields, "notes"]
        read_only_fields = fields
