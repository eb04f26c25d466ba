"""List pages read as ``.values()`` rows and rendered by plain functions (docs/api.md, "Performance").

A list endpoint's cost on a 50-row page was mostly Django building model instances (the row, each
``select_related`` object, each prefetched object) and DRF walking ~30 fields per row. A ``RowSource``
instead asks the database for exactly the columns the output needs, as dicts, with to-one relations
joined in the same query (``lab__name``) and to-many relations either aggregated into it as a JSON
list per row (``json_list``) or fetched by one keyed query per page (``prefetch``), whatever the page
size. ``render`` turns one row into the resource's JSON; a test per resource asserts it equals the
output serializer's field-by-field rendering, which still defines the OpenAPI schema and renders
single objects.

A page is read in two steps. The page query is the view's scoped, filtered queryset as ``keys``: the
primary key and the columns the cursor pagination orders by, built by the ORM per request (cursor
pagination works unchanged on dict rows: it reads the ordering field from the last row). The page's
rows are then read by those keys with ``KeyedQuery``: the row query, with its joins and JSON subqueries,
compiled to SQL once per process and reused with new keys, and on PostgreSQL a prepared statement,
planned once per connection. Building and compiling that query cost 0.5-0.8 ms of Python per request,
and planning it cost PostgreSQL more than running it.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Aggregate, F, JSONField, Lookup, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader
from rest_framework import serializers

from apps.core.money import format_minor

Row = dict[str, Any]


class RowSource:
    """How one resource's list page is read and rendered. Subclasses set ``model``, ``fields`` and ``render``.

    ``fields``: the ``values()`` expressions of the row query, including the model's ``id``. ``annotate``
    adds per-row aggregates to it (and returns the names to select besides ``fields``); it sees only
    ``variant(context)``, never the request, because the row query is compiled once per variant and
    reused by every request (``KeyedQuery``). ``prefetch`` attaches data to the page's rows with one
    query each, per request.

    ``context`` is the serializer context plus ``tz`` (``page_context``), built once per request.
    """

    model: type[Model]
    fields: Sequence[str] = ()

    def __init__(self):
        self._queries: dict[tuple, KeyedQuery] = {}

    def page_context(self, context: dict) -> dict:
        """The context of one page: the serializer context and ``tz``, the zone datetimes render in."""
        return {**context, "tz": current_timezone()}

    def variant(self, context: dict) -> Hashable:
        """What the row query depends on besides the keys (one compiled query per variant)."""
        return ()

    def annotate(self, queryset: QuerySet, variant: Hashable) -> tuple[QuerySet, Sequence[str]]:
        return queryset, ()

    def keys(self, queryset: QuerySet, ordering: Sequence[str] = ()) -> QuerySet:
        """The page query: ``queryset`` (scoped and filtered by the view) as dicts of ``id`` and the
        columns of ``ordering`` (the pagination's), in its own order."""
        names = dict.fromkeys(("id", *(name.lstrip("-") for name in ordering)))  # "-created_at" -> created_at
        return queryset.prefetch_related(None).values(*names)

    def row_queryset(self, variant: Hashable) -> QuerySet:
        """The row query as the ORM builds it, before ``KeyedQuery`` filters it to the keys and compiles it."""
        queryset, extra = self.annotate(self.model._default_manager.order_by(), variant)
        return queryset.values(*self.fields, *extra)

    def rows(self, keys: Sequence[Row], context: dict) -> list[Row]:
        """The rows of ``keys`` (from the page query), in their order: one query, whatever the page size.

        A row deleted between the two queries is left out (the page is then one shorter; its cursor,
        taken from the keys, is unaffected)."""
        if not keys:
            return []
        ids = [key["id"] for key in keys]
        variant = self.variant(context)
        query_key = (variant, connections[self.model._default_manager.db].vendor)
        query = self._queries.get(query_key)
        if query is None:
            query = self._queries[query_key] = KeyedQuery(self.row_queryset(variant))
        by_id = {row["id"]: row for row in query.fetch(ids)}
        return [by_id[pk] for pk in ids if pk in by_id]

    def prefetch(self, rows: list[Row], context: dict) -> None:
        """Attach to-many data to ``rows`` (one query per relation for the whole page)."""

    def render(self, row: Row, context: dict) -> dict:
        raise NotImplementedError

    def render_page(self, rows: list[Row], context: dict) -> list[dict]:
        """The page's items (``context`` from ``page_context``)."""
        if rows:
            self.prefetch(rows, context)
        return [self.render(row, context) for row in rows]


class KeysIn(Lookup):
    """``lhs IN keys`` with the whole list as one parameter: ``= ANY(%s)`` with an array on PostgreSQL,
    ``IN (SELECT value FROM json_each(%s))`` with a JSON list elsewhere (SQLite). One parameter whatever
    the page size keeps the SQL text constant: one prepared statement serves every page.
    ``filter(KeysIn(F("pk"), [...]))``."""

    lookup_name = "keys_in"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(self.rhs))  # noqa: S608

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Compared as the column's type, whatever array type psycopg sends the keys as (int2[] for small ones).
        return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", (*lhs_params, self.rhs)


