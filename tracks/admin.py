"""Tracks, tags and collections in the admin."""

from django.contrib import admin

from tracks.models import Collection, Tag, Track


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = (
        "display_title",
        "artist",
        "owner",
        "format",
        "duration",
        "bpm",
        "key_label",
        "status",
        "created_at",
    )
    list_filter = ("status", "format", "key", "scale", "created_at")
    search_fields = ("title", "artist", "album", "original_filename", "sha256", "owner__username")
    readonly_fields = (
        "id", "owner", "original", "original_filename", "format", "codec", "duration", "sample_rate", "channels",
        "bit_depth", "bitrate", "size", "sha256", "bpm", "key", "scale", "loudness_lufs", "preview", "status",
        "error", "analysed_at", "created_at", "updated_at",
    )  # fmt: skip
    exclude = ("beats", "peaks")
    filter_horizontal = ("tags",)
    list_select_related = ("owner",)
    date_hierarchy = "created_at"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")
    list_filter = ("created_at",)
    list_select_related = ("owner",)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at", "updated_at")
    search_fields = ("name", "description", "owner__username")
    list_filter = ("created_at",)
    filter_horizontal = ("tracks",)
    raw_id_fields = ("samples",)  # a library can hold 100,000 samples: no select box of them all
    list_select_related = ("owner",)
