"""Posting journal entries: the one function, its refusals, idempotency, reversals, adjustments and balances."""

from datetime import UTC, date, datetime

import pytest

from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.core.models import AuditEvent
from apps.ledger import selectors
from apps.ledger.models import AccountKind, JournalEntry, LedgerAccount, Posting
from apps.ledger.services import Leg, account, adjust, balance, balances, post, reverse


def accept_work(codes, *, key="accept:1", gross=10_000, fee=1_500, **kwargs):
    """Work accepted: the lab owes the gross, the supplier is owed the net, the platform earns its fee."""
    return post(
        description="Work accepted",
        currency="USD",
        legs=[Leg(codes.receivable, gross), Leg(codes.payable, -(gross - fee)), Leg("platform_fee_revenue", -fee)],
        idempotency_key=key,
        source_type="batch",
        source_id="b-1",
        **kwargs,
    )


def nothing_written():
    return not JournalEntry.objects.exists() and not Posting.objects.exists()


# --- the example of the research note, by hand ----------------------------------------------------------------


def test_the_money_loop_balances_to_hand_computed_figures(db, codes):
    # given the research note's example: a $100.00 batch, 15% fee, Stripe fee $3.20
    accept_work(codes)
    post(
        description="Lab paid",
        currency="USD",
        legs=[Leg("stripe_balance", 9_680), Leg("stripe_fees", 320), Leg(codes.receivable, -10_000)],
        idempotency_key="paid:1",
    )
    post(
        description="Transfer to the supplier",
        currency="USD",
        legs=[Leg(codes.payable, 8_500), Leg("stripe_balance", -8_500)],
        idempotency_key="transfer:1",
    )

    # then every balance is what a person computes on paper
    assert balance(codes.receivable, currency="USD") == 0
    assert balance(codes.payable, currency="USD") == 0
    assert balance("stripe_balance", currency="USD") == 1_180
    assert balance("stripe_fees", currency="USD") == 320
    assert balance("platform_fee_revenue", currency="USD") == -1_500
    found = {b.code: b for b in balances(currency="USD")}
    assert found["platform_fee_revenue"].natural == 1_500  # credit-normal: shown positive
    assert found["stripe_balance"].natural == 1_180
    assert sum(b.balance for b in found.values()) == 0
    assert not any(b.needs_attention for b in found.values())
    # and the kinds follow the chart of accounts
    assert found[codes.payable].kind == AccountKind.LIABILITY
    assert found[codes.payable].account.organization is not None
    assert [b.kind for b in balances(currency="USD")][0] == AccountKind.ASSET


def test_a_clearing_account_left_open_needs_attention(db, codes):
    accept_work(codes)

    attention = {b.code for b in balances(currency="USD") if b.needs_attention}

    assert attention == {codes.receivable, codes.payable}
    assert {b.code for b in balances(prefix="payee_payable")} == {codes.payable}


def test_balance_as_of_counts_entries_that_occurred_by_then(db, codes):
    accept_work(codes, key="k1", occurred_at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    accept_work(codes, key="k2", gross=2_000, fee=300, occurred_at=datetime(2026, 2, 1, 9, tzinfo=UTC))

    assert balance(codes.receivable, currency="USD", as_of=date(2026, 1, 9)) == 0
    assert balance(codes.receivable, currency="USD", as_of=date(2026, 1, 10)) == 10_000
    assert balance(codes.receivable, currency="USD") == 12_000
    as_of = {b.code: b.balance for b in balances(currency="USD", as_of=date(2026, 1, 31))}
    assert as_of[codes.receivable] == 10_000
    assert balance(codes.receivable, currency="EUR") == 0


def test_balances_take_one_query(db, codes, django_assert_num_queries):
    accept_work(codes)
    with django_assert_num_queries(1):
        balances()


# --- refusals: nothing written ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("legs", "key", "fragment"),
    [
        ([Leg("stripe_balance", 100), Leg("stripe_fees", -99)], "legs", "do not balance in USD"),
        ([], "legs", "at least two legs"),
        ([Leg("stripe_balance", 100)], "legs", "at least two legs"),
        ([Leg("stripe_balance", 100), Leg("stripe_fees", 0), Leg("refund_losses", -100)], "legs.2", "must not be zero"),
        ([Leg("stripe_balance", 1.5), Leg("stripe_fees", -1.5)], "legs.1", "integer"),
        ([Leg("stripe_balance", True), Leg("stripe_fees", -1)], "legs.1", "integer"),
        ([Leg("Not A Code", 100), Leg("stripe_fees", -100)], "legs.1", "not an account code"),
        (
            [Leg("stripe_balance", 100), Leg("stripe_fees", -100, currency="EUR")],
            "legs",
            "do not balance in EUR",
        ),
        ([Leg("stripe_balance", 100, "EUR"), Leg("stripe_fees", -100, "EUR")], "legs", "entry's currency USD"),
    ],
    ids=["unbalanced", "empty", "one-leg", "zero", "float", "bool", "bad-code", "mixed-currency", "other-currency"],
)
def test_a_bad_entry_is_refused_naming_the_problem_and_nothing_is_written(db, legs, key, fragment):
    with pytest.raises(ValidationFailed) as refused:
        post(description="Bad", currency="USD", legs=legs, idempotency_key="bad")

    assert key in refused.value.details
    assert fragment in " ".join(refused.value.details[key])
    assert nothing_written()
    assert not LedgerAccount.objects.exists()


