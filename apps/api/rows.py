"""List pages read as ``.values()`` rows and rendered by plain functions (docs/api.md, "Performance").

A list endpoint's cost on a 50-row page was mostly Django building model instances (the row, each
``select_related`` object, each prefetched object) and DRF walking ~30 fields per row. A ``RowSource``
instead asks the database for exactly the columns the output needs, as dicts, with to-one relations
joined in the same query (``lab__name``) and to-many relations fetched by one keyed query per page
(``prefetch``), whatever the page size. ``render`` turns one row into the resource's JSON; a test per
resource asserts it equals the output serializer's field-by-field rendering, which still defines the
OpenAPI schema and renders single objects.

Cursor pagination works unchanged on dict rows (it reads the ordering field from the last row).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers

from apps.core.money import Money

Row = dict[str, Any]


class RowSource:
    """How one resource's list page is read and rendered. Subclasses set ``fields`` and ``render``.

    ``fields``: the ``values()`` expressions, including the model's ``id`` (keys for ``prefetch``) and
    every field the pagination orders by. ``annotate`` adds per-row aggregates to the list query;
    ``prefetch`` attaches to-many data to the page's rows with one query each.
    """

    fields: Sequence[str] = ()

    def annotate(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def values(self, queryset: QuerySet) -> QuerySet:
        # select_related is ignored by values(); prefetches would run on dicts, so they are dropped.
        return self.annotate(queryset.prefetch_related(None)).values(*self.fields)

    def prefetch(self, rows: list[Row], context: dict) -> None:
        """Attach to-many data to ``rows`` (one query per relation for the whole page)."""

    def render(self, row: Row, context: dict) -> dict:
        raise NotImplementedError

    def render_page(self, rows: list[Row], context: dict) -> list[dict]:
        """The page's items. ``context`` gains ``tz``, the zone datetimes render in (looked up once)."""
        context = {**context, "tz": current_timezone()}
        if rows:
            self.prefetch(rows, context)
        return [self.render(row, context) for row in rows]


def group_by(items: Iterable[Row], key: str) -> dict[Any, list[Row]]:
    """``{row[key]: [rows...]}`` in the order given (for a keyed to-many lookup)."""
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for item in items:
        grouped[item[key]].append(item)
    return grouped


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
    return None if minor is None else {"amount": Money(minor, currency).format_amount(), "currency": currency}
