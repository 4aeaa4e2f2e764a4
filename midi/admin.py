"""MIDI clips in the admin."""

from django.contrib import admin

from midi.models import MidiClip


@admin.register(MidiClip)
class MidiClipAdmin(admin.ModelAdmin):
    list_display = ("track", "source", "preset", "note_count", "bpm", "quantised", "owner", "created_at")
    list_filter = ("preset", "quantised")
    search_fields = ("track__title", "owner__username")
    exclude = ("notes",)
    readonly_fields = ("id", "owner", "track", "stem", "source", "preset", "params", "note_count", "bpm",
                       "quantised", "file", "job", "created_at")  # fmt: skip
    list_select_related = ("track", "owner")
