"""Helpers of the charges / webhooks / refunds / reconciliation tests: deliver signed Stripe events to our
endpoints the way Stripe does, and set up a paid lab charge against the emulator."""

from __future__ import annotations

from django.conf import settings

from apps.payments.emulator import EmulatorHandle

PLATFORM_URL = "/webhooks/stripe/platform/"
CONNECT_URL = "/webhooks/stripe/connect/"


def deliver(client, event: dict, *, connect: bool | None = None, secret: str | None = None, timestamp=None):
    """POST ``event`` signed with the endpoint's secret (or ``secret``); Connect events go to the Connect endpoint."""
    if connect is None:
        connect = bool(event.get("account"))
    if secret is None:
        secret = settings.STRIPE_CONNECT_WEBHOOK_SECRET if connect else settings.STRIPE_WEBHOOK_SECRET
    body, header = EmulatorHandle.signed(event, secret, timestamp=timestamp)
    return client.post(
        CONNECT_URL if connect else PLATFORM_URL, data=body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip


def deliver_events(client, capture, events, *, times: int = 1, reverse: bool = False):
    """Deliver each event ``times`` times (newest first with ``reverse``), running the queued processing."""
    ordered = list(reversed(events)) if reverse else list(events)
    responses = []
    for _ in range(times):
        for event in ordered:
            with capture(execute=True):
                responses.append(deliver(client, event))
    return responses


def events_for(emulator, types: list[str], *, object_id: str | None = None) -> list[dict]:
    """The emulator's events of these types (oldest first), about ``object_id`` when given."""
    found = []
    for event in emulator.events():
        if event["type"] not in types:
            continue
        obj = event["data"]["object"]
        if object_id and object_id not in (obj.get("id"), obj.get("payment_intent"), obj.get("charge")):
            continue
        found.append(event)
    return found


def confirm(client, capture, emulator, charge, *, times: int = 1):
    """Deliver Stripe's confirmation of ``charge`` (payment_intent.succeeded or invoice.paid) and reload it."""
    if charge.kind == "invoice":
        events = events_for(emulator, ["invoice.paid"], object_id=charge.stripe_invoice_id)
    else:
        events = events_for(emulator, ["payment_intent.succeeded"], object_id=charge.stripe_payment_intent_id)
    assert events, "Stripe sent no confirmation"
    deliver_events(client, capture, events, times=times)
    charge.refresh_from_db()
    return charge


def entries_of(source_type: str):
    from apps.ledger.models import JournalEntry

    return JournalEntry.objects.filter(source_type=source_type)


def legs_of(entry) -> dict[str, int]:
    from apps.ledger.models import Posting

    return {
        p.account.code.split(":")[0]: p.amount for p in Posting.objects.filter(entry=entry).select_related("account")
    }


def ledger_balances() -> bool:
    """Every entry's postings sum to zero per currency."""
    from django.db.models import Sum

    from apps.ledger.models import Posting

    sums = Posting.objects.values("entry_id", "currency").annotate(s=Sum("amount")).order_by()
    return all(row["s"] == 0 for row in sums)


def funded_run(emulator, lab, lab_owner, finance, client, capture, *, suppliers: int = 2, units=(10, 5)):
    """The money loop up to transfers: each supplier's contract is paid by the lab (a confirmed PaymentIntent
    of the contract's gross), its batches accepted and earned, a run created, approved and processed with each
    transfer funded by that charge (``source_transaction``). Returns (charges, run, [(vendor, owner, account)])."""
    import time as _time

    from zeal import zeal_ignore

    from apps.accounts.roles import Role
    from apps.payments.services import accounts, charges, payouts
    from tests.factories import OrganizationFactory, member
    from tests.payments.fixtures import make_batch, supplier_contract

    paid, people = [], []
    with zeal_ignore():
        for _ in range(suppliers):
            vendor = OrganizationFactory(kind="vendor")
            owner = member(vendor, Role.OWNER)
            contract = supplier_contract(lab, supplier=vendor)
            gross = sum(units) * 200  # 2.00 USD a unit
            charge = charges.start_charge(
                actor=lab_owner, lab=lab, kind="payment_intent", contract=contract, amount_minor=gross
            )
            paid.append(confirm(client, capture, emulator, charge))
            for n in units:
                make_batch(contract, units=n)
            account = accounts.connect_account(actor=owner, organization=vendor)
            onboarded = emulator.complete_onboarding(account.stripe_account_id)
            accounts.apply_account_update(account=onboarded, event_created=int(_time.time()))
            people.append((vendor, owner, account))
    from datetime import date

    run = payouts.create_run(actor=finance, period_start=date(2000, 1, 1), period_end=date(2100, 1, 1), currency="USD")
    run = payouts.approve_run(actor=finance, run=run)
    with capture(execute=True):
        payouts.process_run(actor=finance, run=run)
    run.refresh_from_db()
    return paid, run, people
