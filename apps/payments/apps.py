from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments over Stripe Connect"

    def ready(self) -> None:
        from apps.core.events import domain_event

        from .services import earnings

        # A batch accepted (or an appeal overturned) earns in the same transaction as the decision.
        domain_event.subscribe(earnings.on_domain_event)
