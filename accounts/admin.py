from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at")
    list_filter = ("created_at",)
    search_fields = ("name", "user__username", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        # Keys are shown once on creation, which the admin cannot do: users create them on their profile.
        return False
