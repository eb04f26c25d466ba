"""Payments over the API and the pages: scoped reads, finance-only runs, CSV export, test-mode banner."""

from datetime import date

import pytest

from apps.payments.models import PayoutRun
from apps.payments.services.earnings import accrue_earnings
from tests.payments.fixtures import install_fake, make_batch, ready_account, supplier_contract


@pytest.fixture(autouse=True)
def fee(settings):
    settings.PLATFORM_FEE_BPS = 1000


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


@pytest.fixture
def work(lab, vendor):
    contract = supplier_contract(lab, supplier=vendor)
    make_batch(contract, units=10)
    ready_account(vendor)
    accrue_earnings()
    return contract


def test_a_supplier_connects_over_the_api_and_gets_an_onboarding_link(fake, api_as, vendor, vendor_manager):
    client = api_as(vendor_manager)
    assert client.get("/api/v1/payments/accounts/").json()["account"] is None

    response = client.post("/api/v1/payments/accounts/", {}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["onboarding_url"].startswith("https://connect.stripe.test/setup/acct_")
    assert body["can_receive_transfers"] is False and body["missing"]
    again = client.post("/api/v1/payments/accounts/", {}, format="json").json()
    assert again["account"]["id"] == body["account"]["id"]


def test_the_supplier_and_the_lab_see_the_earning_and_others_do_not(api_as, work, vendor_manager, lab_member, outsider):
    supplier_view = api_as(vendor_manager).get("/api/v1/earnings/").json()["results"]
    assert [(e["gross"], e["fee"], e["net"]) for e in supplier_view] == [
        (
            {"amount": "20.00", "currency": "USD"},
            {"amount": "2.00", "currency": "USD"},
            {"amount": "18.00", "currency": "USD"},
        )
    ]
    assert len(api_as(lab_member).get("/api/v1/earnings/").json()["results"]) == 1
    assert api_as(outsider).get("/api/v1/earnings/").json()["results"] == []


def test_finance_runs_the_payout_over_the_api(api_as, work, finance, vendor_manager, fake):
    client = api_as(finance)
    created = client.post(
        "/api/v1/payout-runs/",
        {"period_start": "2000-01-01", "period_end": "2100-01-01", "currency": "USD"},
        format="json",
    )
    assert created.status_code == 201, created.content
    run_id = created.json()["id"]
    assert created.json()["total"] == {"amount": "18.00", "currency": "USD"}

    assert client.post(f"/api/v1/payout-runs/{run_id}/process/").status_code == 409
    assert client.post(f"/api/v1/payout-runs/{run_id}/approve/").json()["status"] == "approved"
    lines = client.get(f"/api/v1/payout-runs/{run_id}/lines/").json()["results"]
    assert [line["amount"]["amount"] for line in lines] == ["18.00"]

    export = client.get(f"/api/v1/payout-runs/{run_id}/lines/export/")
    text = b"".join(export.streaming_content).decode()
    assert export["Content-Type"].startswith("text/csv") and "18.00,USD" in text

    for other in (vendor_manager,):
        assert api_as(other).get(f"/api/v1/payout-runs/{run_id}/").status_code == 404
        assert api_as(other).post(f"/api/v1/payout-runs/{run_id}/approve/").status_code == 404


def test_bad_run_input_names_the_field(api_as, finance):
    response = api_as(finance).post(
        "/api/v1/payout-runs/", {"period_start": "2025-02-01", "period_end": "x", "currency": "USD"}, format="json"
    )
    assert response.status_code == 400
    assert "period_end" in str(response.json())
    assert not PayoutRun.objects.exists()


def test_finance_pages_show_the_run_and_the_local_test_mode_banner(client, work, finance, fake, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(finance)
    response = client.post(
        "/finance/payouts/", {"period_start": date(2000, 1, 1), "period_end": date(2100, 1, 1), "currency": "USD"}
    )
    run = PayoutRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/finance/payouts/{run.public_id}/")
    page = client.get(f"/finance/payouts/{run.public_id}/").content.decode()
    assert "18.00 USD" in page and "Approve" in page
    assert ("Local test mode" in page) is __import__("apps.payments.gateway").payments.gateway.is_local_emulator()
    assert client.get("/finance/payouts/").status_code == 200


def test_non_finance_users_do_not_see_finance_pages(client, vendor_manager):
    client.force_login(vendor_manager)
    assert client.get("/finance/payouts/").status_code == 404


def test_the_supplier_pages(client, work, vendor_manager, expert):
    client.force_login(vendor_manager)
    assert "Ready for payouts" in client.get("/payments/account/").content.decode()
    assert "18.00 USD" in client.get("/payments/earnings/").content.decode()
    assert client.get("/payments/statement/").status_code == 200
    client.force_login(expert)
    assert client.get("/payments/account/").status_code == 403
    assert client.get("/payments/statement/").status_code == 200
