from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Outbound webhooks and the event log"

    def ready(self) -> None:
        from apps.core.events import domain_event

        from . import services

        domain_event.subscribe(services.on_domain_event)
