from django.apps import AppConfig


class LyricsConfig(AppConfig):
    name = "lyrics"
    default_auto_field = "django.db.models.BigAutoField"
