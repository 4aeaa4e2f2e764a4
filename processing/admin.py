from django.contrib import admin

from .models import Job, Pipeline, QueuePing


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


class PipelineJobInline(admin.TabularInline):
    model = Job
    fields = ("step", "kind", "status", "progress", "error", "attempts")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("track", "owner", "status", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("track__title", "owner__username")
    readonly_fields = [f.name for f in Pipeline._meta.fields]
    list_select_related = ("track", "owner")
    inlines = [PipelineJobInline]
