"""Samples in the admin, with the user's category corrections."""

from django.contrib import admin

from samples.models import Sample
from samples.services import do_set_sample_category


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    """Curators review the tagger: filter by category, confidence and corrections; correct a category here."""

    list_display = ("__str__", "category", "predicted_category", "confidence", "category_corrected", "note",
                    "source", "track", "owner", "duration", "created_at")  # fmt: skip
    list_filter = ("category", "category_corrected", "source", "favourite", "predicted_category")
    search_fields = ("track__title", "track__artist", "owner__username", "note")
    exclude = ("embedding", "peaks")
    raw_id_fields = ("tags",)
    readonly_fields = ("id", "owner", "track", "stem", "source", "index", "start", "end", "onset", "duration",
                       "file", "sample_rate", "channels", "size", "peak_db", "loudness", "gain_db", "note",
                       "pitch_confidence", "predicted_category", "confidence", "category_corrected", "job",
                       "created_at", "updated_at")  # fmt: skip
    list_select_related = ("track", "owner")
    actions = ["restore_predicted_category"]

    def save_model(self, request, obj, form, change):
        if change and "category" in form.changed_data:
            do_set_sample_category(obj, form.cleaned_data["category"])
            form.changed_data.remove("category")
        super().save_model(request, obj, form, change)

    @admin.action(description="Restore the classifier's category")
    def restore_predicted_category(self, request, queryset):

        for sample in queryset:
            do_set_sample_category(sample, sample.predicted_category)