def test_an_unknown_account_is_refused_and_no_account_is_opened(db):
    with pytest.raises(ValidationFailed) as refused:
        post(
            description="Bad",
            currency="USD",
            legs=[Leg("stripe_balance", 5), Leg("petty_cash", -5)],
            idempotency_key="bad",
        )

    assert refused.value.code == "ledger_unknown_account"
    assert nothing_written()
    assert not LedgerAccount.objects.exists()


def test_a_per_organisation_account_must_name_an_organisation_of_the_right_kind(db, lab, vendor):
    with pytest.raises(ValidationFailed):
        account(f"payee_payable:{lab.public_id}", currency="USD")  # a lab is not a payee
    with pytest.raises(ValidationFailed):
        account("payee_payable:not-a-uuid", currency="USD")
    with pytest.raises(ValidationFailed):
        account("stripe_balance:extra", currency="USD")

    opened = account(f"payee_payable:{vendor.public_id}", currency="USD")

    assert (opened.kind, opened.organization) == (AccountKind.LIABILITY, vendor)
    assert account(f"payee_payable:{vendor.public_id}", currency="USD") == opened
    assert account(f"payee_payable:{vendor.public_id}", currency="EUR") != opened


def test_an_account_outside_the_chart_opens_with_an_explicit_kind(db):
    opened = account("bank:chase", currency="USD", kind=AccountKind.ASSET, name="Chase operating")

    assert opened.kind == AccountKind.ASSET
    with pytest.raises(ValidationFailed):
        account("bank:chase", currency="USD", kind=AccountKind.EXPENSE)
    with pytest.raises(ValidationFailed):
        account("stripe_fees", currency="USD", kind=AccountKind.ASSET)


def test_a_mixed_currency_entry_balancing_in_each_currency_posts(db):
    entry = post(
        description="Currency conversion",
        currency="USD",
        legs=[
            Leg("stripe_balance", 1_000),
            Leg("adjustments", -1_000),
            Leg("stripe_balance", -900, currency="EUR"),
            Leg("adjustments", 900, currency="EUR"),
        ],
        idempotency_key="fx:1",
    )

    assert entry.postings.count() == 4
    assert balance("stripe_balance", currency="EUR") == -900
    assert balance("stripe_balance", currency="USD") == 1_000


# --- idempotency -------------------------------------------------------------------------------------------------------


def test_the_same_key_with_the_same_legs_returns_the_stored_entry(db, codes):
    first = accept_work(codes)

    again = accept_work(codes)

    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert Posting.objects.count() == 3
    assert balance(codes.receivable, currency="USD") == 10_000


def test_the_same_key_with_other_legs_is_refused(db, codes):
    accept_work(codes)

    with pytest.raises(DomainError) as refused:
        accept_work(codes, gross=20_000, fee=3_000)

    assert refused.value.code == "ledger_key_reused"
    assert JournalEntry.objects.count() == 1
    assert balance(codes.receivable, currency="USD") == 10_000


# --- immutability in Python -------------------------------------------------------------------------------------------


def test_entries_and_postings_cannot_be_updated_or_deleted(db, codes):
    entry = accept_work(codes)
    posting = entry.postings.first()

    entry.description = "Edited"
    for attempt in (
        entry.save,
        entry.delete,
        posting.save,
        posting.delete,
        lambda: JournalEntry.objects.filter(pk=entry.pk).update(description="Edited"),
        lambda: JournalEntry.objects.update(description="Edited"),
        lambda: JournalEntry.objects.all().delete(),
        lambda: Posting.objects.filter(pk=posting.pk).update(amount=1),
        lambda: Posting.objects.all().delete(),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "ledger_immutable"

    entry.refresh_from_db()
    assert entry.description == "Work accepted"
    assert Posting.objects.count() == 3


# --- reversals ------------------------------------------------------------------------------------------------------------


def test_a_reversal_mirrors_the_entry_and_restores_every_balance(db, codes, finance):
    entry = accept_work(codes)

    reversal = reverse(entry=entry, reason="Batch acceptance was a mistake", idempotency_key="rev:1", actor=finance)

    assert reversal.reverses == entry
    assert entry.reversed_by == reversal
    mirrored = sorted(-amount for amount in Posting.objects.filter(entry=entry).values_list("amount", flat=True))
    assert sorted(Posting.objects.filter(entry=reversal).values_list("amount", flat=True)) == mirrored
    assert (reversal.source_type, reversal.source_id) == ("batch", "b-1")
    assert reversal.memo["reason"] == "Batch acceptance was a mistake"
    assert all(b.balance == 0 for b in balances())
    assert AuditEvent.objects.filter(action="ledger.reversed", actor=finance).count() == 1


def test_an_entry_is_reversed_once(db, codes):
    entry = accept_work(codes)
    first = reverse(entry=entry, reason="Mistake", idempotency_key="rev:1")

    assert reverse(entry=entry, reason="Mistake", idempotency_key="rev:1") == first  # a retry
    with pytest.raises(DomainError) as refused:
        reverse(entry=entry, reason="Again", idempotency_key="rev:2")

    assert refused.value.code == "ledger_entry_already_reversed"
    assert JournalEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="ledger.reversed").count() == 1


