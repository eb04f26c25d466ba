"""Refunds to labs and the transfer reversals they cause.

Decisions:
- Finance refunds through ``refund_charge`` (key ``refund:<public id>``, stored before the call); a refund made
  in Stripe's dashboard arrives as ``charge.refunded`` and is recorded by ``sync_refunds`` as an external refund
  (key ``refund:external:<ch_>:<amount_refunded>``), so a refund is booked once whichever way it came.
- Policy: a refund takes back the same FRACTION of every transfer the charge funded (payout lines whose
  ``source_transaction`` is the charge). The total to reverse is ``floor(refund x transferred / charge)`` and it
  is split over the transfers by largest remainder (``Money.allocate``), each capped at what is still unreversed.
  One reversal per (refund, line), key ``reversal:<refund>:<line>`` stored before the call, so a retry never
  reverses twice. A reversal Stripe refuses stays ``failed`` with the reason (and shows in reconciliation).
- Postings: the refund Dr ``refund_losses`` / Cr ``stripe_balance`` (a prepaid top-up: Dr ``lab_prepaid``);
  each reversal Dr ``stripe_balance`` / Cr ``refund_losses`` (the money recovered from the supplier reduces the
  loss). ``lab_receivable`` and ``payee_payable`` are not touched, so they still clear; the platform's net loss
  is its fee share and Stripe's fee. Finance reclassifies with an adjusting entry when another policy applies.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.policies import require_staff
from apps.accounts.roles import Perm, StaffRole
from apps.core.errors import DomainError, ValidationFailed
from apps.core.money import Money
from apps.core.transitions import transition
from apps.notifications.services import notify_many
from apps.payments import gateway
from apps.payments.models import Charge, PayoutLine, Refund, TransferReversal

from .charges import _holders

logger = logging.getLogger(__name__)

C = Charge.Status


def refundable(charge: Charge) -> int:
    return charge.amount_minor - charge.amount_refunded_minor


def refund_charge(*, actor: User, charge: Charge, amount_minor: int | None = None, reason: str = "") -> Refund:
    """Finance refunds ``amount_minor`` (default: all that is left) of a succeeded charge to the lab, then
    reverses the related transfers. Refused: a charge not succeeded, an amount above what is left."""
    require_staff(actor, StaffRole.FINANCE)
    if charge.status not in (C.SUCCEEDED, C.PARTIALLY_REFUNDED, C.DISPUTED) or not charge.stripe_charge_id:
        raise DomainError("Only a paid charge can be refunded.", code="charge_not_refundable")
    left = refundable(charge)
    if amount_minor is None:
        amount_minor = left
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or not 0 < amount_minor <= left:
        raise ValidationFailed(
            f"Refund between 1 and {left} minor units.", details={"amount": [f"Between 1 and {left}."]}
        )
    public_id = uuid.uuid4()
    refund = Refund.objects.create(
        public_id=public_id,
        charge=charge,
        amount_minor=amount_minor,
        currency=charge.currency,
        reason=(reason or "")[:300],
        idempotency_key=f"refund:{public_id}",
        created_by=actor,
    )
    return send_refund(refund=refund)


def send_refund(*, refund: Refund) -> Refund:
    """Call Stripe for a pending refund with its stored key (a retry replays), then book and reverse."""
    if refund.status == Refund.Status.PENDING:
        try:
            remote = gateway.create_refund(
                charge=refund.charge.stripe_charge_id,
                amount=refund.amount_minor,
                reason="requested_by_customer",
                idempotency_key=refund.idempotency_key,
            )
        except gateway.GatewayError as exc:
            if not exc.retryable:
                transition(refund, Refund.Status.FAILED, extra_updates={"error": exc.message})
                raise DomainError(f"Stripe refused the refund: {exc.message}", code=exc.code or "refund_failed")
            Refund.objects.filter(pk=refund.pk).update(error=exc.message, updated_at=timezone.now())
            raise DomainError(
                "Stripe did not answer; the refund is kept and will be retried with the same key.",
                code="stripe_unavailable",
            ) from exc
        refund = book_refund(refund=refund, stripe_refund_id=remote.id)
    reverse_transfers(refund=refund)
    refund.refresh_from_db()
    return refund


def book_refund(*, refund: Refund, stripe_refund_id: str | None) -> Refund:
    """Mark the refund succeeded, update the charge and post the refund entry, once."""
    from apps.ledger import services as ledger

    with transaction.atomic():
        charge = Charge.objects.select_for_update().select_related("lab").get(pk=refund.charge_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == Refund.Status.SUCCEEDED:
            return refund
        transition(refund, Refund.Status.SUCCEEDED, extra_updates={"stripe_refund_id": stripe_refund_id})
        refunded = charge.amount_refunded_minor + refund.amount_minor
        target = C.REFUNDED if refunded >= charge.amount_minor else C.PARTIALLY_REFUNDED
        if charge.status == C.DISPUTED or charge.status == target:
            Charge.objects.filter(pk=charge.pk).update(amount_refunded_minor=refunded, updated_at=timezone.now())
        else:
            transition(charge, target, extra_updates={"amount_refunded_minor": refunded})
        debit = f"lab_prepaid:{charge.lab.public_id}" if charge.is_prepaid else "refund_losses"
        ledger.post(
            description=f"Refund to lab of {charge.stripe_charge_id}"[:500],
            currency=charge.currency,
            legs=[
                ledger.Leg(ledger.account(debit, currency=charge.currency), refund.amount_minor),
                ledger.Leg(ledger.account("stripe_balance", currency=charge.currency), -refund.amount_minor),
            ],
            idempotency_key=f"refund:{refund.public_id}",
            source_type="payments.refund",
            source_id=stripe_refund_id or str(refund.public_id),
        )
        notify_many(
            recipients=_holders(charge.lab, Perm.CONTRACTS_SIGN),
            kind="charge.refunded",
            title=f"{Money(refund.amount_minor, charge.currency)} refunded",
            body=charge.description,
            url="/payments/billing/",
        )
    return refund


def plan_reversals(refund: Refund) -> list[tuple[PayoutLine, int]]:
    """(line, amount) to reverse for this refund: the refund's fraction of each funded transfer."""
    charge = refund.charge
    lines = list(
        PayoutLine.objects.filter(
            source_transaction=charge.stripe_charge_id, status=PayoutLine.Status.PAID, stripe_transfer_id__isnull=False
        ).order_by("id")
    )
    if not lines:
        return []
    reversed_by_line = dict(
        TransferReversal.objects.filter(line__in=lines, status=TransferReversal.Status.SUCCEEDED)
        .values_list("line_id")
        .annotate(s=Sum("amount_minor"))
        .order_by()
    )
    amounts = reversal_amounts(
        refund_minor=refund.amount_minor,
        charge_minor=charge.amount_minor,
        transfers=[(line.amount_minor, reversed_by_line.get(line.pk, 0)) for line in lines],
        currency=charge.currency,
    )
    return [(line, amount) for line, amount in zip(lines, amounts, strict=True) if amount > 0]


