"""The Stripe webhook inbox: verify, store once, process later.

- ``receive`` verifies the signature on the RAW body with the endpoint's own secret (a bad signature, a stale
  timestamp, a missing secret: ``gateway.SignatureInvalid``, nothing stored), stores the event once by id
  (unique ``event_id``; a duplicate is a no-op) and schedules ``process_event`` after commit.
- ``process_event`` runs the handler for the type. Handlers are idempotent and order-independent: payments and
  invoices are re-read from the gateway (``charges.sync_charge``), accounts and payouts compare the event's
  ``created`` with the object's ``last_event_created``, refunds compare Stripe's ``amount_refunded`` with what
  is booked, and every ledger entry has a deterministic key. A handler that raises leaves the event unprocessed
  with ``last_error``; the task retries it, and the back-fill sweeps what is left.
- ``livemode`` must match the key in use (``sk_live_``); a mismatching event is stored and marked processed
  with a note, never acted on.
- ``backfill_events`` lists the last days' events (the platform's and each connected account's) and stores the
  ones that never arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import GRANTS, Perm
from apps.core.events import EVENT_TYPES, emit
from apps.core.money import Money
from apps.notifications.services import notify_many
from apps.payments import gateway
from apps.payments.models import Charge, ConnectedAccount, ConnectedPayout, StripeEvent

from . import charges as charge_services
from . import refunds as refund_services

logger = logging.getLogger(__name__)

PLATFORM = StripeEvent.Source.PLATFORM
CONNECT = StripeEvent.Source.CONNECT
BACKFILL_DAYS = 3
MAX_ATTEMPTS = 8


def _secret(source: str) -> str:
    if source == CONNECT:
        return settings.STRIPE_CONNECT_WEBHOOK_SECRET
    return settings.STRIPE_WEBHOOK_SECRET


def _livemode_expected() -> bool:
    return str(getattr(settings, "STRIPE_SECRET_KEY", "")).startswith(("sk_live_", "rk_live_"))


def _schedule(event: StripeEvent) -> None:
    from apps.payments.tasks_webhooks import process_stripe_event

    transaction.on_commit(lambda: process_stripe_event.delay(event.pk))


def store_event(*, event: dict[str, Any], source: str) -> tuple[StripeEvent, bool]:
    """Store ``event`` once by id; schedule its processing when this call stored it."""
    defaults = {
        "type": str(event.get("type", ""))[:100],
        "account": str(event.get("account") or "")[:255],
        "livemode": bool(event.get("livemode", False)),
        "api_version": str(event.get("api_version") or "")[:40],
        "created": int(event.get("created") or 0),
        "payload": event,
        "source": source,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored, created = StripeEvent.objects.get_or_create(event_id=str(event["id"]), defaults=defaults)
        except IntegrityError:  # a concurrent delivery of the same event stored it first
            return StripeEvent.objects.get(event_id=str(event["id"])), False
        if created:
            _schedule(stored)
    return stored, created


def receive(*, payload: bytes, signature: str, source: str) -> tuple[StripeEvent, bool]:
    """Verify and store one webhook delivery. Raises ``gateway.SignatureInvalid`` (nothing stored)."""
    event = gateway.construct_event(payload, signature, _secret(source))
    if source == CONNECT and not event.get("account"):
        raise gateway.SignatureInvalid("payload_invalid", "A Connect event names its account.", http_status=400)
    return store_event(event=event, source=source)


# --- Processing ---------------------------------------------------------------------------------------------


def process_event(*, event_id: int) -> bool:
    """Run the handler of a stored event once. True when it is processed (now or before)."""
    event = StripeEvent.objects.filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return True
    StripeEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    note = ""
    try:
        if event.livemode != _livemode_expected():
            note = f"Ignored: livemode={event.livemode} does not match the configured key."
        else:
            handler = HANDLERS.get(event.type)
            if handler is None:
                note = "No handler for this type."
            else:
                note = handler(event, event.payload.get("data", {}).get("object", {})) or ""
    except Exception as exc:  # noqa: BLE001 - stored on the event and retried; nothing is lost
        logger.exception("Stripe event %s (%s) failed", event.event_id, event.type)
        StripeEvent.objects.filter(pk=event.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:2000])
        return False
    StripeEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), last_error=note[:2000]
    )
    return True


def process_pending(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Process events left unprocessed (a lost task, a handler error), oldest first, a bounded number of tries."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("created", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if process_event(event_id=pk))


def backfill_events(*, days: int = BACKFILL_DAYS) -> int:
    """Store events of the last ``days`` that never arrived (the platform's and each connected account's)."""
    since = timezone.now() - timedelta(days=days)
    stored = 0
    accounts: list[str | None] = [None, *ConnectedAccount.objects.values_list("stripe_account_id", flat=True)]
    for account in accounts:
        for event in gateway.list_events(created_gte=since, account=account):
            if account and not event.get("account"):
                event = {**event, "account": account}
            if StripeEvent.objects.filter(event_id=event["id"]).exists():
                continue
            _, created = store_event(event=event, source=StripeEvent.Source.BACKFILL)
            stored += int(created)
    return stored


# --- Handlers -----------------------------------------------------------------------------------------------


def _charge_for(obj: dict[str, Any], **ids: str | None) -> Charge | None:
    metadata = obj.get("metadata") or {}
    return charge_services.find_charge(public_id=metadata.get("charge"), **ids)


def on_payment_intent(event: StripeEvent, obj: dict[str, Any]) -> str:
    charge = _charge_for(obj, payment_intent=obj.get("id"))
    if charge is None:
        return "No charge of ours."
    if charge.stripe_payment_intent_id is None:
        Charge.objects.filter(pk=charge.pk).update(stripe_payment_intent_id=obj.get("id"))
        charge.refresh_from_db()
    error = (obj.get("last_payment_error") or {}).get("message", "") if event.type.endswith("failed") else ""
    charge_services.sync_charge(charge=charge, failure_hint=error)
    return ""


def on_invoice(event: StripeEvent, obj: dict[str, Any]) -> str:
    charge = _charge_for(obj, invoice=obj.get("id"))
    if charge is None:
        return "No charge of ours."
    if charge.stripe_invoice_id is None:
        Charge.objects.filter(pk=charge.pk).update(stripe_invoice_id=obj.get("id"))
        charge.refresh_from_db()
    hint = "An attempt to pay the invoice failed." if event.type == "invoice.payment_failed" else ""
    charge_services.sync_charge(charge=charge, failure_hint=hint)
    return ""


def on_charge_refunded(event: StripeEvent, obj: dict[str, Any]) -> str:
    charge = charge_services.find_charge(charge=obj.get("id"), payment_intent=obj.get("payment_intent"))
    if charge is None:
        return "No charge of ours."
    if charge.status == Charge.Status.PENDING:
        charge = charge_services.sync_charge(charge=charge)
    if not charge.stripe_charge_id:
        raise RuntimeError("The charge is not confirmed yet; retry later.")
    refund_services.sync_refunds(charge=charge)
    return ""


def on_dispute(event: StripeEvent, obj: dict[str, Any]) -> str:
    from apps.ledger import services as ledger

    charge = charge_services.find_charge(charge=obj.get("charge"), payment_intent=obj.get("payment_intent"))
    if charge is None:
        return "No charge of ours."
    if charge.status == Charge.Status.PENDING:
        charge = charge_services.sync_charge(charge=charge)
    amount = int(obj.get("amount") or 0)
    # Stripe's dispute fee is on the dispute's balance transaction(s); the platform bears both.
    fee = sum(int(txn.get("fee") or 0) for txn in obj.get("balance_transactions") or [] if isinstance(txn, dict))
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status in (Charge.Status.SUCCEEDED, Charge.Status.PARTIALLY_REFUNDED):
            from apps.core.transitions import transition

            transition(locked, Charge.Status.DISPUTED, reason=str(obj.get("reason", ""))[:200])
        if amount + fee:
            ledger.post(
                description=f"Dispute {obj.get('id')} on {locked.stripe_charge_id} (fee {fee})"[:500],
                currency=locked.currency,
                legs=[
                    ledger.Leg(ledger.account("dispute_losses", currency=locked.currency), amount + fee),
                    ledger.Leg(ledger.account("stripe_balance", currency=locked.currency), -(amount + fee)),
                ],
                idempotency_key=f"dispute:{obj.get('id')}",
                source_type="payments.dispute",
                source_id=str(obj.get("id")),
            )
        notify_many(
            recipients=User.objects.filter(staff_role="finance", is_active=True),
            kind="charge.disputed",
            title=f"A charge of {Money(amount or locked.amount_minor, locked.currency)} is disputed",
            body=f"{locked.description} ({locked.stripe_charge_id}): {obj.get('reason', '')}",
            url="/finance/",
        )
    return ""


def on_account_updated(event: StripeEvent, obj: dict[str, Any]) -> str:
    from .accounts import apply_account_update

    # Re-read the account: two updates in the same second cannot be ordered by ``created``, the current state can.
    current: Any = obj
    try:
        current = gateway.retrieve_account(str(obj.get("id")))
    except gateway.InvalidRequest:
        pass
    stored = apply_account_update(account=current, event_created=event.created)
    return "" if stored is not None else "Unknown connected account."


def on_transfer(event: StripeEvent, obj: dict[str, Any]) -> str:
    """Transfers are recorded by the payout job (the line stores ``tr_`` in the same transaction as its entry)
    and reversals by the refund flow; reconciliation compares amounts. The event is a memo."""
    from apps.payments.models import PayoutLine

    line = PayoutLine.objects.filter(stripe_transfer_id=obj.get("id")).first()
    if line is None:
        ref = (obj.get("metadata") or {}).get("payout_line")
        return f"Transfer not recorded yet (line {ref})." if ref else "Not a transfer of ours."
    return ""


def _supplier_holders(account: ConnectedAccount | None) -> list[User]:
    if account is None:
        return []
    org = account.organization
    roles = GRANTS.get(Perm.PAYMENTS_MANAGE, {}).get(org.kind, set())
    return list(User.objects.filter(memberships__organization=org, memberships__role__in=roles, is_active=True))


def upsert_payout(
    *, payout: dict[str, Any] | gateway.Payout, account_id: str, event_created: int
) -> tuple[ConnectedPayout, bool]:
    """Mirror a connected payout; an older event than the last applied is ignored. Returns (payout, became_failed)."""

    def get(name: str) -> Any:
        return payout.get(name) if isinstance(payout, dict) else getattr(payout, name)

    arrival = get("arrival_date")
    if isinstance(arrival, int):
        from datetime import UTC, datetime

        arrival = datetime.fromtimestamp(arrival, tz=UTC).date()
    account = ConnectedAccount.objects.filter(stripe_account_id=account_id).select_related("organization").first()
    values = {
        "account": account,
        "stripe_account_id": account_id,
        "amount_minor": int(get("amount")),
        "currency": str(get("currency")).upper(),
        "status": str(get("status")),
        "arrival_date": arrival,
        "failure_code": get("failure_code") or "",
        "automatic": bool(get("automatic")),
        "last_event_created": event_created,
    }
    with transaction.atomic():
        stored = ConnectedPayout.objects.select_for_update().filter(stripe_payout_id=get("id")).first()
        if stored is None:
            try:
                with transaction.atomic():
                    stored = ConnectedPayout.objects.create(stripe_payout_id=get("id"), **values)
                return stored, stored.status == "failed"
            except IntegrityError:
                stored = ConnectedPayout.objects.select_for_update().get(stripe_payout_id=get("id"))
        if event_created < stored.last_event_created:
            return stored, False
        was = stored.status
        for key, value in values.items():
            setattr(stored, key, value)
        stored.save()
        return stored, was != "failed" and stored.status == "failed"


def on_payout(event: StripeEvent, obj: dict[str, Any]) -> str:
    account_id = event.account or obj.get("destination") or ""
    # Re-read the payout: ``payout.created`` and ``payout.paid`` often share a second, so ``created`` cannot order them.
    current: Any = obj
    try:
        current = gateway.retrieve_payout(str(obj.get("id")), account=account_id)
    except gateway.InvalidRequest:
        pass
    with transaction.atomic():
        payout, became_failed = upsert_payout(payout=current, account_id=account_id, event_created=event.created)
        if became_failed:
            _payout_failed(payout)
    return ""


def _payout_failed(payout: ConnectedPayout) -> None:
    account = payout.account
    amount = Money(payout.amount_minor, payout.currency)
    if account is not None and "payout.failed" in EVENT_TYPES:
        emit(
            "payout.failed",
            obj=payout,
            organization_ids=[account.organization_id],
            data={
                "stripe_payout": payout.stripe_payout_id,
                "amount": amount.format_amount(),
                "currency": payout.currency,
                "error_code": payout.failure_code,
            },
        )
    notify_many(
        recipients=_supplier_holders(account),
        kind="payout.failed",
        title=f"Stripe could not pay {amount} out to your bank",
        body=(
            f"Stripe's reason: {payout.failure_code or 'unknown'}. The money is back in your Stripe balance; "
            "update your bank details in Stripe and it is paid out again."
        ),
        url="/payments/account/",
    )


HANDLERS: dict[str, Callable[[StripeEvent, dict[str, Any]], str | None]] = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "invoice.paid": on_invoice,
    "invoice.payment_failed": on_invoice,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute,
    "account.updated": on_account_updated,
    "transfer.created": on_transfer,
    "transfer.reversed": on_transfer,
    "payout.created": on_payout,
    "payout.updated": on_payout,
    "payout.paid": on_payout,
    "payout.failed": on_payout,
}
