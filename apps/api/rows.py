"""List pages read as ``.values()`` rows and rendered by plain functions (docs/api.md, "Performance").

A list endpoint's cost on a 50-row page was mostly Django building model instances (the row, each
``select_related`` object, each prefetched object) and DRF walking ~30 fields per row. A ``RowSource``
instead asks the database for exactly the columns the output needs, as dicts, with to-one relations
joined in the same query (``lab__name``) and to-many relations either aggregated into it as a JSON
list per row (``json_list``) or fetched by one keyed query per page (``prefetch``), whatever the page
size. Each ORM query costs about 0.5 ms of Python (compiling and running it), so the page should be
one query where it can. ``render`` turns one row into the resource's JSON; a test per resource
asserts it equals the output serializer's field-by-field rendering, which still defines the OpenAPI
schema and renders single objects.

Cursor pagination works unchanged on dict rows (it reads the ordering field from the last row).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from rest_framework import serializers

from apps.core.money import format_minor

Row = dict[str, Any]


class RowSource:
    """How one resource's list page is read and rendered. Subclasses set ``fields`` and ``render``.

    ``fields``: the ``values()`` expressions, including the model's ``id`` (keys for ``prefetch``) and
    every field the pagination orders by. ``annotate`` adds per-row aggregates to the list query (and
    returns the names to select besides ``fields``); ``prefetch`` attaches data to the page's rows with
    one query each.

    ``context`` is the serializer context plus ``tz`` (``page_context``), built once per request.
    """

    fields: Sequence[str] = ()

    def page_context(self, context: dict) -> dict:
        """The context of one page: the serializer context and ``tz``, the zone datetimes render in."""
        return {**context, "tz": current_timezone()}

    def annotate(self, queryset: QuerySet, context: dict) -> tuple[QuerySet, Sequence[str]]:
        return queryset, ()

    def values(self, queryset: QuerySet, context: dict) -> QuerySet:
        # select_related is ignored by values(); prefetches would run on dicts, so they are dropped.
        queryset, extra = self.annotate(queryset.prefetch_related(None), context)
        return queryset.values(*self.fields, *extra)

    def prefetch(self, rows: list[Row], context: dict) -> None:
        """Attach to-many data to ``rows`` (one query per relation for the whole page)."""

    def render(self, row: Row, context: dict) -> dict:
        raise NotImplementedError

    def render_page(self, rows: list[Row], context: dict) -> list[dict]:
        """The page's items (``context`` from ``page_context``)."""
        if rows:
            self.prefetch(rows, context)
        return [self.render(row, context) for row in rows]


class JSONList(Aggregate):
    """The JSON array of an expression's values over a group (``JSONB_AGG`` on PostgreSQL,
    ``JSON_GROUP_ARRAY`` on SQLite), ordered by ``order_by`` where the database can order inside an
    aggregate (PostgreSQL; SQLite from 3.44). Read it with ``json_items``, which sorts elsewhere."""

    function = "JSON_GROUP_ARRAY"
    name = "JSONList"
    allow_order_by = True
    output_field = JSONField()

    def as_sql(self, compiler, connection, **extra_context):
        if self.order_by is not None and not connection.features.supports_aggregate_order_by_clause:
            unordered = self.copy()
            unordered.order_by = None
            return super(JSONList, unordered).as_sql(compiler, connection, **extra_context)
        return super().as_sql(compiler, connection, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def json_list(related: QuerySet, to_row: str, order_by: Sequence[str], **fields: str) -> Subquery:
    """A correlated subquery: for each row of the list query, the JSON list of ``fields`` (output name:
    path) of the ``related`` rows whose ``to_row`` is that row's primary key, in ``order_by`` order;
    None when there is none.

    One list query carries a to-many relation this way instead of a second query per page. Build it
    once (a class attribute: ``annotate`` resolves a copy per query). UUIDs arrive as strings (hex
    without dashes on SQLite: ``render_uuid``)."""
    grouped = (
        related.filter(**{to_row: OuterRef("pk")})
        .order_by()
        .values(to_row)
        .annotate(_list=JSONList(JSONObject(**fields), order_by=order_by))
        .values("_list")
    )
    return Subquery(grouped, output_field=JSONField())


def json_items(value: list | None, sort_key) -> list:
    """A ``json_list`` column's elements in its ``order_by`` order. Where the database could not order
    inside the aggregate (SQLite before 3.44), they are sorted here by ``sort_key``, which must order
    as ``order_by`` does there (SQLite compares text by code point, as Python does)."""
    if not value:
        return []
    if connection.features.supports_aggregate_order_by_clause:
        return value
    return sorted(value, key=sort_key)


# --- rendering helpers: byte for byte what DRF's fields render, without a field object per value ---------------

_DATETIME = serializers.DateTimeField()
_DECIMALS: dict[int, serializers.DecimalField] = {}


def current_timezone():
    """The zone ``DateTimeField`` renders in (None without ``USE_TZ``: ``render_datetime`` then defers to it)."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def render_datetime(value, tz=None):
    """As ``DateTimeField`` renders it (ISO 8601 in the current time zone, ``Z`` for UTC); pass ``tz``
    (``current_timezone()``, once per page) to skip the field's per-value time zone lookup."""
    if value is None:
        return None
    if tz is None or value.tzinfo is None:
        return _DATETIME.to_representation(value)
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_uuid(value) -> str | None:
    """A UUID from a row or a JSON list (a ``UUID``, or a string with or without dashes) as the API writes it."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 36:
        return value
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def render_date(value):
    return None if value is None else value.isoformat()


def render_decimal(value, places: int):
    """As ``DecimalField(decimal_places=places)`` renders it (a string with exactly ``places`` digits).

    A value read from a column with ``places`` decimal places already has them: it is formatted as it is;
    anything else goes through DRF's field (quantized as DRF does)."""
    if value is None:
        return None
    text = f"{value:f}"
    dot = text.find(".")
    if dot >= 0 and len(text) - dot - 1 == places:
        return text
    field = _DECIMALS.get(places)
    if field is None:
        field = _DECIMALS[places] = serializers.DecimalField(max_digits=None, decimal_places=places)
    return field.to_representation(value)


def render_money(minor: int | None, currency: str) -> dict | None:
    """As ``MoneyField`` renders ``Money(minor, currency)``: ``{"amount": "12.50", "currency": "USD"}``."""
    return None if minor is None else {"amount": format_minor(minor, currency), "currency": currency}
