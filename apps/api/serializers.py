"""Base classes for API serializers."""

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """Input of one endpoint. Unknown fields are refused (no silent mass assignment)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - {name for name, field in self.fields.items() if not field.read_only})
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
