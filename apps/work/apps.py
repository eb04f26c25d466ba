from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "apps.work"
    label = "work"
    verbose_name = "Gold, delivery, review and appeals"
