"""Lab charges (a PaymentIntent or a one-off invoice), their refunds, and the transfer reversals a refund causes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel
from apps.core.money import Money


class BillingCustomer(BaseModel):
    """A lab's Stripe customer, created once with the key ``customer:<lab public id>``."""

    lab = models.OneToOneField("accounts.Organization", on_delete=models.PROTECT, related_name="billing_customer")
    stripe_customer_id = models.CharField(max_length=255, unique=True)

    def __str__(self) -> str:
        return f"{self.stripe_customer_id} ({self.lab_id})"


class Charge(BaseModel):
    """A lab's payment for a milestone, a contract, or a prepaid top-up (no contract).

    The row and its ``idempotency_key`` are stored before Stripe is called. The ledger entry is
    posted only when Stripe confirms (``payment_intent.succeeded`` / ``invoice.paid``, re-read from
    the gateway): Dr ``stripe_balance`` net, Dr ``stripe_fees`` fee / Cr ``lab_receivable:<lab>``
    (or ``lab_prepaid:<lab>`` for a top-up)."""

    class Kind(models.TextChoices):
        PAYMENT_INTENT = "payment_intent", "Card payment"
        INVOICE = "invoice", "Invoice"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: {Status.SUCCEEDED},  # an invoice paid after a failed attempt
        Status.SUCCEEDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED},
        Status.PARTIALLY_REFUNDED: {Status.REFUNDED, Status.DISPUTED},
        Status.DISPUTED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    }

    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="lab_charges")
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    milestone = models.ForeignKey(
        "contracts.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=300)
    amount_minor = models.BigIntegerField(help_text="Minor units charged to the lab.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    transfer_group = models.CharField(max_length=100, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_invoice_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_charge_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    stripe_fee_minor = models.BigIntegerField(default=0)
    net_minor = models.BigIntegerField(default=0)
    amount_refunded_minor = models.BigIntegerField(default=0)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded_minor__gte=0, amount_refunded_minor__lte=models.F("amount_minor")),
                name="charge_refunded_within_amount",
            ),
            models.CheckConstraint(condition=Q(kind__in=["payment_intent", "invoice"]), name="charge_kind_valid"),
        ]

    @property
    def is_prepaid(self) -> bool:
        return self.contract_id is None

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def stripe_fee(self) -> Money:
        return Money(self.stripe_fee_minor, self.currency)

    @property
    def amount_refunded(self) -> Money:
        return Money(self.amount_refunded_minor, self.currency)

    @property
    def credit_account_prefix(self) -> str:
        return "lab_prepaid" if self.is_prepaid else "lab_receivable"

    def __str__(self) -> str:
        return f"Charge {self.public_id} {self.amount_minor} {self.currency} ({self.status})"


class Refund(BaseModel):
    """A refund to a lab, by finance (``create_refund`` with key ``refund:<public id>``) or seen in a
    ``charge.refunded`` event (made in Stripe's dashboard). ``stripe_refund_id`` is unique."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {Status.PENDING: {Status.SUCCEEDED, Status.FAILED}}

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_amount_positive")]


class TransferReversal(BaseModel):
    """Money taken back from a supplier's connected account after a refund: one per (refund, payout
    line), key ``reversal:<refund public id>:<line public id>`` stored before the call."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {Status.PENDING: {Status.SUCCEEDED, Status.FAILED}, Status.FAILED: {Status.SUCCEEDED}}

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="reversals")
    line = models.ForeignKey("payments.PayoutLine", on_delete=models.PROTECT, related_name="reversals")
    stripe_transfer_id = models.CharField(max_length=255)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200, unique=True)
    stripe_reversal_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="transfer_reversal_amount_positive"),
            models.UniqueConstraint(fields=["refund", "line"], name="transfer_reversal_one_per_refund_line"),
        ]
