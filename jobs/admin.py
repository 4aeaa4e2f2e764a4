"""Jobs and queue pings in the admin: every field read-only, the traceback included."""

from django.contrib import admin

from jobs.models import Job, QueuePing


@admin.register(QueuePing)
class QueuePingAdmin(admin.ModelAdmin):
    list_display = ("id", "queue", "created_at", "handled_at", "handled_by")
    list_filter = ("queue",)
    readonly_fields = ("id", "queue", "created_at", "handled_at", "handled_by")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "status",
        "progress",
        "owner",
        "subject_type",
        "subject_id",
        "attempts",
        "device",
        "queued_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "queue", "device")
    search_fields = ("id", "subject_id", "owner__username", "error", "worker")
    readonly_fields = [f.name for f in Job._meta.fields]
    list_select_related = ("owner", "subject_type")
    date_hierarchy = "queued_at"
