"""The main list endpoints take the same number of queries for a page of 1 and a page of 50.

Run over the permission-matrix world (tests/api/matrix_world.py) plus a few extra drafts so that the
project list has several rows; an N+1 shows as more queries for the bigger page. The quality score
list joins once ``apps/api/v1/quality`` serves it.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

from tests.api.matrix_world import build_world
from tests.factories import ProjectFactory


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True
        with atomic:
            world = build_world()
            for number in range(4):
                ProjectFactory(lab=world.lab_a, created_by=world.lab_a_owner, title=f"Extra draft {number}")
            yield world
            transaction.set_rollback(True)


def _count(client, url: str, page_size: int) -> tuple[int, int]:
    separator = "&" if "?" in url else "?"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{url}{separator}page_size={page_size}")
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries), len(response.json()["results"])


LISTS = [
    ("lab_a_owner", "/api/v1/projects/"),
    ("vendor_v_manager", "/api/v1/marketplace/"),
    ("vendor_v_manager", "/api/v1/bids/"),
    ("lab_a_owner", "/api/v1/projects/{project_id}/bids/"),
    ("lab_a_owner", "/api/v1/contracts/"),
    ("vendor_v_manager", "/api/v1/contracts/"),
    ("lab_a_owner", "/api/v1/contracts/{contract_id}/batches/"),
    ("vendor_v_manager", "/api/v1/contracts/{contract_id}/batches/"),
    ("lab_a_owner", "/api/v1/quality/scores/"),
]


@pytest.mark.parametrize(("persona", "path"), LISTS, ids=[f"{p}:{u}" for p, u in LISTS])
def test_a_page_of_50_takes_as_many_queries_as_a_page_of_1(world, db, persona, path):
    url = path.format(project_id=world.project.public_id, contract_id=world.contract.public_id)
    try:
        resolve(url)
    except Resolver404:
        pytest.skip(f"{url} is not served yet")
    client = APIClient()
    client.force_login(getattr(world, persona))

    small, small_rows = _count(client, url, 1)
    big, big_rows = _count(client, url, 50)

    assert small == big, f"{url}: {small} queries for 1 row, {big} for {big_rows} rows"
    assert small_rows <= 1