class _PreparedCursor(ServerBindingCursor):
    """A server-side binding cursor whose statements PostgreSQL prepares (parses and plans) once per
    connection: a row query's text never changes, and planning it cost PostgreSQL more than running it.
    UUIDs load as their text, which is what the API writes (``render_uuid`` and ``str`` pass it
    through); timestamps by psycopg's own C loader where Django's Python loader would only set the same
    UTC ``tzinfo`` again."""

    def __init__(self, connection, utc: bool):
        super().__init__(connection)
        self.adapters.register_loader("uuid", TextLoader)
        if utc:
            self.adapters.register_loader("timestamptz", TimestamptzLoader)

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _row_cursor(connection):
    """A Django cursor (logged, wrapped, counted by ``assertNumQueries``) for a row query: on PostgreSQL
    over a ``_PreparedCursor``, elsewhere the usual one. As ``BaseDatabaseWrapper._cursor`` makes one."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_PreparedCursor(connection.connection, connection.timezone is datetime.UTC))


class KeyedQuery:
    """A ``values()`` queryset filtered to a list of primary keys (``KeysIn``), compiled to SQL once
    and run again with other keys, its rows converted as Django's ``ValuesIterable`` converts them.

    The SQL is compiled with a placeholder list (a negative key no row takes), expected exactly once
    among the parameters; ``fetch`` puts the real keys in its place. Everything else in the query must
    be constant: the row source builds it from class attributes and a variant.
    """

    _PLACEHOLDER = [-(2**62)]

    def __init__(self, queryset: QuerySet):
        queryset = queryset.filter(KeysIn(F("pk"), self._PLACEHOLDER))
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        self.postgresql = compiler.connection.vendor == "postgresql"
        marker = self._encode(self._PLACEHOLDER)
        found = [i for i, param in enumerate(params) if param == marker]
        if len(found) != 1:
            raise ImproperlyConfigured(f"{queryset.model.__name__}: the keys' place in the row query is ambiguous.")
        self.position = found[0]
        self.alias = queryset.db
        self.sql = sql
        self.params = list(params)
        # The columns' names as Django's ValuesIterable gives them to a values() row.
        self.names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        expressions = [column for column, _sql, _alias in compiler.select]  # one per name: no ordering, no extra
        self.converters = list(compiler.get_converters(expressions).items())

    def _encode(self, keys: list):
        return keys if self.postgresql else json.dumps(keys)

    def fetch(self, keys: Sequence) -> list[Row]:
        params = self.params.copy()
        params[self.position] = self._encode(list(keys))
        connection = connections[self.alias]
        with _row_cursor(connection) as cursor:
            cursor.execute(self.sql, params)
            data = cursor.fetchall()
        names = self.names
        if not self.converters:
            return [dict(zip(names, row, strict=True)) for row in data]
        rows = []
        for values in data:
            values = list(values)
            for position, (converters, expression) in self.converters:
                value = values[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                values[position] = value
            rows.append(dict(zip(names, values, strict=True)))
        return rows


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
    """The zone ``DateTimeField`` renders in (None without ``USE_TZ``: ``render_datetime`` then defers to it).
    UTC as ``datetime.UTC``, the zone of the datetimes read from the database: they then need no conversion."""
    if not settings.USE_TZ:
        return None
    tz = timezone.get_current_timezone()
    return datetime.UTC if getattr(tz, "key", None) == "UTC" else tz


def render_datetime(value, tz=None):
    """As ``DateTimeField`` renders it (ISO 8601 in the current time zone, ``Z`` for UTC); pass ``tz``
    (``current_timezone()``, once per page) to skip the field's per-value time zone lookup."""
    if value is None:
        return None
    if tz is None or value.tzinfo is None:
        return _DATETIME.to_representation(value)
    if value.tzinfo is not tz:
        value = value.astimezone(tz)
    text = value.isoformat()
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
