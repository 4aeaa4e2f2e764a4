from django.apps import AppConfig


class SamplesConfig(AppConfig):
    name = "samples"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Its receiver that forgets a deleted stem's onset curves must be connected in every process.
        from samples import services  # noqa: F401
