"""The ledger API: journal entries and balances, for platform finance with a session only."""

import pytest

from apps.accounts import services as account_services
from apps.accounts.models import Membership
from apps.accounts.roles import Role
from apps.ledger.services import reverse

ENTRIES = "/api/v1/ledger/entries/"
BALANCES = "/api/v1/ledger/balances/"


def test_finance_reads_entries_with_their_postings(books, finance, api_as, codes):
    accepted, paid = books

    response = api_as(finance).get(ENTRIES)

    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["results"]] == [str(paid.public_id), str(accepted.public_id)]
    first = body["results"][1]
    assert first["source_type"] == "batch"
    assert [(p["account"], p["amount"], p["amount_minor"]) for p in first["postings"]] == [
        (codes.receivable, {"amount": "100.00", "currency": "USD"}, 10_000),
        (codes.payable, {"amount": "-85.00", "currency": "USD"}, -8_500),
        ("platform_fee_revenue", {"amount": "-15.00", "currency": "USD"}, -1_500),
    ]
    assert first["postings"][1]["account_kind"] == "liability"
    assert first["reverses"] is None and first["reversed_by"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("account=stripe_fees", ["paid:1"]),
        ("source_type=batch", ["accept:1"]),
        ("source_type=lab_charge&source_id=ch_1", ["paid:1"]),
        ("occurred_from=2026-03-02", ["paid:1"]),
        ("occurred_to=2026-03-01", ["accept:1"]),
        ("occurred_from=2026-03-01&occurred_to=2026-03-05", ["paid:1", "accept:1"]),
        ("currency=EUR", []),
    ],
)
def test_finance_filters_entries(books, finance, api_as, query, expected):
    response = api_as(finance).get(f"{ENTRIES}?{query}")

    assert response.status_code == 200
    assert [e["idempotency_key"] for e in response.json()["results"]] == expected


def test_a_bad_filter_is_a_400_naming_it(books, finance, api_as):
    response = api_as(finance).get(f"{ENTRIES}?occurred_from=2026-03-05&occurred_to=2026-03-01")
    bad_date = api_as(finance).get(f"{ENTRIES}?occurred_from=yesterday")

    assert response.status_code == 400
    assert "occurred_to" in response.json()["error"]["details"]
    assert bad_date.status_code == 400
    assert "occurred_from" in bad_date.json()["error"]["details"]


def test_an_entry_shows_its_reversal_and_the_reversal_what_it_reverses(books, finance, api_as):
    _accepted, paid = books
    reversal = reverse(entry=paid, reason="Duplicate", idempotency_key="rev:1")

    results = api_as(finance).get(f"{ENTRIES}?source_id=ch_1").json()["results"]

    by_id = {e["id"]: e for e in results}
    assert by_id[str(paid.public_id)]["reversed_by"] == str(reversal.public_id)
    assert by_id[str(reversal.public_id)]["reverses"] == str(paid.public_id)


def test_entries_are_cursor_paginated(books, finance, api_as):
    client = api_as(finance)
    first = client.get(f"{ENTRIES}?page_size=1").json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == len(second["results"]) == 1
    assert first["results"][0]["id"] != second["results"][0]["id"]


def test_finance_reads_balances_with_clearing_accounts_flagged(books, finance, api_as, codes):
    response = api_as(finance).get(f"{BALANCES}?currency=USD")

    assert response.status_code == 200
    body = response.json()
    rows = {row["account"]: row for row in body["balances"]}
    assert rows["stripe_balance"]["balance"] == {"amount": "96.80", "currency": "USD"}
    assert rows["platform_fee_revenue"]["balance"] == {"amount": "-15.00", "currency": "USD"}
    assert rows["platform_fee_revenue"]["natural_balance"] == {"amount": "15.00", "currency": "USD"}
    assert rows[codes.receivable]["balance"]["amount"] == "0.00"
    assert rows[codes.receivable]["needs_attention"] is False
    assert rows[codes.payable]["needs_attention"] is True  # the supplier is not paid yet
    assert rows[codes.payable]["organization"] is not None
    assert body["balances"][0]["kind"] == "asset"


def test_balances_as_of_a_day(books, finance, api_as, codes):
    body = api_as(finance).get(f"{BALANCES}?as_of=2026-03-01").json()

    rows = {row["account"]: row for row in body["balances"]}
    assert body["as_of"] == "2026-03-01"
    assert rows[codes.receivable]["balance"]["amount"] == "100.00"
    assert rows["stripe_balance"]["balance"]["amount"] == "0.00"


def test_balances_by_prefix(books, finance, api_as, codes):
    body = api_as(finance).get(f"{BALANCES}?prefix=payee_payable").json()

    assert [row["account"] for row in body["balances"]] == [codes.payable]


@pytest.mark.parametrize("who", ["operations", "lab_owner", "outsider"])
@pytest.mark.parametrize("path", [ENTRIES, BALANCES])
def test_anyone_but_finance_gets_404(books, request, api_as, who, path):
    response = api_as(request.getfixturevalue(who)).get(path)

    assert response.status_code == 404
    assert "Work accepted" not in response.content.decode()


@pytest.mark.parametrize("path", [ENTRIES, BALANCES])
def test_anonymous_gets_401(books, api_client, path):
    assert api_client.get(path).status_code == 401


def test_an_api_key_never_carries_finance_powers(books, finance, lab, api_client):
    # a finance user who is also a lab member creates a key: the key acts as the member, not as finance
    Membership.objects.create(user=finance, organization=lab, role=Role.OWNER)
    _key, raw = account_services.api_key_create(actor=finance, organization=lab, name="ci", scopes=["*"])

    for path in (ENTRIES, BALANCES):
        response = api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 404, path
