from django.contrib import admin

from .models import Job, QueuePing


@admin.register(QueuePing)
class QueuePingAdmin(admin.ModelAdmin):
    list_display = ("id", "queue", "created_at", "handled_at", "handled_by")
    list_filter = ("queue",)
    readonly_fields = ("id", "queue", "created_at", "handled_at", "handled_by")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("kind", "status", "progress", "owner", "track", "attempts", "device", "queued_at", "finished_at")
    list_filter = ("status", "kind", "queue", "device")
    search_fields = ("id", "owner__username", "track__title", "error", "worker")
    readonly_fields = [f.name for f in Job._meta.fields]
    list_select_related = ("owner", "track")
    date_hierarchy = "queued_at"
