from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "apps.quality"
    label = "quality"
    verbose_name = "Quality engine"

    def ready(self) -> None:
        from apps.bidding.hooks import quality_history_provider
        from apps.core.events import domain_event

        from . import services
        from .datasheet import register as register_datasheet_columns
        from .history import supplier_history

        domain_event.subscribe(services.on_domain_event)
        quality_history_provider.register(supplier_history)
        register_datasheet_columns()
