"""Stem sets and stems in the admin."""

from django.contrib import admin

from stems.models import Stem, StemSet


class StemInline(admin.TabularInline):
    model = Stem
    fields = ("name", "file", "preview", "duration", "sample_rate", "channels", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(StemSet)
class StemSetAdmin(admin.ModelAdmin):
    list_display = ("track", "model_name", "owner", "created_at")
    list_filter = ("model_name", "created_at")
    search_fields = ("track__title", "owner__username", "model_name")
    readonly_fields = (
        "id",
        "owner",
        "track",
        "model_name",
        "model_version",
        "params",
        "signature",
        "job",
        "created_at",
    )
    inlines = [StemInline]
    list_select_related = ("track", "owner")


@admin.register(Stem)
class StemAdmin(admin.ModelAdmin):
    list_display = ("name", "track", "owner", "duration", "sample_rate", "size", "created_at")
    list_filter = ("name",)
    search_fields = ("track__title", "owner__username")
    exclude = ("peaks",)
    readonly_fields = ("id", "owner", "track", "stem_set", "name", "file", "preview", "duration", "sample_rate",
                       "channels", "size", "created_at")  # fmt: skip
    list_select_related = ("track", "owner")
