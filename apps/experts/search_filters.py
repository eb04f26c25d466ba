"""Expert-search filters contributed by capabilities above experts in the layers.

Experts may not import, say, assessments; yet labs search experts by qualification. A capability
registers a ``SearchFilter`` in its ``AppConfig.ready()``; the search page adds one select per
registered filter and narrows the results to the user ids the filter returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SearchFilter:
    name: str  # the query parameter
    label: str
    choices: Callable[[], list[tuple[str, str]]]  # (value, label) pairs, computed per request
    user_ids: Callable[[str], frozenset[int] | None]  # None: the value names nothing (form error)


REGISTRY: dict[str, SearchFilter] = {}


def register(search_filter: SearchFilter) -> None:
    REGISTRY[search_filter.name] = search_filter
