"""Query-string filters of the bid lists."""

import django_filters

from apps.bidding.models import Bid


class BidFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Bid.Status.choices)
    project = django_filters.UUIDFilter(field_name="project__public_id", help_text="A project id.")

    class Meta:
        model = Bid
        fields = ["status", "project"]


class ProjectBidFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Bid.Status.choices)

    class Meta:
        model = Bid
        fields = ["status"]
