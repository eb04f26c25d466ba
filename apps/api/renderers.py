"""The API's JSON renderer: DRF's ``JSONRenderer`` output, encoded by orjson.

Encoding a 50-row list page (~40 KB) took DRF's ``json.dumps`` with its encoder class about 150 us and
orjson about 30 us, for the same bytes (docs/api.md, "Performance"). What orjson would write differently
from DRF's encoder is handed back to DRF: datetimes, dates, times and dataclasses go to the encoder's
``default`` (``Z`` for UTC, as DRF writes it), as does anything orjson does not know (``Decimal``,
lazy translations, ...); an indented response (``Accept: application/json; indent=2``) and an integer
orjson cannot hold (beyond 64 bits) are rendered by DRF itself. U+2028 and U+2029 are escaped as DRF
escapes them. One difference remains: a non-finite float (NaN, infinity), which DRF refuses with an
error, is written as ``null``; no serializer here produces one.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


class ApiJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if not self.compact or self.ensure_ascii or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = orjson.dumps(data, default=self._default, option=_OPTIONS)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: DRF's encoder writes it
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in text:  # the UTF-8 lead bytes of U+2028 and U+2029
            text = text.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return text

    _default = staticmethod(JSONRenderer.encoder_class().default)
