from django.apps import AppConfig


class StemcrateConfig(AppConfig):
    name = "stemcrate"
    verbose_name = "Stemcrate"
