"""Writes to the ledger. ``post`` is the one function that inserts journal entries and postings;
``reverse`` and ``adjust`` go through it. Balances are read in ``selectors`` (re-exported here).

Amounts are signed integer minor units: a debit is positive, a credit negative.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Organization, User
from apps.accounts.policies import require_staff
from apps.accounts.roles import StaffRole
from apps.core.errors import DomainError, ValidationFailed
from apps.core.transitions import audit

from . import codes
from .models import AccountKind, JournalEntry, LedgerAccount, Posting
from .selectors import AccountBalance, balance, balances

__all__ = [
    "AccountBalance",
    "AccountKind",
    "Leg",
    "account",
    "adjust",
    "balance",
    "balances",
    "post",
    "reverse",
]

MAX_KEY_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 500


@dataclass(frozen=True)
class Leg:
    """One side of an entry: an account (code or instance) and a signed amount in minor units
    (debit +, credit -). ``currency`` defaults to the account's (an instance) or the entry's (a code)."""

    account: str | LedgerAccount
    amount: int
    currency: str | None = None


def _check_currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationFailed(
            f"`{field}` must be a 3-letter upper-case ISO 4217 code, got {value!r}.",
            details={field: ["Must be a 3-letter upper-case ISO 4217 code, e.g. USD."]},
        )
    return value


def account(code: str, *, currency: str, kind: str | None = None, name: str = "") -> LedgerAccount:
    """Get or create the account ``code`` in ``currency``. ``kind`` is inferred from the code's
    prefix (``codes.ACCOUNT_TYPES``) when None; a code outside the chart needs an explicit kind.
    Per-organisation codes must name an existing organisation of the right kind. Idempotent."""
    currency = _check_currency(currency, "currency")
    if kind is not None and kind not in AccountKind.values:
        raise ValidationFailed(
            f"Unknown account kind {kind!r}.", details={"kind": [f"One of: {', '.join(AccountKind.values)}."]}
        )
    if not isinstance(code, str) or not codes.CODE_PATTERN.match(code):
        raise ValidationFailed(
            f"Account code {code!r} is not valid: use `prefix` or `prefix:<id>` (lower-case prefix).",
            code="ledger_bad_account",
            details={"account": [f"Not a valid account code: {code!r}."]},
        )
    return _accounts({(code, currency): ("account", kind, name)})[(code, currency)]


def _bad_account(field: str, message: str, *, code: str = "ledger_bad_account") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={field: [message]})


def _accounts(wanted: dict[tuple[str, str], tuple[str, str | None, str]]) -> dict[tuple[str, str], LedgerAccount]:
    """Get or open several accounts in a fixed number of queries. ``wanted`` maps (code, currency)
    to (the field to name in an error, the kind or None, the name for a new account)."""
    match = Q()
    for code, currency in wanted:
        match |= Q(code=code, currency=currency)
    found = {(a.code, a.currency): a for a in LedgerAccount.objects.filter(match)}
    missing: list[tuple[str, str]] = []
    for key, (field, kind, _name) in wanted.items():
        existing = found.get(key)
        if existing is None:
            missing.append(key)
        elif kind is not None and existing.kind != kind:
            raise _bad_account(field, f"Account {key[0]} ({key[1]}) is a {existing.kind} account, not {kind}.")
    if not missing:
        return found
    suffixes = {}
    for code, _currency in missing:
        known = codes.account_type(code)
        if known is not None and known.per_organization:
            try:
                suffixes[code] = uuid.UUID(code.partition(":")[2])
            except ValueError:
                suffixes[code] = None
    organizations = {
        org.public_id: org
        for org in Organization.objects.filter(public_id__in=[s for s in suffixes.values() if s is not None])
    }
    new = []
    for code, currency in missing:
        field, kind, name = wanted[(code, currency)]
        known = codes.account_type(code)
        organization = None
        if known is None:
            if kind is None:
                raise _bad_account(
                    field,
                    f"Unknown account {code!r}: not in the chart of accounts; give its kind to open it.",
                    code="ledger_unknown_account",
                )
        else:
            if kind is not None and kind != known.kind:
                raise _bad_account(field, f"{known.prefix} accounts are {known.kind} accounts, not {kind}.")
            if not known.per_organization and ":" in code:
                raise _bad_account(field, f"{known.prefix} is one platform account: it takes no `:<id>` suffix.")
            if known.per_organization:
                organization = organizations.get(suffixes.get(code))
                if organization is None or organization.kind not in known.organization_kinds:
                    kinds = " or ".join(known.organization_kinds)
                    raise _bad_account(
                        field,
                        f"{code!r}: {known.prefix} accounts are per organisation, "
                        f"`{known.prefix}:<public id of a {kinds}>`.",
                    )
        new.append(
            LedgerAccount(
                code=code,
                currency=currency,
                kind=kind or known.kind,
                name=name or (known.label if known else ""),
                organization=organization,
            )
        )
    with transaction.atomic():
        # A concurrent caller may open the same account: the unique (code, currency) keeps one.
        LedgerAccount.objects.bulk_create(new, ignore_conflicts=True)
    match = Q()
    for code, currency in missing:
        match |= Q(code=code, currency=currency)
    found.update({(a.code, a.currency): a for a in LedgerAccount.objects.filter(match)})
    return found


# --- posting -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Leg:
    row: int  # 1-based, as errors name it
    code: str
    currency: str
    amount: int
    instance: LedgerAccount | None


def _validate_legs(legs: Any, currency: str) -> list[_Leg]:
    """Every problem with the legs at once, as ``legs`` (the whole entry) and ``legs.<n>`` (one leg)."""
    if not isinstance(legs, Sequence) or isinstance(legs, str | bytes):
        raise ValidationFailed("`legs` must be a list of Leg.", details={"legs": ["Must be a list of legs."]})
    errors: dict[str, list[str]] = {}
    checked: list[_Leg] = []
    for row, leg in enumerate(legs, start=1):
        problems = []
        if not isinstance(leg, Leg):
            errors[f"legs.{row}"] = [f"Leg {row}: not a Leg."]
            continue
        amount = leg.amount
        if not isinstance(amount, int) or isinstance(amount, bool):
            problems.append(f"Leg {row}: the amount must be an integer number of minor units, not {amount!r}.")
        elif amount == 0:
            problems.append(f"Leg {row}: the amount must not be zero.")
        leg_currency = leg.currency
        if leg_currency is not None and (
            not isinstance(leg_currency, str) or len(leg_currency) != 3 or not leg_currency.isupper()
        ):
            problems.append(f"Leg {row}: currency {leg_currency!r} is not a 3-letter upper-case ISO code.")
        instance = leg.account if isinstance(leg.account, LedgerAccount) else None
        if instance is not None:
            if instance.pk is None:
                problems.append(f"Leg {row}: the account is not saved.")
            if leg_currency is not None and leg_currency != instance.currency:
                problems.append(f"Leg {row}: account {instance.code} holds {instance.currency}, not {leg_currency}.")
            code, leg_currency = instance.code, instance.currency
        elif isinstance(leg.account, str) and codes.CODE_PATTERN.match(leg.account):
            code, leg_currency = leg.account, leg_currency or currency
        else:
            problems.append(f"Leg {row}: {leg.account!r} is not an account code.")
            code = ""
        if problems:
            errors[f"legs.{row}"] = problems
        else:
            checked.append(_Leg(row=row, code=code, currency=leg_currency, amount=amount, instance=instance))
    whole = []
    if len(legs) < 2:
        whole.append(f"An entry needs at least two legs; got {len(legs)}.")
    if not errors:
        totals: dict[str, int] = defaultdict(int)
        for leg in checked:
            totals[leg.currency] += leg.amount
        for cur, total in sorted(totals.items()):
            if total:
                debits = sum(leg.amount for leg in checked if leg.currency == cur and leg.amount > 0)
                credits = -sum(leg.amount for leg in checked if leg.currency == cur and leg.amount < 0)
                whole.append(
                    f"The legs do not balance in {cur}: debits {debits} and credits {credits} minor units "
                    f"(off by {total:+d})."
                )
        if checked and currency not in totals:
            whole.append(f"No leg is in the entry's currency {currency}.")
    if whole:
        errors["legs"] = whole
    if errors:
        first = errors.get("legs", next(iter(errors.values())))[0]
        raise ValidationFailed(f"The entry was not posted: {first}", code="ledger_unbalanced", details=errors)
    return checked


def _fingerprint_existing(entry: JournalEntry) -> tuple[str, Counter]:
    return entry.currency, Counter(
        (p.account.code, p.currency, p.amount) for p in Posting.objects.filter(entry=entry).select_related("account")
    )


def _same_or_refuse(entry: JournalEntry, currency: str, legs: list[_Leg]) -> JournalEntry:
    requested = (currency, Counter((leg.code, leg.currency, leg.amount) for leg in legs))
    if _fingerprint_existing(entry) != requested:
        raise DomainError(
            f"Idempotency key {entry.idempotency_key!r} was already used for another entry "
            f"({entry.description!r}) with different legs.",
            code="ledger_key_reused",
            details={"idempotency_key": [entry.idempotency_key], "entry": str(entry.public_id)},
        )
    return entry


def _already_reversed(entry: JournalEntry) -> DomainError:
    return DomainError(
        f"Entry {entry.public_id} was already reversed; an entry is reversed once.",
        code="ledger_entry_already_reversed",
        details={"entry": str(entry.public_id)},
    )


def _post(
    *,
    description: str,
    currency: str,
    legs: list[Leg],
    idempotency_key: str,
    source_type: str = "",
    source_id: str = "",
    actor: User | None = None,
    occurred_at: datetime | None = None,
    reverses: JournalEntry | None = None,
    memo: dict | None = None,
) -> tuple[JournalEntry, bool]:
    """``post``, also saying whether this call wrote the entry (False: an idempotent repeat)."""
    currency = _check_currency(currency, "currency")
    errors: dict[str, list[str]] = {}
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
        errors["idempotency_key"] = [f"Required, at most {MAX_KEY_LENGTH} characters."]
    if not isinstance(description, str) or not description.strip() or len(description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = [f"Required, at most {MAX_DESCRIPTION_LENGTH} characters."]
    if len(source_type) > 60 or len(source_id) > 120:
        errors["source"] = ["source_type at most 60 and source_id at most 120 characters."]
    if memo is not None and not isinstance(memo, dict):
        errors["memo"] = ["Must be a JSON object."]
    if errors:
        raise ValidationFailed(f"The entry was not posted: {next(iter(errors))} is invalid.", details=errors)
    checked = _validate_legs(legs, currency)

    with transaction.atomic():
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_or_refuse(existing, currency, checked), False
        if reverses is not None and JournalEntry.objects.filter(reverses=reverses).exists():
            raise _already_reversed(reverses)
        wanted: dict[tuple[str, str], tuple[str, str | None, str]] = {}
        for leg in checked:
            if leg.instance is None:
                wanted.setdefault((leg.code, leg.currency), (f"legs.{leg.row}", None, ""))
        opened = _accounts(wanted) if wanted else {}
        resolved = [leg.instance if leg.instance is not None else opened[(leg.code, leg.currency)] for leg in checked]
        entry = JournalEntry(
            occurred_at=occurred_at or timezone.now(),
            description=description.strip(),
            currency=currency,
            source_type=source_type,
            source_id=source_id,
            idempotency_key=idempotency_key,
            reverses=reverses,
            actor=actor if getattr(actor, "pk", None) else None,
            memo=memo or {},
        )
        try:
            # A savepoint: a concurrent post with the same key (or reversal) loses here, not the caller's transaction.
            with transaction.atomic():
                entry.save()
                Posting.objects.bulk_create(
                    Posting(entry=entry, account=acct, amount=leg.amount, currency=leg.currency)
                    for leg, acct in zip(checked, resolved, strict=True)
                )
        except IntegrityError:
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_or_refuse(existing, currency, checked), False
            if reverses is not None and JournalEntry.objects.filter(reverses=reverses).exists():
                raise _already_reversed(reverses)
            raise
    return entry, True


def post(
    *,
    description: str,
    currency: str,
    legs: list[Leg],
    idempotency_key: str,
    source_type: str = "",
    source_id: str = "",
    actor: User | None = None,
    occurred_at: datetime | None = None,
    reverses: JournalEntry | None = None,
    memo: dict | None = None,
) -> JournalEntry:
    """Post one balanced journal entry: the only writer of entries and postings.

    Refuses (ValidationFailed, details ``legs`` / ``legs.<n>`` / the field; nothing written) fewer
    than two legs, a non-integer or zero amount, a bad account code, legs that do not sum to zero
    in each currency. Accounts named by code are opened on first use. Idempotent per
    ``idempotency_key``: the same key with the same legs returns the stored entry; with other legs
    DomainError ``ledger_key_reused``. An entry may be reversed once (``ledger_entry_already_reversed``).
    """
    entry, _ = _post(
        description=description,
        currency=currency,
        legs=legs,
        idempotency_key=idempotency_key,
        source_type=source_type,
        source_id=source_id,
        actor=actor,
        occurred_at=occurred_at,
        reverses=reverses,
        memo=memo,
    )
    return entry


def reverse(*, entry: JournalEntry, reason: str, idempotency_key: str, actor: User | None = None) -> JournalEntry:
    """Post the mirror image of ``entry`` (every amount negated, same accounts), linked by ``reverses``.

    The reversal keeps the entry's source, so a source's history lists both. An entry is reversed
    once: another key answers ``ledger_entry_already_reversed``; the same key returns the reversal.
    Writes an audit row when it posts."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Give the reason for the reversal.", details={"reason": ["Required."]})
    legs = [
        Leg(posting.account, -posting.amount)
        for posting in Posting.objects.filter(entry=entry).select_related("account")
    ]
    with transaction.atomic():
        reversal, created = _post(
            description=f"Reversal: {entry.description}"[:MAX_DESCRIPTION_LENGTH],
            currency=entry.currency,
            legs=legs,
            idempotency_key=idempotency_key,
            source_type=entry.source_type,
            source_id=entry.source_id,
            actor=actor,
            reverses=entry,
            memo={"reason": reason.strip(), "reverses": str(entry.public_id)},
        )
        if reversal.reverses_id != entry.pk:
            raise DomainError(
                f"Idempotency key {idempotency_key!r} belongs to another entry.", code="ledger_key_reused"
            )
        if created:
            audit(
                reversal, "ledger.reversed", actor=actor, reason=reason.strip(), data={"reverses": str(entry.public_id)}
            )
    return reversal


