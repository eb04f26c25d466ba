"""The base class of every API view: idempotent POSTs, scoped organisation lookup, one schema class."""

from __future__ import annotations

from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins
from rest_framework.generics import GenericAPIView

from apps.accounts import selectors
from apps.accounts.models import ApiKey, Organization

from . import idempotency, scopes
from .models import IdempotencyRecord
from .rows import RowSource
from .schema import ApiAutoSchema


class QueryFilterBackend(DjangoFilterBackend):
    """django-filter, skipped when no query parameter can belong to the view's filterset: with none it
    filters nothing, and building the filterset and its form costs about 1-2 ms per list request
    (docs/api.md, "Performance"). A parameter is matched by prefix (``created_after`` for ``created``)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class _Replay(Exception):
    """Control flow: answers a repeated Idempotency-Key from the store; never leaves the view."""

    def __init__(self, record: IdempotencyRecord):
        self.record = record


class ApiView(GenericAPIView):
    """Every API view derives from this.

    POST requests carrying an ``Idempotency-Key`` header are claimed after authentication
    (``initial``); the response is stored in ``finalize_response`` and a repeat is answered from
    the store with ``Idempotent-Replayed: true``. A 5xx or an unhandled exception releases the key.
    """

    schema = ApiAutoSchema()
    # The API key scope an operation needs (apps/api/scopes.py): derived from the module and the HTTP
    # method unless a view sets ``scope_resource`` (e.g. "events") or ``required_scope`` ("" for none).
    scope_resource: str | None = None
    required_scope: str | None = None
    # OPTIONS answers 405: the schema documents every operation, and DRF's metadata introspection
    # needs a serializer_class that one-operation views do not have (it answered 500 under schemathesis).
    metadata_class = None
    # Ordering comes from the cursor pagination only: an ?ordering= on a non-unique field would
    # break cursors.
    filter_backends = [QueryFilterBackend]
    _idempotency_record: IdempotencyRecord | None = None

    # --- scope -----------------------------------------------------------------------------------

    @property
    def api_key(self) -> ApiKey | None:
        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, ApiKey) else None

    @property
    def scope_organization(self) -> Organization | None:
        """The only organisation an API-key caller may act for; None for a browser session."""
        key = self.api_key
        return key.organization if key is not None else None

    def get_organization(self) -> Organization:
        """The ``org_id`` of the URL if the caller belongs to it (and, with a key, it is the key's); else 404."""
        if not hasattr(self, "_organization"):
            self._organization = selectors.organization_get_for_user(
                self.request.user, self.kwargs["org_id"], only=self.scope_organization
            )
        return self._organization

    def check_permissions(self, request):
        # After authentication, before an Idempotency-Key is claimed; API-key callers only.
        super().check_permissions(request)
        scopes.enforce(self, request)

    # --- idempotency -----------------------------------------------------------------------------

    def initial(self, request, *args, **kwargs):
        raw_key = request.headers.get(idempotency.HEADER) if request.method == "POST" else None
        if raw_key is not None:
            body = request.body  # read before anything parses the stream
        super().initial(request, *args, **kwargs)
        if raw_key is None:
            return
        caller = idempotency.caller_for(request)
        if caller is None:
            return
        claim = idempotency.idempotency_claim(
            caller=caller,
            key=idempotency.validate_key(raw_key),
            method=request.method,
            path=request.get_full_path(),
            request_hash=idempotency.request_fingerprint(request.method, request.get_full_path(), body),
        )
        if claim.replay:
            raise _Replay(claim.record)
        self._idempotency_record = claim.record

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = HttpResponse(
                bytes(record.response_body or b""),
                status=record.response_status,
                content_type=record.response_content_type or None,
            )
            response[idempotency.REPLAYED_HEADER] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except BaseException:
            self._release_idempotency_key()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is None:
            return response
        if response.status_code >= 500:
            idempotency.idempotency_release(record=record)
            return response
        try:
            if hasattr(response, "render"):
                response.render()
            idempotency.idempotency_complete(
                record=record,
                status_code=response.status_code,
                body=bytes(response.content),
                content_type=response.get("Content-Type", ""),
            )
        except BaseException:
            idempotency.idempotency_release(record=record)
            raise
        return response

    def _release_idempotency_key(self) -> None:
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            idempotency.idempotency_release(record=record)


class ApiListView(mixins.ListModelMixin, ApiView):
    """A cursor-paginated, filterable list. Subclasses define ``get_queryset`` through a selector.

    With ``row_source`` set (``apps/api/rows.py``), the page is read as keys (the queryset, paginated by
    a cursor) and then rows by those keys, rendered by the row source; ``serializer_class`` then still
    documents the items and renders single objects elsewhere.
    """

    row_source: RowSource | None = None

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if self.row_source is None:
            return super().list(request, *args, **kwargs)
        source = self.row_source
        context = source.page_context(self.get_serializer_context())
        queryset = self.filter_queryset(self.get_queryset())
        ordering = self.paginator.get_ordering(request, queryset, self)
        keys = self.paginate_queryset(source.keys(queryset, ordering))
        return self.get_paginated_response(source.render_page(source.rows(keys, context), context))
