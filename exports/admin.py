"""Exports in the admin."""

from django.contrib import admin

from exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "owner", "size", "file_count", "created_at", "finished_at")
    list_filter = ("scope",)
    search_fields = ("name", "owner__username")
    readonly_fields = [f.name for f in Export._meta.fields]
    list_select_related = ("owner",)
