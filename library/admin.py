from django.contrib import admin

from .models import Collection, Export, Lyrics, MidiClip, Sample, Stem, StemSet, Tag, Track


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
            from .sample_services import do_set_sample_category

            do_set_sample_category(obj, form.cleaned_data["category"])
            form.changed_data.remove("category")
        super().save_model(request, obj, form, change)

    @admin.action(description="Restore the classifier's category")
    def restore_predicted_category(self, request, queryset):
        from .sample_services import do_set_sample_category

        for sample in queryset:
            do_set_sample_category(sample, sample.predicted_category)


@admin.register(MidiClip)
class MidiClipAdmin(admin.ModelAdmin):
    list_display = ("track", "source", "preset", "note_count", "bpm", "quantised", "owner", "created_at")
    list_filter = ("preset", "quantised")
    search_fields = ("track__title", "owner__username")
    exclude = ("notes",)
    readonly_fields = ("id", "owner", "track", "stem", "source", "preset", "params", "note_count", "bpm",
                       "quantised", "file", "job", "created_at")  # fmt: skip
    list_select_related = ("track", "owner")


@admin.register(Lyrics)
class LyricsAdmin(admin.ModelAdmin):
    list_display = ("track", "source", "model_name", "language", "edited", "owner", "updated_at")
    list_filter = ("model_name", "language", "edited")
    search_fields = ("track__title", "owner__username", "text")
    exclude = ("data", "original")
    readonly_fields = ("id", "owner", "track", "stem", "source", "model_name", "language", "params", "text", "note",
                       "edited", "job", "created_at", "updated_at")  # fmt: skip
    list_select_related = ("track", "owner")


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "owner", "size", "file_count", "created_at", "finished_at")
    list_filter = ("scope",)
    search_fields = ("name", "owner__username")
    readonly_fields = [f.name for f in Export._meta.fields]
    list_select_related = ("owner",)
