from django.apps import AppConfig


class TracksConfig(AppConfig):
    name = "tracks"
    default_auto_field = "django.db.models.BigAutoField"
