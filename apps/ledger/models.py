"""The double-entry ledger: accounts, journal entries and their postings.

Amounts are signed integer minor units: a debit is positive, a credit negative. Every entry's
postings sum to zero per currency. Entries and postings are immutable once written: ``save()`` of a
stored row, ``delete()``, ``QuerySet.update()`` and ``QuerySet.delete()`` all raise, and on
PostgreSQL triggers refuse ``UPDATE``/``DELETE`` and a deferred constraint trigger checks at commit
that each entry balances (migration 0002). Corrections are reversing entries.

Only ``apps.ledger.services.post`` writes entries and postings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.errors import DomainError
from apps.core.models import BaseModel


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"
    EQUITY = "equity", "Equity"


# Debit-normal kinds: their balance grows with debits (positive amounts). The others are credit-normal.
DEBIT_NORMAL = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})


def _immutable(what: str) -> DomainError:
    return DomainError(
        f"{what} are never changed or deleted; post a reversing or adjusting entry instead.",
        code="ledger_immutable",
    )


class ImmutableQuerySet(models.QuerySet):
    """Reads and inserts only: bulk ``update()`` and ``delete()`` are refused."""

    def update(self, **kwargs):
        raise _immutable(f"{self.model._meta.verbose_name_plural.capitalize()}")

    def delete(self):
        raise _immutable(f"{self.model._meta.verbose_name_plural.capitalize()}")

    delete.queryset_only = True  # like Django's own: no ``Manager.delete()``


class ImmutableModel(models.Model):
    """A row that can be inserted once and never updated or deleted."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise _immutable(f"{self._meta.verbose_name_plural.capitalize()}")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _immutable(f"{self._meta.verbose_name_plural.capitalize()}")


class LedgerAccount(BaseModel):
    """One account in one currency, named by a code such as ``payee_payable:<org public id>``.

    Accounts are created on first use (``services.account``); codes are unique per currency.
    """

    code = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)  # ISO 4217, upper case
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    name = models.CharField(max_length=200, blank=True)
    # Set for per-organisation accounts (``lab_receivable:``, ``lab_prepaid:``, ``payee_payable:``).
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )

    class Meta:
        ordering = ["code", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["code", "currency"], name="ledger_account_code_currency_unique"),
            models.CheckConstraint(condition=models.Q(kind__in=AccountKind.values), name="ledger_account_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"

    @property
    def prefix(self) -> str:
        return self.code.split(":", 1)[0]

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class JournalEntry(ImmutableModel, BaseModel):
    """One balanced business event. Written once by ``services.post``; never changed."""

    occurred_at = models.DateTimeField(db_index=True)  # business time of the event (balances ``as_of`` use it)
    description = models.CharField(max_length=500)
    currency = models.CharField(max_length=3)  # the entry's main currency (postings carry their own)
    source_type = models.CharField(max_length=60, blank=True)  # e.g. "lab_charge", "transfer", "adjustment"
    source_id = models.CharField(max_length=120, blank=True)  # the source's public id or Stripe id (tr_..., po_...)
    idempotency_key = models.CharField(max_length=200, unique=True)  # derived from the business event
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["source_type", "source_id"], name="ledger_entry_source_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.description}"


class Posting(ImmutableModel):
    """One leg of an entry: a signed amount (minor units, debit +, credit -) on one account."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()  # signed minor units of ``currency``: debit +, credit -
    currency = models.CharField(max_length=3)  # always the account's currency

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_posting_amount_nonzero")]
        indexes = [models.Index(fields=["account", "entry"], name="ledger_posting_account_idx")]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount:+d} {self.currency}"

    @property
    def debit(self) -> int:
        return self.amount if self.amount > 0 else 0

    @property
    def credit(self) -> int:
        return -self.amount if self.amount < 0 else 0
