"""Query-string filters of the batch list."""

import django_filters

from apps.work.models import WorkBatch


class BatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkBatch.Status.choices)

    class Meta:
        model = WorkBatch
        fields = ["status"]
