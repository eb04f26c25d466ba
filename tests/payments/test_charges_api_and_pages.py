"""Charges and reconciliation over the API and the pages: a lab pays, sees its payments and nobody else's;
finance refunds, reconciles, resolves and exports; everyone else gets 404."""

from __future__ import annotations

import pytest

from apps.payments.models import Charge, PayoutLine, ReconciliationException
from apps.payments.services import charges, reconciliation
from tests.payments.fixtures import supplier_contract
from tests.payments.stripe_events import confirm, funded_run


@pytest.fixture
def emulator(stripe_emulator, settings, db):
    stripe_emulator.set_webhook_delivery(False)
    settings.PLATFORM_FEE_BPS = 1000
    settings.PAYOUT_FOUR_EYES_LIMIT_MINOR = 10_000_000
    return stripe_emulator


def test_a_lab_pays_over_the_api_and_sees_only_its_own_charges(
    emulator, api_as, lab, lab_owner, lab_member, vendor_manager, outsider
):
    contract = supplier_contract(lab)
    response = api_as(lab_owner).post(
        "/api/v1/charges/",
        {"kind": "invoice", "contract": str(contract.public_id), "amount": {"amount": "120.50", "currency": "USD"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["purpose"] == "contract" and body["hosted_invoice_url"]
    assert body["amount"] == {"amount": "120.50", "currency": "USD"}

    listed = api_as(lab_member).get("/api/v1/charges/").json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]
    assert api_as(lab_member).post("/api/v1/charges/", {"kind": "invoice"}, format="json").status_code in (400, 403)
    assert api_as(vendor_manager).get("/api/v1/charges/").status_code == 404
    assert api_as(outsider).get(f"/api/v1/charges/{body['id']}/").status_code == 404

    bad = api_as(lab_owner).post("/api/v1/charges/", {"kind": "card", "amount": {"amount": "1", "currency": "USD"}},
                                 format="json")  # fmt: skip
    assert bad.status_code == 400 and "kind" in str(bad.json())
    assert Charge.objects.count() == 1


def test_finance_refunds_and_reconciles_over_the_api(
    emulator, api_as, lab, lab_owner, finance, client, django_capture_on_commit_callbacks
):
    paid, run, people = funded_run(emulator, lab, lab_owner, finance, client, django_capture_on_commit_callbacks,
                                   suppliers=1)  # fmt: skip
    charge = paid[0]
    api = api_as(finance)
    assert api.get("/api/v1/charges/").json()["results"][0]["id"] == str(charge.public_id)
    assert api_as(lab_owner).post(f"/api/v1/charges/{charge.public_id}/refund/", {}, format="json").status_code == 404
    too_much = api.post(f"/api/v1/charges/{charge.public_id}/refund/",
                        {"amount": {"amount": "31.00", "currency": "USD"}}, format="json")  # fmt: skip
    assert too_much.status_code == 400 and "amount" in str(too_much.json())
    refund = api.post(f"/api/v1/charges/{charge.public_id}/refund/",
                      {"amount": {"amount": "15.00", "currency": "USD"}, "reason": "half"}, format="json")  # fmt: skip
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded"

    line = PayoutLine.objects.get()
    PayoutLine.objects.filter(pk=line.pk).update(amount_minor=line.amount_minor + 1)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/v1/reconciliation-runs/", {"window_days": 2}, format="json")
    assert started.status_code == 202
    runs = api.get("/api/v1/reconciliation-runs/").json()["results"]
    assert runs[0]["status"] == "completed" and runs[0]["new_exception_count"] == 1
    exceptions = api.get("/api/v1/reconciliation-exceptions/?status=open").json()["results"]
    assert [e["kind"] for e in exceptions] == ["amount_mismatch"]

    unbalanced = api.post(
        f"/api/v1/reconciliation-exceptions/{exceptions[0]['id']}/resolve/",
        {"note": "fix", "currency": "USD", "legs": [{"account": "adjustments", "amount": 1}]}, format="json",
    )  # fmt: skip
    assert unbalanced.status_code == 400 and "legs" in str(unbalanced.json())
    resolved = api.post(
        f"/api/v1/reconciliation-exceptions/{exceptions[0]['id']}/resolve/",
        {"note": "Typo in our line", "currency": "USD",
         "legs": [{"account": "adjustments", "amount": 1}, {"account": "stripe_balance", "amount": -1}]},
        format="json",
    )  # fmt: skip
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["adjusting_entry"]
    csv_body = b"".join(api.get("/api/v1/reconciliation-exceptions/export/").streaming_content).decode()
    assert "amount_mismatch" in csv_body and "Typo in our line" in csv_body
    for path in ("/api/v1/reconciliation-runs/", "/api/v1/reconciliation-exceptions/"):
        assert api_as(lab_owner).get(path).status_code == 404


def test_the_billing_page_pays_a_milestone_and_lists_payments(emulator, client, lab, lab_owner, settings):
    from datetime import date

    from apps.contracts.models import Milestone

    settings.STRIPE_SECRET_KEY = ""
    contract = supplier_contract(lab)
    milestone = Milestone.objects.create(version=contract.current_version, position=1, title="Pilot", amount_minor=9_900,
                                         due_on=date(2026, 12, 1), acceptance_criteria="ok")  # fmt: skip
    client.force_login(lab_owner)
    page = client.get("/payments/billing/").content.decode()
    assert "Pilot" in page and "Local test mode" in page

    response = client.post("/payments/billing/pay/", {"milestone": str(milestone.public_id), "kind": "payment_intent"})
    assert response.status_code == 302
    charge = Charge.objects.get()
    assert (charge.milestone_id, charge.amount_minor, charge.status) == (milestone.pk, 9_900, "pending")
    page = client.get("/payments/billing/").content.decode()
    assert "Milestone: Pilot" in page and "No milestone awaits payment." in page

    client.post("/payments/billing/pay/", {"amount": "12.345", "currency": "USD", "kind": "invoice"})
    assert Charge.objects.count() == 1  # too many decimals: refused


def test_the_finance_dashboard_and_resolving_an_exception(emulator, client, lab, lab_owner, finance,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    charge = charges.start_charge(actor=lab_owner, lab=lab, kind="payment_intent", contract=supplier_contract(lab),
                                  amount_minor=5_000)  # fmt: skip
    confirm(client, django_capture_on_commit_callbacks, emulator, charge)
    Charge.objects.filter(pk=charge.pk).update(amount_minor=4_000)
    reconciliation.run_reconciliation(actor=finance)
    exception = ReconciliationException.objects.get()

    client.force_login(lab_owner)
    assert client.get("/finance/").status_code == 404
    assert client.get(f"/finance/reconciliation/exceptions/{exception.public_id}/").status_code == 404
    client.force_login(finance)
    page = client.get("/finance/").content.decode()
    assert "Amount mismatch" in page and "0-1 days: 1" in page and "stripe_balance" in page
    assert (
        client.post(
            f"/finance/reconciliation/exceptions/{exception.public_id}/", {"note": "Known; fixed upstream"}
        ).status_code
        == 302
    )
    exception.refresh_from_db()
    assert exception.status == "resolved" and exception.adjusting_entry is None
    assert b"Known; fixed upstream" in b"".join(client.get("/finance/reconciliation/exceptions.csv").streaming_content)
