"""Connected accounts: created once per supplier, mirrored from account.updated (newest wins)."""

import pytest

from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.core.models import AuditEvent
from apps.payments.models import ConnectedAccount
from apps.payments.services import accounts
from tests.payments.fixtures import install_fake


@pytest.fixture
def fake(monkeypatch):
    return install_fake(monkeypatch)


def test_a_vendor_connects_once_with_a_deterministic_key(fake, vendor, vendor_manager):
    account = accounts.connect_account(actor=vendor_manager, organization=vendor)
    again = accounts.connect_account(actor=vendor_manager, organization=vendor)

    assert again.pk == account.pk
    assert ConnectedAccount.objects.count() == 1
    assert [c["idempotency_key"] for c in fake.calls] == [f"acct:{vendor.public_id}"]
    assert fake.calls[0]["business_type"] == "company"
    assert AuditEvent.objects.filter(action="connected_account.created").count() == 1
    ok, reasons = accounts.can_receive_transfers(vendor)
    assert not ok and any("external_account" in r for r in reasons)


def test_labs_and_vendor_experts_cannot_connect(fake, lab, lab_owner, vendor, expert, outsider):
    with pytest.raises(PermissionDenied):
        accounts.connect_account(actor=lab_owner, organization=lab)
    with pytest.raises(PermissionDenied):
        accounts.connect_account(actor=expert, organization=vendor)
    with pytest.raises(NotFound):
        accounts.connect_account(actor=outsider, organization=vendor)
    assert not fake.calls and not ConnectedAccount.objects.exists()


def test_a_lab_is_not_a_supplier(fake, lab, lab_owner, monkeypatch):
    monkeypatch.setattr(accounts, "require", lambda *a, **k: None)
    with pytest.raises(DomainError) as err:
        accounts.connect_account(actor=lab_owner, organization=lab)
    assert err.value.code == "not_a_supplier"


def test_onboarding_link_creates_the_account_first(fake, vendor, vendor_manager):
    url = accounts.onboarding_link(
        actor=vendor_manager, organization=vendor, refresh_url="http://x/r", return_url="http://x/d"
    )
    assert url.endswith(ConnectedAccount.objects.get().stripe_account_id)


def test_account_updates_apply_newest_first_and_ignore_stale_ones(fake, vendor, vendor_manager):
    account = accounts.connect_account(actor=vendor_manager, organization=vendor)
    enabled = {
        "id": account.stripe_account_id,
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements": {"currently_due": [], "past_due": [], "disabled_reason": None},
        "capabilities": {"transfers": "active"},
    }
    stale = {**enabled, "payouts_enabled": False, "requirements": {"currently_due": ["external_account"]}}

    accounts.apply_account_update(account=enabled, event_created=200)
    accounts.apply_account_update(account=stale, event_created=100)  # delivered late

    account.refresh_from_db()
    assert account.payouts_enabled and account.requirements_due == [] and account.last_event_created == 200
    assert accounts.can_receive_transfers(vendor) == (True, [])
    assert accounts.apply_account_update(account={**enabled, "id": "acct_unknown"}, event_created=300) is None
