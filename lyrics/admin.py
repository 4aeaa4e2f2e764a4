"""Lyrics in the admin."""

from django.contrib import admin

from lyrics.models import Lyrics


@admin.register(Lyrics)
class LyricsAdmin(admin.ModelAdmin):
    list_display = ("track", "source", "model_name", "language", "edited", "owner", "updated_at")
    list_filter = ("model_name", "language", "edited")
    search_fields = ("track__title", "owner__username", "text")
    exclude = ("data", "original")
    readonly_fields = ("id", "owner", "track", "stem", "source", "model_name", "language", "params", "text", "note",
                       "edited", "job", "created_at", "updated_at")  # fmt: skip
    list_select_related = ("track", "owner")