def adjust(
    *,
    actor: User,
    description: str,
    currency: str,
    legs: list[Leg],
    reason: str,
    idempotency_key: str | None = None,
    source_type: str = "adjustment",
    source_id: str = "",
    occurred_at: datetime | None = None,
    memo: dict | None = None,
) -> JournalEntry:
    """Finance posts a manual adjusting entry (platform finance only; anyone else NotFound).

    ``reason`` is required and kept on the entry's memo and in an audit row. Give an
    ``idempotency_key`` (a form's one-time token, ``recon:<exception id>``) to make a retry safe;
    without one every call posts a new entry. Validation as ``post``."""
    require_staff(actor, StaffRole.FINANCE)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Give the reason for the adjustment.", details={"reason": ["Required."]})
    key = idempotency_key or f"adjustment:{uuid.uuid4()}"
    with transaction.atomic():
        entry, created = _post(
            description=description,
            currency=currency,
            legs=legs,
            idempotency_key=key,
            source_type=source_type,
            source_id=source_id,
            actor=actor,
            occurred_at=occurred_at,
            memo={**(memo or {}), "reason": reason.strip(), "adjustment": True},
        )
        if created:
            audit(
                entry,
                "ledger.adjusted",
                actor=actor,
                reason=reason.strip(),
                data={"legs": [{"account": p.account.code, "amount": p.amount, "currency": p.currency}
                               for p in Posting.objects.filter(entry=entry).select_related("account")]},
            )  # fmt: skip
    return entry
