"""The permission matrix (shared/research/reliability_perf.md section 4): every operation of the
generated OpenAPI schema x every outside persona, each cell its own test.

The operations come from drf-spectacular's generator, so a new endpoint joins the matrix by itself.
Path parameters (and required query parameters) are filled by name with tenant A/V's objects (tests/api/matrix_world.py); a name the
world does not know gets a random UUID. Every request sends an empty body ({} as JSON, or an empty
multipart form when the operation accepts only multipart).

Per cell:
- anonymous: 401 (no operation is public by design: PUBLIC_BY_DESIGN is empty);
- lab B's owner, vendor W's manager, an outsider without any organisation: no 2xx on an operation
  whose path names one of tenant A/V's objects (except SHARED_BY_DESIGN), and none of tenant A/V's
  data in any response body (the project's title, the bid's price, the contract's terms hash, the
  gold item ids, the roster expert's name and e-mail);
- nobody ever gets a 5xx.

The world is built once per module inside a transaction that is rolled back at the end; each test
runs in a savepoint of it (pytest-django's ``db``), so a write that slips through is undone."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.api.matrix_world import build_world, path_value

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PERSONAS = ("anonymous", "other_lab_owner", "competitor_manager", "outsider")
# Operations anyone may call without logging in. None so far: every /api/v1/ operation needs a caller.
PUBLIC_BY_DESIGN: set[str] = set()
# Operations whose path names an object other tenants may read by design: {operation_id: why}. Their
# bodies are still scanned for tenant A/V's data (the expert's name and e-mail included).
SHARED_BY_DESIGN = {
    "experts_retrieve": "the expert directory: any lab or vendor member may look up a discoverable expert, "
    "by pseudonymous handle only (docs/api.md); name and e-mail only for the expert's own vendor",
}
# Cells where a persona is known to get what the tenant rule forbids: {(operation_id, persona): reason}.
# Application bugs, not fixed here; strict, so a fix turns the cell red until it is removed from this list.
KNOWN_BUGS: dict[tuple[str, str], str] = {}
# The schema had 99 operations when this was written: a floor well above zero so an enumeration that
# breaks (a wrong generator call, a changed URLconf) cannot pass with an empty or tiny matrix.
MIN_OPERATIONS = 99


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            params = [
                p["name"] for p in item.get("parameters", []) + operation.get("parameters", []) if p["in"] == "path"
            ]
            query = [
                p["name"]
                for p in item.get("parameters", []) + operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            ]
            content = list(operation.get("requestBody", {}).get("content", {}))
            multipart = bool(content) and "application/json" not in content and "multipart/form-data" in content
            found.append(
                {
                    "id": operation["operationId"],
                    "method": method,
                    "path": path,
                    "params": params,
                    "query": query,
                    "multipart": multipart,
                }
            )
    return found


OPERATIONS = _operations()


def test_the_matrix_covers_every_operation_of_the_schema():
    assert len(OPERATIONS) >= MIN_OPERATIONS, [op["id"] for op in OPERATIONS]
    assert len({op["id"] for op in OPERATIONS}) == len(OPERATIONS), "operation ids must be unique"
    assert PUBLIC_BY_DESIGN | set(SHARED_BY_DESIGN) <= {op["id"] for op in OPERATIONS}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    # Like django.test.TestCase.setUpTestData: the module's transaction is marked as a test case's so
    # the services' durable atomic blocks may nest inside it; it is rolled back, never committed.
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True
        with atomic:
            yield build_world()
            transaction.set_rollback(True)


def _request(client, operation, world):
    url = operation["path"]
    for name in operation["params"]:
        url = url.replace("{" + name + "}", path_value(name, world.ids))
    if operation["query"]:
        url += "?" + urlencode({name: path_value(name, world.ids) for name in operation["query"]})
    if operation["method"] == "get":
        return client.get(url)
    send = getattr(client, operation["method"])
    if operation["multipart"]:
        return send(url, {}, format="multipart")
    return send(url, {}, format="json")


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", errors="replace")


def _cells():
    for operation in OPERATIONS:
        for persona in PERSONAS:
            bug = KNOWN_BUGS.get((operation["id"], persona))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(operation, persona, id=f"{operation['id']}-{persona}", marks=marks)


@pytest.mark.parametrize(("operation", "persona"), list(_cells()))
def test_cell(world, db, operation, persona):
    client = APIClient()
    if persona != "anonymous":
        client.force_login(world.personas[persona])

    response = _request(client, operation, world)
    status = response.status_code
    body = _body(response)
    cell = f"{operation['method'].upper()} {operation['path']} as {persona}: {status} {body[:300]!r}"

    assert status < 500, cell
    if persona == "anonymous":
        if operation["id"] not in PUBLIC_BY_DESIGN:
            assert status == 401, cell
        return
    if operation["params"] and operation["id"] not in SHARED_BY_DESIGN:
        assert not 200 <= status < 300, cell
    leaked = [secret for secret in world.secrets if secret in body]
    assert not leaked, f"{cell}\nleaked: {leaked}"


def test_the_world_s_ids_are_real_for_its_own_people(world, db):
    """The control: tenant A/V's own people (and operations and finance staff) get a 2xx on every GET that names the
    world's objects, and between them see every id the matrix sends, so the other tenants' refusals
    above are refusals, not typos in the world."""
    insiders = (
        world.lab_a_owner,
        world.lab_a_admin,
        world.vendor_v_manager,
        world.expert,
        world.operations,
        world.finance,
    )
    clients = []
    for user in insiders:
        client = APIClient()
        client.force_login(user)
        clients.append(client)
    unreachable, seen = [], ""
    for operation in OPERATIONS:
        if operation["method"] != "get":
            continue
        statuses = []
        for client in clients:
            response = _request(client, operation, world)
            statuses.append(response.status_code)
            if 200 <= response.status_code < 300:
                seen += _body(response)
        if operation["params"] and not any(200 <= status < 300 for status in statuses):
            unreachable.append((operation["id"], statuses))
    assert not unreachable, unreachable
    assert not [name for name, value in world.ids.items() if value not in seen]
