"""Query-string filters of the v1 account lists."""

import django_filters

from apps.accounts.models import ApiKey, Invitation, Membership, Organization
from apps.accounts.roles import OrgKind, Role


class OrganizationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgKind.choices)

    class Meta:
        model = Organization
        fields = ["kind"]


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Invitation
        fields = ["status", "role"]


class ApiKeyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApiKey.Status.choices)

    class Meta:
        model = ApiKey
        fields = ["status"]
