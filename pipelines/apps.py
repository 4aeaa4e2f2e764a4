from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "pipelines"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Its receiver of jobs.signals.job_changed must be connected in every process, workers included.
        from pipelines import services  # noqa: F401
