"""Query-string filters of the delivery log and the event log."""

import django_filters

from apps.core.events import EVENT_TYPES
from apps.integrations.models import TEST_EVENT, Delivery, Event

EVENT_TYPE_CHOICES = [(name, name) for name in [*sorted(EVENT_TYPES), TEST_EVENT]]


class DeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.UUIDFilter(field_name="endpoint__public_id", help_text="A webhook endpoint id.")
    event_type = django_filters.ChoiceFilter(field_name="event__type", choices=EVENT_TYPE_CHOICES)
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)

    class Meta:
        model = Delivery
        fields = ["endpoint", "event_type", "status"]


class EventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=EVENT_TYPE_CHOICES)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gt", help_text="Only events created after this instant (ISO 8601)."
    )

    class Meta:
        model = Event
        fields = ["type", "created_after"]
