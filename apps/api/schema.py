"""OpenAPI generation shared by every API view: the error envelope, the Idempotency-Key header, each
operation's required scope and its examples (``examples.py``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from . import examples, idempotency, scopes


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable lower_snake code, e.g. `role_not_allowed`.")
    message = serializers.CharField(help_text="A sentence for people.")
    details = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Context; for validation errors, each offending field (or header) mapped to its messages.",
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


_ERRORS = {
    "400": "Invalid input; `details` names each offending field.",
    "401": "Missing, malformed, invalid, expired or revoked credentials.",
    "403": "Authenticated, but the caller's role does not allow this, or the API key lacks the operation's scope (`code: missing_scope`, `details.required_scope`).",
    "404": "The object does not exist or is outside the caller's scope.",
    "406": "The requested response format is not available.",
    "409": "The object's state does not allow this, or a request with the same Idempotency-Key is in progress.",
    "415": "The request body is not JSON.",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Too many requests for this API key (or user); `details.retry_after_seconds` says when to retry.",
}
# 409 on reads too: a read can depend on state (a batch's datasheet exists once it is accepted).
_ALWAYS = ("400", "401", "403", "404", "406", "409", "429")
_WRITES = ("415",)
_POST_ONLY = ("422",)


class ApiAutoSchema(AutoSchema):
    """Documents every error status the API can answer, and idempotency on POST operations."""

    def _error_codes(self) -> tuple[str, ...]:
        codes = _ALWAYS
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += _WRITES
        if self.method == "POST":
            codes += _POST_ONLY
        return codes

    # --- scopes ---------------------------------------------------------------------------------------

    def required_scope(self) -> str:
        return scopes.required_scope(type(self.view), self.method)

    def get_operation(self, *args, **kwargs):
        # Here rather than in get_description/get_extensions: @extend_schema replaces those per view.
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        scope = self.required_scope()
        sentence = (
            f"API keys need the `{scope}` scope (or `{scope.split(':')[0]}:*`, or `*`)."
            if scope
            else "Any API key may call this (no scope needed)."
        )
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{sentence}" if description else sentence
        operation["x-required-scope"] = scope or None
        examples.attach(operation)
        return operation

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters += [
                OpenApiParameter(
                    name=idempotency.HEADER,
                    type=OpenApiTypes.STR,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "A unique client-chosen key (e.g. a UUID, at most 255 characters). A repeat with the same key "
                        "and body replays the first response (with `Idempotent-Replayed: true`); the same key with a "
                        "different body answers 422; a repeat while the first is running answers 409. Keys expire "
                        "after 24 hours."
                    ),
                ),
                OpenApiParameter(
                    name=idempotency.REPLAYED_HEADER,
                    type={"type": "string", "enum": ["true"]},
                    location=OpenApiParameter.HEADER,
                    response=["200", "201"],
                    description="Present when this response is the stored answer to an earlier request with the same key.",
                ),
            ]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorEnvelopeSerializer, description=_ERRORS[code]), code, direction=direction
                )
        return dict(sorted(responses.items()))


class StatusFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.api.fields.StatusField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            schema={"type": "string", "enum": [str(value) for value in field.choices]},
            object=field.enum_name,
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


_METHODS = ("get", "put", "patch", "post", "delete")


def link_created_resources(result: dict, generator, request, public) -> dict:
    """A postprocessing hook: OpenAPI links from each create to what can be done with what it created.

    A ``POST`` answering 201 with an ``id`` (``/projects/``) links to every operation of the paths right
    under it (``/projects/{project_id}/``, ``/projects/{project_id}/publish/``, ...): the new ``id`` is
    the next path parameter, and the create's own path parameters carry over. Clients see the flow in
    the schema, and schemathesis's stateful phase follows the links (docs/api.md, "Fuzzing in CI")."""
    paths, schemas = result["paths"], result.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or "id" not in _properties(created, schemas):
            continue
        carried = {name: f"$request.path.{name}" for name in _path_parameters(path)}
        links = {}
        for child, child_operations in paths.items():
            if not child.startswith(path + "{"):
                continue
            parameter = child[len(path) + 1 : child.index("}", len(path))]
            for method in _METHODS:
                operation = child_operations.get(method)
                if operation is not None:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {**carried, parameter: "$response.body#/id"},
                    }
        if links:
            created["links"] = links
    return result


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def _properties(response: dict, schemas: dict) -> dict:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema.get("properties", {})