def test_a_reversal_needs_a_reason(db, codes):
    entry = accept_work(codes)

    with pytest.raises(ValidationFailed) as refused:
        reverse(entry=entry, reason=" ", idempotency_key="rev:1")

    assert "reason" in refused.value.details
    assert JournalEntry.objects.count() == 1


# --- adjustments -----------------------------------------------------------------------------------------------------------


def test_finance_posts_an_audited_adjusting_entry(db, finance, codes):
    entry = adjust(
        actor=finance,
        description="Stripe fee under-recorded",
        currency="USD",
        legs=[Leg("stripe_fees", 12), Leg("stripe_balance", -12)],
        reason="Reconciliation exception 42",
        idempotency_key="adjust:form-1",
    )

    assert entry.source_type == "adjustment"
    assert entry.actor == finance
    assert entry.memo["reason"] == "Reconciliation exception 42"
    audit_row = AuditEvent.objects.get(action="ledger.adjusted")
    assert (audit_row.actor, audit_row.reason) == (finance, "Reconciliation exception 42")
    assert audit_row.data["legs"][0] == {"account": "stripe_fees", "amount": 12, "currency": "USD"}
    # a resubmitted form posts nothing more
    again = adjust(
        actor=finance,
        description="Stripe fee under-recorded",
        currency="USD",
        legs=[Leg("stripe_fees", 12), Leg("stripe_balance", -12)],
        reason="Reconciliation exception 42",
        idempotency_key="adjust:form-1",
    )
    assert again == entry
    assert AuditEvent.objects.filter(action="ledger.adjusted").count() == 1


@pytest.mark.parametrize("who", ["operations", "lab_owner", "outsider"])
def test_only_finance_adjusts(db, request, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(NotFound):
        adjust(
            actor=actor,
            description="x",
            currency="USD",
            legs=[Leg("stripe_fees", 1), Leg("stripe_balance", -1)],
            reason="x",
        )

    assert nothing_written()


def test_an_adjustment_needs_a_reason_and_balanced_legs(db, finance):
    with pytest.raises(ValidationFailed) as no_reason:
        adjust(
            actor=finance,
            description="x",
            currency="USD",
            legs=[Leg("stripe_fees", 1), Leg("stripe_balance", -1)],
            reason="",
        )
    with pytest.raises(ValidationFailed) as unbalanced:
        adjust(
            actor=finance,
            description="x",
            currency="USD",
            legs=[Leg("stripe_fees", 2), Leg("stripe_balance", -1)],
            reason="r",
        )

    assert "reason" in no_reason.value.details
    assert "legs" in unbalanced.value.details
    assert nothing_written()
    assert not AuditEvent.objects.filter(action="ledger.adjusted").exists()


# --- finance selectors -------------------------------------------------------------------------------------------------------


def test_finance_lists_entries_by_account_source_and_date(db, finance, codes):
    accept_work(codes, key="a", occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    post(
        description="Other",
        currency="USD",
        legs=[Leg("stripe_fees", 5), Leg("stripe_balance", -5)],
        idempotency_key="b",
        source_type="charge",
        source_id="ch_1",
        occurred_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
    )

    def keys(**filters):
        return [e.idempotency_key for e in selectors.entry_list_for_finance(actor=finance, **filters)]

    assert keys() == ["b", "a"]
    assert keys(account=codes.payable) == ["a"]
    assert keys(account="stripe_fees") == ["b"]
    assert keys(source_type="charge", source_id="ch_1") == ["b"]
    assert keys(occurred_from=date(2026, 3, 2)) == ["b"]
    assert keys(occurred_to=date(2026, 3, 1)) == ["a"]


@pytest.mark.parametrize("who", ["operations", "lab_owner"])
def test_the_finance_selectors_hide_the_ledger_from_everyone_else(db, request, codes, who):
    actor = request.getfixturevalue(who)
    entry = accept_work(codes)
    with pytest.raises(NotFound):
        selectors.entry_list_for_finance(actor=actor)
    with pytest.raises(NotFound):
        selectors.entry_get_for_finance(actor=actor, public_id=entry.public_id)
    with pytest.raises(NotFound):
        selectors.balance_list_for_finance(actor=actor)
