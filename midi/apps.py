from django.apps import AppConfig


class MidiConfig(AppConfig):
    name = "midi"
    default_auto_field = "django.db.models.BigAutoField"