def reversal_amounts(
    *, refund_minor: int, charge_minor: int, transfers: list[tuple[int, int]], currency: str
) -> list[int]:
    """The policy as arithmetic: for transfers [(amount, already reversed)] funded by a charge, how much to reverse
    from each for a refund: ``floor(refund x transferred / charge)`` split by largest remainder in proportion to
    the transfers, each capped at what is still unreversed. Never more than the refund, never negative."""
    if not transfers or charge_minor <= 0 or refund_minor <= 0:
        return [0] * len(transfers)
    transferred = sum(amount for amount, _ in transfers)
    total = min(refund_minor * transferred // charge_minor, transferred, refund_minor)
    if total <= 0:
        return [0] * len(transfers)
    parts = Money(total, currency).allocate([amount for amount, _ in transfers])
    return [max(0, min(part.minor, amount - done)) for part, (amount, done) in zip(parts, transfers, strict=True)]


def reverse_transfers(*, refund: Refund) -> list[TransferReversal]:
    """Create (once) and send the reversals of a succeeded refund. Idempotent and resumable."""
    if refund.status != Refund.Status.SUCCEEDED:
        return []
    if not refund.reversals.exists():
        with transaction.atomic():
            Refund.objects.select_for_update().get(pk=refund.pk)
            if not refund.reversals.exists():
                TransferReversal.objects.bulk_create(
                    TransferReversal(
                        refund=refund,
                        line=line,
                        stripe_transfer_id=line.stripe_transfer_id,
                        amount_minor=amount,
                        currency=line.currency,
                        idempotency_key=f"reversal:{refund.public_id}:{line.public_id}",
                    )
                    for line, amount in plan_reversals(refund)
                )
    done = []
    for reversal in refund.reversals.filter(
        status__in=[TransferReversal.Status.PENDING, TransferReversal.Status.FAILED]
    ):
        done.append(send_reversal(reversal=reversal))
    return done


def send_reversal(*, reversal: TransferReversal) -> TransferReversal:
    from apps.ledger import services as ledger

    try:
        remote = gateway.create_transfer_reversal(
            transfer=reversal.stripe_transfer_id,
            amount=reversal.amount_minor,
            metadata={"refund": str(reversal.refund.public_id), "payout_line": str(reversal.line.public_id)},
            idempotency_key=reversal.idempotency_key,
        )
    except gateway.GatewayError as exc:
        logger.warning("Transfer reversal %s failed: %s", reversal.public_id, exc.message)
        if reversal.status == TransferReversal.Status.PENDING and not exc.retryable:
            transition(reversal, TransferReversal.Status.FAILED, extra_updates={"error": exc.message})
        else:
            TransferReversal.objects.filter(pk=reversal.pk).update(error=exc.message, updated_at=timezone.now())
        reversal.refresh_from_db()
        return reversal
    with transaction.atomic():
        moved = transition(
            reversal, TransferReversal.Status.SUCCEEDED, extra_updates={"stripe_reversal_id": remote.id, "error": ""}
        )
        if moved:
            ledger.post(
                description=f"Transfer reversal {remote.id} of {reversal.stripe_transfer_id}"[:500],
                currency=reversal.currency,
                legs=[
                    ledger.Leg(ledger.account("stripe_balance", currency=reversal.currency), reversal.amount_minor),
                    ledger.Leg(ledger.account("refund_losses", currency=reversal.currency), -reversal.amount_minor),
                ],
                idempotency_key=f"reversal:{reversal.public_id}",
                source_type="payments.transfer_reversal",
                source_id=remote.id,
            )
    return reversal


def sync_refunds(*, charge: Charge) -> list[Refund]:
    """``charge.refunded``: re-read the charge from Stripe; refunds we did not make ourselves (Stripe's
    dashboard) are recorded and booked as an external refund for the difference. Idempotent."""
    remote = gateway.retrieve_charge(charge.stripe_charge_id)
    made: list[Refund] = []
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        ours = (
            Refund.objects.filter(charge=locked)
            .exclude(status=Refund.Status.FAILED)
            .aggregate(s=Sum("amount_minor"))["s"]
            or 0
        )
        missing = remote.amount_refunded - ours
        if missing > 0:
            refund, created = Refund.objects.get_or_create(
                idempotency_key=f"refund:external:{locked.stripe_charge_id}:{remote.amount_refunded}",
                defaults={
                    "charge": locked,
                    "amount_minor": missing,
                    "currency": locked.currency,
                    "reason": "Refunded in Stripe",
                },
            )
            made.append(refund)
    for refund in made:
        refund = book_refund(refund=refund, stripe_refund_id=None)
        reverse_transfers(refund=refund)
    # Our own refunds whose reversals are still due (a crash after the refund): finish them.
    for refund in Refund.objects.filter(charge=charge, status=Refund.Status.SUCCEEDED):
        reverse_transfers(refund=refund)
    return made
