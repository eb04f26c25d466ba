"""A list page's rows are read by their keys with a row query compiled once (``apps/api/rows.py``,
``RowSource.rows`` and ``KeyedQuery``); on PostgreSQL it is a prepared statement."""

from __future__ import annotations

import itertools
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from apps.api.rows import KeyedQuery, KeysIn
from apps.api.v1.projects.serializers import ProjectRows
from apps.projects.models import Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _keys(*projects):
    return [{"id": project.pk} for project in projects]


def test_rows_come_in_the_keys_order_from_one_query_compiled_once_per_variant():
    first, second, third = (ProjectFactory(title=f"P{n}") for n in range(3))
    source = ProjectRows()
    context = source.page_context({"lab_view": True})

    with CaptureQueriesContext(connection) as queries:
        page = source.rows(_keys(third, first, second), context)
    assert [row["title"] for row in page] == ["P2", "P0", "P1"]
    assert len(queries) == 1

    # Another page, of another size, reuses the compiled query; the other audience compiles its own.
    assert [row["title"] for row in source.rows(_keys(second), context)] == ["P1"]
    assert [row["title"] for row in source.rows(_keys(first, third), source.page_context({}))] == ["P0", "P2"]
    assert sorted(source._queries) == sorted([(False, connection.vendor), (True, connection.vendor)])
    assert "invited" in source.rows(_keys(first), context)[0]
    assert "invited" not in source.rows(_keys(first), source.page_context({}))[0]


def test_a_row_deleted_between_the_page_query_and_the_row_query_is_left_out():
    kept, gone = ProjectFactory(title="kept"), ProjectFactory(title="gone")
    keys = _keys(gone, kept)
    Project.objects.filter(pk=gone.pk).delete()
    assert [row["title"] for row in ProjectRows().rows(keys, ProjectRows().page_context({}))] == ["kept"]


def test_no_keys_no_query():
    with CaptureQueriesContext(connection) as queries:
        assert ProjectRows().rows([], ProjectRows().page_context({})) == []
    assert len(queries) == 0


def test_a_query_whose_keys_cannot_be_told_apart_is_refused():
    ambiguous = Project.objects.filter(KeysIn(F("pk"), KeyedQuery._PLACEHOLDER)).values("id")
    with pytest.raises(ImproperlyConfigured, match="ambiguous"):
        KeyedQuery(ambiguous)


def _numbered(sql: str) -> str:
    """``sql`` as PostgreSQL stores it once psycopg binds it on the server: ``$1``, ``$2``... for ``%s``."""
    count = itertools.count(1)
    return re.sub(r"%(s|%)", lambda m: f"${next(count)}" if m.group(1) == "s" else "%", sql)


def _executions(sql: str) -> list[int]:
    """How often this session ran each prepared statement of ``sql`` (other tests may have run it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement = %s",
            [_numbered(sql)],
        )
        return [count for (count,) in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_on_postgresql_the_row_query_is_prepared_once_and_reused():
    projects = [ProjectFactory() for _ in range(3)]
    source = ProjectRows()
    context = source.page_context({})
    source.rows(_keys(projects[0]), context)
    sql = source._queries[(False, "postgresql")].sql
    [before] = _executions(sql)
    for project in projects:
        assert source.rows(_keys(project), context)[0]["id"] == project.pk
    assert _executions(sql) == [before + 3]  # one statement, run again with each page's keys
