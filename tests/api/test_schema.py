"""The OpenAPI schema: OpenAPI 3, every endpoint, documented errors and idempotency, no warnings."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

ENDPOINTS = {
    ("get", "/api/v1/me/"),
    ("get", "/api/v1/organizations/"),
    ("get", "/api/v1/organizations/{org_id}/"),
    ("get", "/api/v1/organizations/{org_id}/members/"),
    ("patch", "/api/v1/organizations/{org_id}/members/{member_id}/"),
    ("delete", "/api/v1/organizations/{org_id}/members/{member_id}/"),
    ("get", "/api/v1/organizations/{org_id}/invitations/"),
    ("post", "/api/v1/organizations/{org_id}/invitations/"),
    ("post", "/api/v1/organizations/{org_id}/invitations/{invitation_id}/revoke/"),
    ("post", "/api/v1/invitations/accept/"),
    ("get", "/api/v1/organizations/{org_id}/api-keys/"),
    ("post", "/api/v1/organizations/{org_id}/api-keys/"),
    ("post", "/api/v1/organizations/{org_id}/api-keys/{key_id}/revoke/"),
    # Workforce
    ("get", "/api/v1/experts/"),
    ("get", "/api/v1/experts/{expert_id}/"),
    ("get", "/api/v1/profile/"),
    ("patch", "/api/v1/profile/"),
    ("get", "/api/v1/credentials/"),
    ("post", "/api/v1/credentials/"),
    ("get", "/api/v1/credentials/queue/"),
    ("get", "/api/v1/credentials/{credential_id}/"),
    ("get", "/api/v1/credentials/{credential_id}/evidence/"),
    ("post", "/api/v1/credentials/{credential_id}/verify/"),
    ("post", "/api/v1/credentials/{credential_id}/reject/"),
    ("post", "/api/v1/credentials/{credential_id}/revoke/"),
    ("get", "/api/v1/credential-flags/"),
    ("post", "/api/v1/credential-flags/{flag_id}/resolve/"),
    ("get", "/api/v1/roster/"),
    ("post", "/api/v1/roster/invitations/"),
    ("post", "/api/v1/roster/{entry_id}/suspend/"),
    ("post", "/api/v1/roster/{entry_id}/reinstate/"),
    ("post", "/api/v1/roster/{entry_id}/offboard/"),
    ("get", "/api/v1/roster-memberships/"),
    ("post", "/api/v1/roster-memberships/{entry_id}/accept/"),
    ("post", "/api/v1/roster-memberships/{entry_id}/decline/"),
    ("get", "/api/v1/notifications/"),
    ("post", "/api/v1/notifications/{notification_id}/read/"),
    ("post", "/api/v1/notifications/read-all/"),
    ("get", "/api/v1/notifications/unread-count/"),
    ("get", "/api/v1/notification-preferences/"),
    ("put", "/api/v1/notification-preferences/"),
    # Projects and bidding
    ("get", "/api/v1/projects/"),
    ("post", "/api/v1/projects/"),
    ("get", "/api/v1/projects/{project_id}/"),
    ("patch", "/api/v1/projects/{project_id}/"),
    ("post", "/api/v1/projects/{project_id}/publish/"),
    ("post", "/api/v1/projects/{project_id}/close-bidding/"),
    ("post", "/api/v1/projects/{project_id}/start/"),
    ("post", "/api/v1/projects/{project_id}/complete/"),
    ("post", "/api/v1/projects/{project_id}/cancel/"),
    ("get", "/api/v1/projects/{project_id}/guidelines/"),
    ("post", "/api/v1/projects/{project_id}/guidelines/"),
    ("get", "/api/v1/projects/{project_id}/acknowledgements/"),
    ("post", "/api/v1/guidelines/{guideline_id}/acknowledge/"),
    ("get", "/api/v1/marketplace/"),
    ("get", "/api/v1/projects/{project_id}/questions/"),
    ("post", "/api/v1/projects/{project_id}/questions/"),
    ("post", "/api/v1/questions/{question_id}/answer/"),
    ("get", "/api/v1/bids/"),
    ("post", "/api/v1/bids/"),
    ("get", "/api/v1/bids/{bid_id}/"),
    ("post", "/api/v1/bids/{bid_id}/revise/"),
    ("post", "/api/v1/bids/{bid_id}/withdraw/"),
    ("post", "/api/v1/bids/{bid_id}/shortlist/"),
    ("post", "/api/v1/bids/{bid_id}/reject/"),
    ("get", "/api/v1/projects/{project_id}/bids/"),
    ("get", "/api/v1/projects/{project_id}/bid-comparison/"),
    ("post", "/api/v1/projects/{project_id}/award/"),
    # Contracts
    ("get", "/api/v1/contracts/"),
    ("get", "/api/v1/contracts/{contract_id}/"),
    ("post", "/api/v1/contracts/{contract_id}/sign/"),
    ("post", "/api/v1/contracts/{contract_id}/pause/"),
    ("post", "/api/v1/contracts/{contract_id}/resume/"),
    ("post", "/api/v1/contracts/{contract_id}/complete/"),
    ("post", "/api/v1/contracts/{contract_id}/terminate/"),
    ("get", "/api/v1/contracts/{contract_id}/versions/"),
    ("get", "/api/v1/contracts/{contract_id}/versions/{version_id}/"),
    ("get", "/api/v1/contracts/{contract_id}/amendments/"),
    ("post", "/api/v1/contracts/{contract_id}/amendments/"),
    ("get", "/api/v1/contracts/{contract_id}/milestones/"),
    ("post", "/api/v1/contracts/{contract_id}/nda/accept/"),
    ("get", "/api/v1/contracts/{contract_id}/gates/"),
    ("get", "/api/v1/contracts/{contract_id}/assignments/"),
    ("post", "/api/v1/contracts/{contract_id}/assignments/"),
    ("post", "/api/v1/contracts/{contract_id}/assignments/{assignment_id}/end/"),
    ("post", "/api/v1/contracts/{contract_id}/assignments/{assignment_id}/resume/"),
    # Work
    ("get", "/api/v1/projects/{project_id}/gold/"),
    ("post", "/api/v1/projects/{project_id}/gold/"),
    ("get", "/api/v1/contracts/{contract_id}/batches/"),
    ("post", "/api/v1/contracts/{contract_id}/batches/"),
    ("get", "/api/v1/batches/{batch_id}/"),
    ("post", "/api/v1/batches/{batch_id}/accept/"),
    ("post", "/api/v1/batches/{batch_id}/partially-accept/"),
    ("post", "/api/v1/batches/{batch_id}/reject/"),
    ("post", "/api/v1/batches/{batch_id}/appeal/"),
    ("get", "/api/v1/batches/{batch_id}/judgments/"),
    ("get", "/api/v1/batches/{batch_id}/datasheet/"),
    ("get", "/api/v1/appeals/"),
    ("post", "/api/v1/appeals/{appeal_id}/decide/"),
    # Assessments
    ("get", "/api/v1/tests/"),
    ("post", "/api/v1/tests/"),
    ("get", "/api/v1/tests/{test_id}/"),
    ("patch", "/api/v1/tests/{test_id}/"),
    ("get", "/api/v1/tests/{test_id}/items/"),
    ("post", "/api/v1/tests/{test_id}/items/"),
    ("post", "/api/v1/tests/{test_id}/publish/"),
    ("post", "/api/v1/tests/{test_id}/new-version/"),
    ("post", "/api/v1/tests/{test_id}/retire/"),
    ("post", "/api/v1/tests/{test_id}/attempts/"),
    ("get", "/api/v1/attempts/"),
    ("get", "/api/v1/attempts/{attempt_id}/"),
    ("post", "/api/v1/attempts/{attempt_id}/answers/"),
    ("post", "/api/v1/attempts/{attempt_id}/submit/"),
    ("get", "/api/v1/grading/"),
    ("post", "/api/v1/grading/{task_id}/score/"),
    ("get", "/api/v1/qualifications/"),
    ("post", "/api/v1/qualifications/{qualification_id}/revoke/"),
    ("get", "/api/v1/calibration-rounds/"),
    ("post", "/api/v1/calibration-rounds/"),
    ("get", "/api/v1/calibration-rounds/{round_id}/report/"),
    ("post", "/api/v1/calibration-rounds/{round_id}/close/"),
    ("put", "/api/v1/projects/{project_id}/qualification-test/"),
    # Integrations: webhooks and the event log
    ("get", "/api/v1/webhook-endpoints/"),
    ("post", "/api/v1/webhook-endpoints/"),
    ("get", "/api/v1/webhook-endpoints/{endpoint_id}/"),
    ("patch", "/api/v1/webhook-endpoints/{endpoint_id}/"),
    ("delete", "/api/v1/webhook-endpoints/{endpoint_id}/"),
    ("post", "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/"),
    ("post", "/api/v1/webhook-endpoints/{endpoint_id}/test/"),
    ("get", "/api/v1/webhook-deliveries/"),
    ("post", "/api/v1/webhook-deliveries/{delivery_id}/redeliver/"),
    ("get", "/api/v1/events/"),
    ("get", "/api/v1/payments/accounts/"),
    ("post", "/api/v1/payments/accounts/"),
    ("get", "/api/v1/earnings/"),
    ("get", "/api/v1/payout-runs/"),
    ("post", "/api/v1/payout-runs/"),
    ("get", "/api/v1/payout-runs/{run_id}/"),
    ("post", "/api/v1/payout-runs/{run_id}/approve/"),
    ("post", "/api/v1/payout-runs/{run_id}/process/"),
    ("post", "/api/v1/payout-runs/{run_id}/retry/"),
    ("get", "/api/v1/payout-runs/{run_id}/lines/"),
    ("get", "/api/v1/payout-runs/{run_id}/lines/export/"),
    ("get", "/api/v1/charges/"),
    ("post", "/api/v1/charges/"),
    ("get", "/api/v1/charges/{charge_id}/"),
    ("post", "/api/v1/charges/{charge_id}/refund/"),
    ("get", "/api/v1/reconciliation-runs/"),
    ("post", "/api/v1/reconciliation-runs/"),
    ("get", "/api/v1/reconciliation-exceptions/"),
    ("get", "/api/v1/reconciliation-exceptions/export/"),
    ("post", "/api/v1/reconciliation-exceptions/{exception_id}/resolve/"),
    ("get", "/api/v1/quality/scores/"),
    ("get", "/api/v1/quality/audits/"),
    ("get", "/api/v1/quality/runs/"),
    ("get", "/api/v1/quality/runs/{scoring_run_id}/"),
    ("get", "/api/v1/contracts/{contract_id}/quality/"),
    ("post", "/api/v1/contracts/{contract_id}/quality/recompute/"),
    ("get", "/api/v1/contracts/{contract_id}/consensus/"),
    ("get", "/api/v1/projects/{project_id}/vendor-benchmark/"),
    # Ledger (platform finance)
    ("get", "/api/v1/ledger/entries/"),
    ("get", "/api/v1/ledger/balances/"),
}
# Collections that are short fixed lists, not paginated.
UNPAGINATED = {"/api/v1/notification-preferences/"}
# Single objects whose paths end in "s/" (a contract's two milestone sets; one expert's unmet gates).
UNPAGINATED |= {"/api/v1/contracts/{contract_id}/milestones/", "/api/v1/contracts/{contract_id}/gates/"}
# The latest run's bias audits per contract: one short list, not paginated.
UNPAGINATED |= {"/api/v1/quality/audits/", "/api/v1/contracts/{contract_id}/consensus/"}  # consensus: streamed JSONL
# The ledger's balance sheet: one row per account, computed by one aggregate query.
UNPAGINATED |= {"/api/v1/ledger/balances/"}
# The acting supplier's one connected account (a single object).
UNPAGINATED |= {"/api/v1/payments/accounts/"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get(reverse("api-schema") + "?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def test_the_schema_is_openapi_3_and_lists_exactly_the_endpoints(schema):
    assert schema["openapi"].startswith("3.")
    assert {(m, p) for m, p, _ in operations(schema)} == ENDPOINTS


def test_the_schema_is_served_as_json_for_an_accept_header(db, api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_ids_in_paths_are_uuids(schema):
    for _method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, (path, parameter)


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for method, path, operation in operations(schema):
        expected = {"400", "401", "403", "404", "409", "429"}
        if method == "post":
            expected.add("422")
        assert expected <= set(operation["responses"]), (method, path)
        for code in expected:
            assert operation["responses"][code]["content"]["application/json"]["schema"] == envelope
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "details"}


def test_every_post_documents_the_idempotency_key_header(schema):
    for method, path, operation in operations(schema):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == (method == "post"), (method, path)


def test_list_operations_are_cursor_paginated(schema):
    for method, path, operation in operations(schema):
        if method == "get" and path.endswith("s/") and path not in UNPAGINATED:
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {"cursor", "page_size"} <= names, path


def test_filters_are_documented(schema):
    def params(path):
        return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}

    assert params("/api/v1/organizations/{org_id}/invitations/")["status"]["schema"]["enum"] == [
        "accepted",
        "expired",
        "pending",
        "revoked",
    ]
    assert "role" in params("/api/v1/organizations/{org_id}/members/")


def test_no_response_documents_a_secret_except_the_new_key(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            continue
        properties = set(component.get("properties", {}))
        assert not properties & {"token", "token_hash", "key_hash", "password"}, name
        if "key" in properties:
            assert name == "ApiKeyCreated"


def test_api_key_authentication_is_documented(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }


def test_no_serializer_exposes_all_fields():
    """Explicit allow-lists only: ``fields = "__all__"`` (or ``exclude``) is a mass-assignment hazard."""
    pattern = re.compile(r"""^\s*(fields\s*=\s*['"]__all__['"]|exclude\s*=)""")
    offenders = [
        f"{path}:{number}"
        for path in Path(settings.BASE_DIR, "apps").rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_spectacular_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(target))

    document = yaml.safe_load(target.read_text())
    assert document["openapi"].startswith("3.")
    assert len(document["paths"]) == len({p for _, p in ENDPOINTS})
