"""Reads of the ledger. Balances are SQL sums of postings (debit +, credit -), never stored.

``balance`` and ``balances`` are for the system (payments, reconciliation); the ``*_for_finance``
selectors are scoped to platform finance (anyone else: NotFound) and serve the pages and the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.policies import require_staff
from apps.accounts.roles import StaffRole
from apps.core.errors import NotFound, ValidationFailed

from . import codes
from .models import AccountKind, JournalEntry, LedgerAccount, Posting

KIND_ORDER = [AccountKind.ASSET, AccountKind.LIABILITY, AccountKind.EQUITY, AccountKind.REVENUE, AccountKind.EXPENSE]


@dataclass(frozen=True)
class AccountBalance:
    account: LedgerAccount
    balance: int  # signed minor units, debit-positive (the sum of the account's postings)

    @property
    def code(self) -> str:
        return self.account.code

    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def kind(self) -> str:
        return self.account.kind

    @property
    def natural(self) -> int:
        """The balance in the account's normal direction: positive for an asset with more debits,
        a liability or revenue with more credits."""
        return self.balance if self.account.is_debit_normal else -self.balance

    @property
    def clears_to_zero(self) -> bool:
        return codes.clears_to_zero(self.account.code)

    @property
    def needs_attention(self) -> bool:
        return self.clears_to_zero and self.balance != 0


def _end_of(as_of: date | datetime) -> datetime:
    """A date means the end of that day (UTC); a datetime is taken as is."""
    if isinstance(as_of, datetime):
        return as_of if timezone.is_aware(as_of) else timezone.make_aware(as_of, UTC)
    return datetime.combine(as_of, time.max, tzinfo=UTC)


def balance(code_or_account: str | LedgerAccount, *, currency: str, as_of: date | datetime | None = None) -> int:
    """The account's balance in minor units (debit-positive), over entries that occurred up to
    ``as_of`` (inclusive; a date means its end, UTC). 0 for an account never posted to."""
    postings = Posting.objects.filter(currency=currency)
    if isinstance(code_or_account, LedgerAccount):
        if code_or_account.currency != currency:
            raise ValidationFailed(
                f"Account {code_or_account.code} holds {code_or_account.currency}, not {currency}.",
                details={"currency": [f"The account holds {code_or_account.currency}."]},
            )
        postings = postings.filter(account=code_or_account)
    else:
        postings = postings.filter(account__code=code_or_account, account__currency=currency)
    if as_of is not None:
        postings = postings.filter(entry__occurred_at__lte=_end_of(as_of))
    return postings.aggregate(total=Coalesce(Sum("amount"), 0))["total"]


def balances(
    *, currency: str | None = None, prefix: str | None = None, as_of: date | datetime | None = None
) -> list[AccountBalance]:
    """Every account's balance in one aggregate query, ordered by kind (assets first), code and currency.
    ``prefix`` keeps codes starting with it (``"payee_payable"`` gives every supplier's account)."""
    accounts = LedgerAccount.objects.select_related("organization")
    if currency:
        accounts = accounts.filter(currency=currency)
    if prefix:
        accounts = accounts.filter(code__startswith=prefix)
    condition = Q(postings__entry__occurred_at__lte=_end_of(as_of)) if as_of is not None else Q()
    rows = accounts.annotate(total=Coalesce(Sum("postings__amount", filter=condition), 0))
    result = [AccountBalance(account=row, balance=row.total) for row in rows]
    result.sort(key=lambda b: (KIND_ORDER.index(b.kind), b.code, b.currency))
    return result


# --- platform finance ------------------------------------------------------------------------------------------


def balance_list_for_finance(
    *, actor: User, currency: str | None = None, prefix: str | None = None, as_of: date | datetime | None = None
) -> list[AccountBalance]:
    require_staff(actor, StaffRole.FINANCE)
    return balances(currency=currency, prefix=prefix, as_of=as_of)


def entry_list_for_finance(
    *,
    actor: User,
    account: str | None = None,
    currency: str | None = None,
    source_type: str | None = None,
    source_id: str | None = None,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
) -> QuerySet[JournalEntry]:
    """Journal entries, newest first, each with its postings (and their accounts) prefetched.

    ``account`` keeps entries with a posting on that exact code; the dates are inclusive (UTC days)."""
    require_staff(actor, StaffRole.FINANCE)
    entries = JournalEntry.objects.select_related("actor", "reverses", "reversed_by").prefetch_related(
        Prefetch("postings", queryset=Posting.objects.select_related("account").order_by("id"))
    )
    if account:
        entries = entries.filter(Exists(Posting.objects.filter(entry=OuterRef("pk"), account__code=account)))
    if currency:
        entries = entries.filter(currency=currency)
    if source_type:
        entries = entries.filter(source_type=source_type)
    if source_id:
        entries = entries.filter(source_id=source_id)
    if occurred_from:
        entries = entries.filter(occurred_at__gte=datetime.combine(occurred_from, time.min, tzinfo=UTC))
    if occurred_to:
        entries = entries.filter(occurred_at__lte=_end_of(occurred_to))
    return entries.order_by("-occurred_at", "-id")


def entry_get_for_finance(*, actor: User, public_id: UUID | str) -> JournalEntry:
    require_staff(actor, StaffRole.FINANCE)
    try:
        return entry_list_for_finance(actor=actor).get(public_id=public_id)
    except (JournalEntry.DoesNotExist, ValueError, ValidationError):
        raise NotFound("Journal entry not found.", code="ledger_entry_not_found")


def source_types() -> list[str]:
    """The source types in use, for filter choices."""
    return list(
        JournalEntry.objects.exclude(source_type="")
        .order_by("source_type")
        .values_list("source_type", flat=True)
        .distinct()
    )
