"""Checks shared by the row-source tests (``apps/api/rows.py``): a list page rendered from ``.values()``
rows must equal the output serializer's field-by-field rendering of the same objects, byte for byte."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer


def assert_rows_render_as_serializer(source, queryset, serializer_class, context):
    """``source``'s page of ``queryset`` equals ``serializer_class`` on the same objects, as JSON bytes.

    Returns the reference rendering, for further assertions on what the rows covered."""
    page_context = source.page_context(context)
    rows = source.rows(list(source.keys(queryset)), page_context)
    objects = list(queryset)
    assert [row["id"] for row in rows] == [obj.pk for obj in objects]
    fast = source.render_page(rows, page_context)
    reference = [serializer_class(obj, context=context).data for obj in objects]
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    return reference
