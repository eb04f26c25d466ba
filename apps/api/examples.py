"""Examples in the OpenAPI schema: an error envelope for every documented error status of every
operation, and request bodies for the operations of a lab's and a supplier's main loop (docs/api.md).

Attached by ``ApiAutoSchema`` (apps/api/schema.py) by operation id, so views stay free of example
data. ``tests/api/test_schema_examples.py`` validates every example against the schema generated
from the serializers and fails on an operation id that no longer exists: an example cannot rot
silently.
"""

from __future__ import annotations

from .errors import envelope

ERROR_EXAMPLES: dict[str, tuple[str, dict]] = {
    "400": (
        "A field is invalid; nothing was changed",
        envelope(
            "invalid",
            "volume: Ensure this value is greater than or equal to 1.",
            {"volume": ["Ensure this value is greater than or equal to 1."]},
        ),
    ),
    "401": ("No valid credentials", envelope("authentication_failed", "Invalid or revoked API key.")),
    "403": (
        "The API key lacks the operation's scope",
        envelope(
            "missing_scope",
            "This API key lacks the scope 'projects:write' that this operation needs.",
            {"required_scope": "projects:write", "key_scopes": ["projects:read"]},
        ),
    ),
    "404": ("Not there, or not yours to see", envelope("project_not_found", "Project not found.")),
    "406": (
        "Only JSON is served",
        envelope("not_acceptable", "Could not satisfy the request Accept header."),
    ),
    "409": (
        "The object's state does not allow this",
        envelope("project_not_draft", "This project is open; only a draft can be edited."),
    ),
    "415": (
        "The body is not JSON",
        envelope("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    ),
    "422": (
        "The Idempotency-Key was used for another request",
        envelope(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request.",
            {"Idempotency-Key": ["Use a new key for a different request."]},
        ),
    ),
    "429": (
        "Over this key's request budget",
        envelope("throttled", "Request was throttled. Expected available in 12 seconds.", {"retry_after_seconds": 12}),
    ),
}

_UUID = "6f1c2a52-7d0e-4b8a-9c55-2f7d8f0e3a11"
_OTHER_UUID = "0b9e4c8d-1f2a-4e6b-8d3c-5a7f9e1b2c40"

# operation id -> (summary, request body)
REQUEST_EXAMPLES: dict[str, tuple[str, object]] = {
    "projects_create": (
        "A complete draft (only title is required)",
        {
            "title": "Radiology report preferences",
            "description": "Pairwise preferences between two draft radiology reports for the same study.",
            "task_type": "preference_comparison",
            "domain": "radiology",
            "required_credential_types": ["board_certification"],
            "unit_name": "comparison",
            "volume": 10000,
            "currency": "USD",
            "budget_cap": {"amount": "30000.00", "currency": "USD"},
            "target_unit_price": "2.4000",
            "sla_min_gold_accuracy": "0.85",
            "sla_min_alpha": "0.60",
            "sla_max_turnaround_days": 3,
            "bid_deadline": "2027-01-15T17:00:00Z",
            "starts_on": "2027-01-20",
            "ends_on": "2027-03-31",
            "visibility": "public",
            "show_bid_count": True,
        },
    ),
    "guidelines_publish": (
        "The first version",
        {"body_markdown": "# Guidelines\n\nPrefer the report that is **clinically correct**.", "change_summary": "v1"},
    ),
    "bids_create": (
        "A vendor's bid with its team",
        {
            "project": _UUID,
            "unit_price": "2.2500",
            "volume": 6000,
            "weekly_capacity": 1500,
            "starts_on": "2027-01-20",
            "ends_on": "2027-03-15",
            "proposal": "Twelve board-certified radiologists; 48-hour turnaround per batch.",
            "team": [_OTHER_UUID],
        },
    ),
    "projects_award": (
        "Split the volume between two bids",
        {
            "allocations": [{"bid": _UUID, "volume": 6000}, {"bid": _OTHER_UUID, "volume": 4000}],
            "note": "Split for capacity.",
        },
    ),
    "gold_upload": ("Hidden gold answers", [{"item_id": "q-001", "answer": "A"}, {"item_id": "q-002", "answer": "B"}]),
    "contracts_sign": (
        "Sign the terms you were shown",
        {"terms_hash": "9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d"},
    ),
    "batches_reject": (
        "Reject with evidence",
        {"reason": "low_gold_accuracy", "evidence": "Gold accuracy 0.62 on 50 gold items (SLA 0.85)."},
    ),
    "batches_partially_accept": (
        "Accept part of a batch",
        {"accepted_units": 450, "reason": "incomplete", "evidence": "50 items had no label."},
    ),
    "webhook_endpoints_create": (
        "Deliveries and payouts",
        {
            "url": "https://hooks.example.com/marketplace",
            "event_types": ["batch.submitted", "batch.accepted", "payout_run.completed"],
            "description": "Pipeline",
        },
    ),
    "organizations_api_keys_create": (
        "A scoped key for a pipeline",
        {
            "name": "pipeline",
            "expires_at": "2027-12-31T00:00:00Z",
            "scopes": ["projects:*", "bids:*", "work:*", "contracts:read", "quality:read"],
        },
    ),
}


def attach(operation: dict) -> None:
    """Add the examples that belong to ``operation`` (an OpenAPI operation object), in place."""
    request = REQUEST_EXAMPLES.get(operation.get("operationId", ""))
    content = operation.get("requestBody", {}).get("content", {})
    if request is not None and "application/json" in content:
        summary, value = request
        content["application/json"]["examples"] = {"example": {"summary": summary, "value": value}}
    for code, response in operation.get("responses", {}).items():
        example = ERROR_EXAMPLES.get(str(code))
        media = response.get("content", {}).get("application/json")
        if example is None or media is None or "examples" in media or "example" in media:
            continue
        summary, value = example
        media["examples"] = {"error": {"summary": summary, "value": value}}
