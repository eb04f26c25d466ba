"""A writable choice field documented as a named enum (the writable sibling of ``StatusField``)."""

from rest_framework import serializers

from apps.api.schema import StatusFieldExtension


class NamedChoiceField(serializers.ChoiceField):
    """A choice documented as the enum component ``enum_name`` (e.g. ``CredentialType``), so that the
    same choice set has one name in requests and responses and never collides with another ``type``."""

    def __init__(self, *, choices, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices=choices, **kwargs)


class NamedChoiceFieldExtension(StatusFieldExtension):
    target_class = "apps.api.v1.experts.fields.NamedChoiceField"
