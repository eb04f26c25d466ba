"""Payments test helpers: accepted batches built directly, and an in-process fake of the gateway's
Connect calls (the unit tests' stand-in for Stripe; integration tests use the HTTP emulator)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone
from zeal import zeal_ignore

from apps.accounts.roles import OrgKind
from apps.payments import gateway
from apps.payments.models import ConnectedAccount
from apps.work.models import Judgment, WorkBatch
from tests.factories import ContractFactory, OrganizationFactory, UserFactory

NO_QUALITY_PAY = {"quality_pay": []}


def make_batch(contract, **kwargs):
    """A reviewed batch of ``contract``; ``judgments`` is [(annotator, count), ...]. Test setup in loops
    is not product code: zeal's N+1 check is off while building."""
    with zeal_ignore():
        return _make_batch(contract, **kwargs)


def _make_batch(contract, *, units=100, status="accepted", accepted_units=None, judgments=(), reviewed_at=None):
    now = reviewed_at or timezone.now()
    if accepted_units is None and status in ("accepted", "overturned"):
        accepted_units = units
    batch = WorkBatch.objects.create(
        contract=contract,
        contract_version=contract.current_version,
        client_batch_key=str(uuid.uuid4()),
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 7),
        unit_count=units,
        content_sha256="0" * 64,
        status=status,
        accepted_units=accepted_units,
        reviewed_at=now,
        review_due_at=now + timedelta(days=5),
    )
    n = itertools.count()
    Judgment.objects.bulk_create(
        Judgment(batch=batch, item_id=f"item-{next(n)}", annotator=annotator, label=0)
        for annotator, count in judgments
        for _ in range(count)
    )
    if judgments:
        WorkBatch.objects.filter(pk=batch.pk).update(judgment_count=sum(c for _, c in judgments))
    return batch


def supplier_contract(lab, **kwargs):
    with zeal_ignore():
        return _supplier_contract(lab, **kwargs)


def _supplier_contract(lab, *, supplier=None, rate="2.0000", currency="USD", **terms):
    supplier = supplier or OrganizationFactory(kind=OrgKind.VENDOR)
    return ContractFactory(
        project__lab=lab,
        lab=lab,
        supplier=supplier,
        terms={**NO_QUALITY_PAY, "unit_rate": rate, "currency": currency, **terms},
    )


def ready_account(organization, *, stripe_id=None) -> ConnectedAccount:
    return ConnectedAccount.objects.create(
        organization=organization,
        stripe_account_id=stripe_id or f"acct_{uuid.uuid4().hex[:16]}",
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        transfers_capability="active",
    )


@dataclass
class FakeConnect:
    """Stands in for Stripe's Connect calls: replays a repeated idempotency key like Stripe does.

    ``lose_next`` makes the next create_transfer create the transfer and then lose the response;
    ``crash_next`` creates it and then kills the "worker" (an exception nothing in the app catches);
    ``refuse`` maps a destination to an error code Stripe refuses it with."""

    transfers: dict[str, gateway.Transfer] = field(default_factory=dict)  # by idempotency key
    calls: list[dict] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # idempotency key -> account id
    lose_next: bool = False
    crash_next: bool = False
    refuse: dict[str, str] = field(default_factory=dict)

    def create_transfer(self, **kwargs):
        self.calls.append(kwargs)
        key = kwargs["idempotency_key"]
        if kwargs["destination"] in self.refuse:
            raise gateway.InvalidRequest(self.refuse[kwargs["destination"]], "Stripe refused the transfer.")
        if key not in self.transfers:
            self.transfers[key] = gateway.Transfer(
                id=f"tr_{uuid.uuid4().hex[:16]}",
                amount=kwargs["amount"],
                currency=kwargs["currency"].lower(),
                destination=kwargs["destination"],
                transfer_group=kwargs["transfer_group"],
                source_transaction=kwargs["source_transaction"],
                amount_reversed=0,
                reversed=False,
                metadata=kwargs["metadata"],
                destination_payment=None,
                created=timezone.now(),
            )
        if self.lose_next:
            self.lose_next = False
            raise gateway.GatewayUnavailable("timeout", "The response was lost.")
        if self.crash_next:
            self.crash_next = False
            raise WorkerKilled()
        return self.transfers[key]

    def create_connected_account(self, **kwargs):
        self.calls.append(kwargs)
        account_id = self.accounts.setdefault(kwargs["idempotency_key"], f"acct_{uuid.uuid4().hex[:16]}")
        return gateway.ConnectedAccount(
            id=account_id,
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            requirements_due=["external_account", "tos_acceptance.date"],
            disabled_reason="requirements.past_due",
            transfers_capability="inactive",
        )

    def create_account_link(self, *, account, refresh_url, return_url):
        return f"https://connect.stripe.test/setup/{account}"

    def unique_transfers(self) -> int:
        return len({t.id for t in self.transfers.values()})


class WorkerKilled(BaseException):
    """A worker dying mid-call: a BaseException, so no ``except Exception`` in the app swallows it."""


def install_fake(monkeypatch) -> FakeConnect:
    fake = FakeConnect()
    for name in ("create_transfer", "create_connected_account", "create_account_link"):
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake


def annotators(n):
    with zeal_ignore():
        return [UserFactory() for _ in range(n)]
