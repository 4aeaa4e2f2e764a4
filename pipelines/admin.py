"""Pipelines in the admin, each with the jobs of its steps."""

from django.contrib import admin

from pipelines.models import Pipeline, PipelineStep


class PipelineJobInline(admin.TabularInline):
    model = PipelineStep
    fields = ("step", "job", "kind", "status", "progress", "error", "attempts")
    readonly_fields = fields

    @admin.display(description="kind")
    def kind(self, obj):
        return obj.job.get_kind_display()

    @admin.display(description="status")
    def status(self, obj):
        return obj.job.get_status_display()

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{obj.job.progress}%"

    @admin.display(description="error")
    def error(self, obj):
        return obj.job.error

    @admin.display(description="attempts")
    def attempts(self, obj):
        return obj.job.attempts

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


@admin.register(PipelineStep)
class PipelineStepAdmin(admin.ModelAdmin):
    list_display = ("step", "pipeline", "job")
    search_fields = ("step", "pipeline__track__title")
    readonly_fields = ("pipeline", "job", "step")
    list_select_related = ("pipeline__track", "job")
