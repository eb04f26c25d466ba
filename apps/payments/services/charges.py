"""Lab charges: a lab pays a milestone, a contract or a prepaid top-up through Stripe.

Decisions:
- The ``Charge`` row, with its deterministic key ``charge:<public id>``, is committed BEFORE Stripe is
  called; a retry (``resume_charge``) calls again with the same key, so Stripe replays instead of charging twice.
- Nothing is posted when the PaymentIntent or invoice is created, even when the PaymentIntent answers
  ``succeeded`` at once: the ledger entry is posted only when Stripe's confirmation arrives
  (``payment_intent.succeeded`` / ``invoice.paid``). The handler never trusts the event body: it re-reads the
  intent or invoice, its charge and the charge's balance transaction from the gateway, so duplicates and
  out-of-order events (a ``payment_failed`` after a success) converge on Stripe's current state.
- Entry on confirmation (key ``charge:<public id>:succeeded``): Dr ``stripe_balance`` net, Dr ``stripe_fees`` fee,
  Cr ``lab_receivable:<lab>`` amount (milestone or contract) or Cr ``lab_prepaid:<lab>`` (a top-up).
- A prepaid balance pays receivables when finance applies it (``apply_prepaid``): Dr ``lab_prepaid`` / Cr
  ``lab_receivable``. It is never applied automatically, because a lab's prepayment may be meant for a contract
  that is not signed yet.
- ``source_charge_for(line)``: the oldest succeeded milestone/contract charge of the lab on a contract behind the
  line (same currency) whose amount, less refunds and less the lines already funded by it, still covers the
  line. Prepaid top-ups are not used as a ``source_transaction``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require, require_staff
from apps.accounts.roles import GRANTS, OrgKind, Perm, StaffRole
from apps.core.errors import DomainError, ValidationFailed
from apps.core.money import SUPPORTED_CURRENCIES, Money
from apps.core.transitions import transition
from apps.notifications.services import notify_many
from apps.payments import gateway
from apps.payments.models import BillingCustomer, Charge, Earning, PayoutLine

logger = logging.getLogger(__name__)

C = Charge.Status
TEST_PAYMENT_METHOD = "pm_card_visa"
INVOICE_DAYS_UNTIL_DUE = 30
BALANCE_TXN_SCAN_LIMIT = 5000


def _holders(organization: Organization, perm: str) -> list[User]:
    roles = GRANTS.get(perm, {}).get(organization.kind, set())
    return list(
        User.objects.filter(memberships__organization=organization, memberships__role__in=roles, is_active=True)
    )


def _finance_users() -> list[User]:
    return list(User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True).order_by("id"))


def billing_url() -> str:
    return "/payments/billing/"


# --- Starting a payment -------------------------------------------------------------------------------------


def _customer_for(lab: Organization, actor: User) -> str:
    existing = BillingCustomer.objects.filter(lab=lab).first()
    if existing is not None:
        return existing.stripe_customer_id
    customer = gateway.create_customer(
        email=actor.email,
        name=lab.name,
        metadata={"lab": str(lab.public_id)},
        idempotency_key=f"customer:{lab.public_id}",
    )
    stored, _ = BillingCustomer.objects.get_or_create(lab=lab, defaults={"stripe_customer_id": customer.id})
    return stored.stripe_customer_id


def start_charge(
    *,
    actor: User,
    lab: Organization,
    kind: str,
    contract: Any = None,
    milestone: Any = None,
    amount_minor: int | None = None,
    currency: str | None = None,
    payment_method: str = TEST_PAYMENT_METHOD,
    description: str = "",
) -> Charge:
    """A lab owner or admin (``contracts.sign``) starts a payment: of a milestone (its amount and currency),
    of a contract (an amount), or a prepaid top-up (no contract). ``kind`` is ``payment_intent`` (charged at
    once with ``payment_method``) or ``invoice`` (a one-off invoice the lab pays on Stripe's hosted page).
    Returns the charge: ``pending`` until Stripe confirms, ``failed`` on a decline (``failure_code``)."""
    require(actor, lab, Perm.CONTRACTS_SIGN)
    errors: dict[str, list[str]] = {}
    if lab.kind != OrgKind.LAB:
        raise DomainError("Only a lab pays for work.", code="not_a_lab")
    if kind not in Charge.Kind.values:
        errors["kind"] = [f"One of: {', '.join(Charge.Kind.values)}."]
    if milestone is not None:
        version = milestone.version
        if contract is not None and contract.pk != version.contract_id:
            errors["milestone"] = ["This milestone belongs to another contract."]
        contract = version.contract
        if amount_minor is not None and amount_minor != milestone.amount_minor:
            errors["amount"] = [f"A milestone is paid in full: {milestone.amount_minor} minor units."]
        amount_minor = milestone.amount_minor
        currency = version.currency
        if Charge.objects.filter(milestone=milestone, status__in=[C.PENDING, C.SUCCEEDED]).exists():
            errors["milestone"] = ["This milestone already has a payment pending or paid."]
    if contract is not None:
        if contract.lab_id != lab.pk:
            raise DomainError("Not a contract of this lab.", code="contract_not_found")
        contract_currency = contract.current_version.currency if contract.current_version_id else currency
        if currency and contract_currency and currency.upper() != contract_currency.upper():
            errors["currency"] = [f"The contract is in {contract_currency}."]
        currency = currency or contract_currency
    currency = str(currency or "").upper()
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = [f"One of: {', '.join(SUPPORTED_CURRENCIES)}."]
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        errors.setdefault("amount", ["A positive whole number of minor units."])
    if errors:
        raise ValidationFailed("The payment is not valid.", details=errors)

    if not description:
        if milestone is not None:
            description = f"Milestone {milestone.position}: {milestone.title}"
        elif contract is not None:
            description = f"Contract {contract.project.title}"
        else:
            description = "Prepaid balance top-up"
    public_id = uuid.uuid4()
    with transaction.atomic():
        charge = Charge.objects.create(
            public_id=public_id,
            lab=lab,
            contract=contract,
            milestone=milestone,
            kind=kind,
            description=description[:300],
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=f"charge:{public_id}",
            transfer_group=f"CHARGE-{public_id}",
            created_by=actor,
        )
    return resume_charge(charge=charge, actor=actor, payment_method=payment_method)


def resume_charge(*, charge: Charge, actor: User | None = None, payment_method: str = TEST_PAYMENT_METHOD) -> Charge:
    """Call Stripe for a pending charge that has no Stripe object yet, with the stored key (a retry after a
    network error replays the first attempt). Idempotent."""
    if charge.status != C.PENDING or charge.stripe_payment_intent_id or charge.stripe_invoice_id:
        return charge
    metadata = {"charge": str(charge.public_id), "lab": str(charge.lab.public_id)}
    if charge.contract_id:
        metadata["contract"] = str(charge.contract.public_id)
    try:
        customer = charge.stripe_customer_id or _customer_for(charge.lab, actor or charge.created_by)
        Charge.objects.filter(pk=charge.pk).update(stripe_customer_id=customer, updated_at=timezone.now())
        charge.stripe_customer_id = customer
        if charge.kind == Charge.Kind.PAYMENT_INTENT:
            intent = gateway.create_payment_intent(
                customer=customer,
                amount=charge.amount_minor,
                currency=charge.currency,
                payment_method=payment_method,
                transfer_group=charge.transfer_group,
                metadata=metadata,
                idempotency_key=charge.idempotency_key,
            )
            Charge.objects.filter(pk=charge.pk).update(
                stripe_payment_intent_id=intent.id, stripe_charge_id=intent.latest_charge, updated_at=timezone.now()
            )
        else:
            invoice = gateway.create_invoice(
                customer=customer,
                lines=[(charge.description, charge.amount_minor)],
                currency=charge.currency,
                metadata=metadata,
                days_until_due=INVOICE_DAYS_UNTIL_DUE,
                idempotency_key=charge.idempotency_key,
            )
            Charge.objects.filter(pk=charge.pk).update(
                stripe_invoice_id=invoice.id,
                hosted_invoice_url=invoice.hosted_invoice_url or "",
                updated_at=timezone.now(),
            )
    except gateway.CardDeclined as exc:
        mark_failed(charge=charge, code=exc.code or "card_declined", message=exc.message)
    except gateway.GatewayError as exc:
        if not exc.retryable:
            mark_failed(charge=charge, code=exc.code or "stripe_error", message=exc.message)
        else:
            # Left pending without a Stripe id: ``resume_charge`` retries with the same key; reconciliation flags
            # it as stuck after 30 minutes.
            Charge.objects.filter(pk=charge.pk).update(
                failure_code=exc.code or "stripe_unavailable", failure_message=exc.message, updated_at=timezone.now()
            )
    charge.refresh_from_db()
    return charge


# --- Stripe confirms (or not) -------------------------------------------------------------------------------


def _balance_transaction(txn_id: str | None) -> gateway.BalanceTransaction | None:
    if not txn_id:
        return None
    for n, txn in enumerate(gateway.list_balance_transactions()):
        if txn.id == txn_id:
            return txn
        if n >= BALANCE_TXN_SCAN_LIMIT:
            break
    return None


def _remote_state(charge: Charge) -> tuple[str, str | None, str]:
    """(``succeeded`` | ``failed`` | ``pending``, the ch_ id, the failure) read from Stripe now."""
    if charge.kind == Charge.Kind.PAYMENT_INTENT:
        if not charge.stripe_payment_intent_id:
            return "pending", None, ""
        intent = gateway.retrieve_payment_intent(charge.stripe_payment_intent_id)
        if intent.status == "succeeded":
            return "succeeded", intent.latest_charge, ""
        if intent.status in ("requires_payment_method", "canceled"):
            return "failed", intent.latest_charge, intent.last_error or intent.status
        return "pending", intent.latest_charge, ""
    if not charge.stripe_invoice_id:
        return "pending", None, ""
    invoice = gateway.retrieve_invoice(charge.stripe_invoice_id)
    if invoice.status == "paid":
        return "succeeded", invoice.charge, ""
    return "pending", invoice.charge, ""


def sync_charge(*, charge: Charge, failure_hint: str = "") -> Charge:
    """Bring a charge in line with Stripe (called by the webhook handlers and reconciliation). Idempotent."""
    state, charge_id, failure = _remote_state(charge)
    if state == "succeeded" and charge_id:
        return confirm_charge(charge=charge, stripe_charge_id=charge_id)
    if state == "failed" or (failure_hint and charge.kind == Charge.Kind.INVOICE and state == "pending"):
        if charge.kind == Charge.Kind.INVOICE:
            # An open invoice stays payable: record the failed attempt, the charge stays pending.
            Charge.objects.filter(pk=charge.pk, status=C.PENDING).update(
                failure_code="invoice_payment_failed", failure_message=failure_hint, updated_at=timezone.now()
            )
            _notify_failed(charge, failure_hint or "An attempt to pay the invoice failed.")
            charge.refresh_from_db()
            return charge
        mark_failed(charge=charge, code=failure or "payment_failed", message=failure_hint or failure)
    charge.refresh_from_db()
    return charge


def confirm_charge(*, charge: Charge, stripe_charge_id: str) -> Charge:
    """Stripe confirmed the payment: store the charge, its fee and net, post the entry once."""
    from apps.ledger import services as ledger

    remote = gateway.retrieve_charge(stripe_charge_id)
    txn = _balance_transaction(remote.balance_transaction)
    fee = txn.fee if txn is not None else 0
    net = txn.net if txn is not None else remote.amount
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status not in (C.PENDING, C.FAILED):
            return locked
        transition(
            locked,
            C.SUCCEEDED,
            extra_updates={
                "stripe_charge_id": stripe_charge_id,
                "stripe_fee_minor": fee,
                "net_minor": net,
                "succeeded_at": timezone.now(),
                "failure_code": "",
                "failure_message": "",
            },
        )
        currency = locked.currency
        legs = [ledger.Leg(ledger.account("stripe_balance", currency=currency), net)]
        if fee:
            legs.append(ledger.Leg(ledger.account("stripe_fees", currency=currency), fee))
        legs.append(
            ledger.Leg(
                ledger.account(f"{locked.credit_account_prefix}:{locked.lab.public_id}", currency=currency),
                -locked.amount_minor,
            )
        )
        ledger.post(
            description=f"Lab payment {stripe_charge_id}: {locked.description}"[:500],
            currency=currency,
            legs=legs,
            idempotency_key=f"charge:{locked.public_id}:succeeded",
            source_type="payments.charge",
            source_id=stripe_charge_id,
        )
        notify_many(
            recipients=_holders(locked.lab, Perm.CONTRACTS_SIGN),
            kind="charge.succeeded",
            title=f"Payment of {Money(locked.amount_minor, currency)} confirmed",
            body=locked.description,
            url=billing_url(),
        )
    return locked


def mark_failed(*, charge: Charge, code: str, message: str) -> Charge:
    """A pending charge failed (a decline). A charge that already succeeded is left alone."""
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status != C.PENDING:
            return locked
        transition(locked, C.FAILED, extra_updates={"failure_code": code[:100], "failure_message": message or ""})
        _notify_failed(locked, message or code)
    return locked


def _notify_failed(charge: Charge, message: str) -> None:
    notify_many(
        recipients=_holders(charge.lab, Perm.CONTRACTS_SIGN),
        kind="charge.failed",
        title=f"Payment of {Money(charge.amount_minor, charge.currency)} failed",
        body=message[:1000],
        url=billing_url(),
    )


def find_charge(*, payment_intent: str | None = None, invoice: str | None = None, charge: str | None = None,
                public_id: str | None = None) -> Charge | None:  # fmt: skip
    match = Q(pk__in=[])
    if payment_intent:
        match |= Q(stripe_payment_intent_id=payment_intent)
    if invoice:
        match |= Q(stripe_invoice_id=invoice)
    if charge:
        match |= Q(stripe_charge_id=charge)
    if public_id:
        try:
            match |= Q(public_id=uuid.UUID(str(public_id)))
        except ValueError:
            pass
    return Charge.objects.filter(match).select_related("lab").first()


# --- Prepaid balance ----------------------------------------------------------------------------------------


def prepaid_balance(lab: Organization, currency: str) -> int:
    from apps.ledger.models import Posting

    total = Posting.objects.filter(account__code=f"lab_prepaid:{lab.public_id}", currency=currency).aggregate(
        s=Sum("amount")
    )["s"]
    return -(total or 0)  # a liability: credits are negative


def apply_prepaid(*, actor: User, lab: Organization, amount_minor: int, currency: str, reason: str) -> Any:
    """Finance applies part of a lab's prepaid balance to what it owes: Dr lab_prepaid / Cr lab_receivable."""
    from apps.ledger import services as ledger

    require_staff(actor, StaffRole.FINANCE)
    currency = str(currency or "").upper()
    available = prepaid_balance(lab, currency)
    if not isinstance(amount_minor, int) or amount_minor <= 0 or amount_minor > available:
        raise ValidationFailed(
            f"Apply between 1 and {available} minor units (the lab's prepaid balance).",
            details={"amount": [f"Between 1 and {available}."]},
        )
    return ledger.adjust(
        actor=actor,
        description=f"Prepaid balance applied to receivable of {lab.name}"[:500],
        currency=currency,
        legs=[
            ledger.Leg(f"lab_prepaid:{lab.public_id}", amount_minor),
            ledger.Leg(f"lab_receivable:{lab.public_id}", -amount_minor),
        ],
        reason=reason,
        source_type="payments.prepaid",
        source_id=str(lab.public_id),
    )


# --- Funding transfers --------------------------------------------------------------------------------------


def funded_amount(stripe_charge_id: str) -> int:
    """Minor units of payout lines funded by this charge (submitting or paid), net of their reversals."""
    from apps.payments.models import TransferReversal

    lines = (
        PayoutLine.objects.filter(
            source_transaction=stripe_charge_id, status__in=[PayoutLine.Status.SUBMITTING, PayoutLine.Status.PAID]
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    reversed_ = (
        TransferReversal.objects.filter(
            line__source_transaction=stripe_charge_id, status=TransferReversal.Status.SUCCEEDED
        ).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    return lines - reversed_


def source_charge_for(line: PayoutLine) -> str | None:
    """The ch_ id of the succeeded charge funding the line's supplier's contract with enough unspent amount."""
    contract_ids = set(Earning.objects.filter(line=line).values_list("contract_id", flat=True))
    if not contract_ids:
        return None
    candidates = Charge.objects.filter(
        contract_id__in=contract_ids,
        currency=line.currency,
        status__in=[C.SUCCEEDED, C.PARTIALLY_REFUNDED],
        stripe_charge_id__isnull=False,
    ).order_by("succeeded_at", "id")
    for charge in candidates:
        unspent = charge.amount_minor - charge.amount_refunded_minor - funded_amount(charge.stripe_charge_id)
        if unspent >= line.amount_minor:
            return charge.stripe_charge_id
    return None


# --- Reads --------------------------------------------------------------------------------------------------


def charge_list(*, actor: User, organization: Organization | None, status: str | None = None):
    """A lab's own charges (``contracts.view``), or every charge for platform finance (no organisation).
    Anyone else: NotFound. Newest first."""
    from apps.core.errors import NotFound

    if organization is None:
        require_staff(actor, StaffRole.FINANCE)
        qs = Charge.objects.all()
    else:
        if organization.kind != OrgKind.LAB:
            raise NotFound("Charges not found.", code="charge_not_found")
        require(actor, organization, Perm.CONTRACTS_VIEW)
        qs = Charge.objects.filter(lab=organization)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("lab", "contract__project", "milestone").order_by("-created_at", "-id")


def charge_get(*, actor: User, organization: Organization | None, public_id: Any) -> Charge:
    from apps.core.errors import NotFound

    found = charge_list(actor=actor, organization=organization).filter(public_id=public_id).first()
    if found is None:
        raise NotFound("Charge not found.", code="charge_not_found")
    return found
