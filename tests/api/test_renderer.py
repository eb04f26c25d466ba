"""The API's orjson renderer writes what DRF's JSONRenderer writes (apps/api/renderers.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from apps.accounts.roles import OrgKind
from apps.api.renderers import ApiJSONRenderer


@dataclasses.dataclass
class _Point:
    x: int
    when: dt.date


def _both(data, media_type=None):
    return ApiJSONRenderer().render(data, media_type), JSONRenderer().render(data, media_type)


def test_the_types_drf_encodes_itself_come_out_as_drf_writes_them():
    data = {
        "id": uuid.UUID("8f31299d-753b-4aa8-bbe8-d11b4b4149d9"),
        "utc": dt.datetime(2026, 11, 26, 21, 0, 5, 120, tzinfo=dt.UTC),
        "whole_second": dt.datetime(2026, 11, 26, 21, 0, 5, tzinfo=dt.UTC),
        "zoned": dt.datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
        "naive": dt.datetime(2026, 1, 1, 0, 0),
        "day": dt.date(2026, 2, 28),
        "time": dt.time(9, 30, 0, 5),
        "span": dt.timedelta(hours=1, seconds=3),
        "price": Decimal("12.3400"),
        "label": gettext_lazy("Submitted"),
        "kind": OrgKind.VENDOR,
        "counts": {1: "one", 2: ["two", None, True, False]},
        "text": 'line\u2028separator\u2029paragraph, \u00e9t\u00e9, \U0001f600 and "quotes"',
        "nested": [{"a": [1, -2, 3.5]}, [], {}],
    }
    ours, drf = _both(data)
    assert ours == drf


def test_an_indented_response_and_an_integer_beyond_64_bits_are_rendered_by_drf():
    data = {"a": [1, {"b": None}]}
    ours, drf = _both(data, "application/json; indent=2")
    assert ours == drf and b"\n  " in ours
    ours, drf = _both({"big": 2**70})
    assert ours == drf == b'{"big":1180591620717411303424}'


def test_what_drf_cannot_encode_fails_the_same_way():
    with pytest.raises(TypeError, match="_Point is not JSON serializable"):
        ApiJSONRenderer().render({"point": _Point(3, dt.date(2026, 1, 2))})


def test_none_is_an_empty_body_and_a_non_finite_float_is_null():
    assert ApiJSONRenderer().render(None) == b""
    assert ApiJSONRenderer().render({"alpha": math.nan}) == b'{"alpha":null}'


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_any_json_data_renders_to_the_same_bytes(data):
    ours, drf = _both(data)
    assert ours == drf


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5))
def test_floats_render_to_the_same_values(values):
    # Both write the shortest round-tripping digits; only the exponent's spelling may differ (1e-07, 1e-7).
    ours, drf = _both(values)
    assert json.loads(ours) == json.loads(drf) == values
