from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every app's tasks.py registers its job kinds; then each kind gets its Dramatiq actor.
        from django.utils.module_loading import autodiscover_modules

        from jobs import registry, services

        autodiscover_modules("tasks")
        registry.declare_actors(services.run)
