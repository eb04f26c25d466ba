"""One error envelope for the whole API: {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core import errors as domain

_DOMAIN_STATUS = [
    (domain.NotFound, status.HTTP_404_NOT_FOUND),
    (domain.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (domain.ValidationFailed, status.HTTP_400_BAD_REQUEST),
    (domain.DomainError, status.HTTP_409_CONFLICT),
]

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


class ApiError(exceptions.APIException):
    """A refusal by the API layer itself (not a domain rule), with its own status and code.

    Used for protocol-level conflicts such as a reused ``Idempotency-Key``.
    """

    def __init__(self, message: str, *, code: str, status_code: int, details: dict | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.details = details or {}


def envelope(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _validation_message(detail) -> str:
    if isinstance(detail, dict):
        for field, messages in detail.items():
            first = messages[0] if isinstance(messages, list) and messages else messages
            if isinstance(first, dict):
                return f"{field}: {_validation_message(first)}"
            return f"{field}: {first}" if field != "non_field_errors" else str(first)
    if isinstance(detail, list) and detail:
        return _validation_message(detail[0]) if isinstance(detail[0], (dict, list)) else str(detail[0])
    return "Invalid input."


def exception_handler(exc, context):
    for cls, http_status in _DOMAIN_STATUS:
        if isinstance(exc, cls):
            return Response(envelope(exc.code, exc.message, exc.details), status=http_status)

    if isinstance(exc, ApiError):
        return Response(envelope(exc.error_code, str(exc.detail), exc.details), status=exc.status_code)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling and logging take over
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = envelope(code, _validation_message(details), details)
    else:
        message = str(getattr(exc, "detail", "")) or str(exc)
        details = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after_seconds": int(exc.wait)}
        response.data = envelope(code, message, details)
    return response
