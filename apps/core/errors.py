"""Domain errors with stable, machine-readable codes.

Services raise these; interfaces translate them (the API to its error envelope and an HTTP
status, pages to a message). Codes are lower_snake and never change once published.
"""

from typing import Any


class DomainError(Exception):
    """A business rule refused the operation (a state conflict unless a subclass says otherwise)."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationFailed(DomainError):
    """The input is wrong; ``details`` maps each field (or row) to its messages."""

    code = "invalid"


class PermissionDenied(DomainError):
    """The actor may see the object but may not do this to it."""

    code = "permission_denied"


class NotFound(DomainError):
    """The object does not exist or is outside the actor's scope (the two are indistinguishable)."""

    code = "not_found"


class InvalidTransition(DomainError):
    """A status change from a state that does not allow it."""

    code = "invalid_transition"
