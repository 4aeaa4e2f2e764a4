from django.contrib import admin

from .models import QueuePing


@admin.register(QueuePing)
class QueuePingAdmin(admin.ModelAdmin):
    list_display = ("id", "queue", "created_at", "handled_at", "handled_by")
    list_filter = ("queue",)
    readonly_fields = ("id", "queue", "created_at", "handled_at", "handled_by")
