"""Query-string filters of the contract and assignment lists."""

import django_filters

from apps.contracts.models import Assignment, Contract


class ContractFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices)
    project = django_filters.UUIDFilter(field_name="project__public_id", help_text="A project id.")

    class Meta:
        model = Contract
        fields = ["status", "project"]


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Assignment.Status.choices)

    class Meta:
        model = Assignment
        fields = ["status"]
