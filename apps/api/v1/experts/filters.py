"""Query-string filters of the v1 Workforce lists whose selectors take no filter arguments."""

import django_filters

from apps.experts.models import Credential, CredentialType, RosterEntry


class CredentialFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Credential.Status.choices)
    type = django_filters.ChoiceFilter(choices=CredentialType.choices)

    class Meta:
        model = Credential
        fields = ["status", "type"]


class RosterMembershipFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RosterEntry.Status.choices)

    class Meta:
        model = RosterEntry
        fields = ["status"]
