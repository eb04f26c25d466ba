"""Property tests (hypothesis): balanced legs always post and the balances are their sums; unbalanced
legs never post; fee and share splits from ``apps.core.money`` always post as balanced entries.

Each example runs in its own savepoint, rolled back, so examples do not see each other's rows."""

from collections import defaultdict
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.roles import OrgKind
from apps.core.errors import ValidationFailed
from apps.core.money import Money
from apps.ledger.codes import code_for
from apps.ledger.models import JournalEntry, Posting
from apps.ledger.services import Leg, balance, balances, post
from tests.factories import OrganizationFactory

PLATFORM_ACCOUNTS = ["stripe_balance", "platform_bank", "platform_fee_revenue", "stripe_fees", "refund_losses",
                     "dispute_losses", "adjustments"]  # fmt: skip
CURRENCIES = ["USD", "EUR", "JPY"]
per_example = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
nonzero = st.integers(min_value=-(10**12), max_value=10**12).filter(lambda n: n != 0)


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@st.composite
def balanced_legs(draw):
    """2-8 legs in one or two currencies, each currency's amounts summing to zero."""
    legs = []
    for currency in draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True)):
        amounts = draw(st.lists(nonzero, min_size=1, max_size=3))
        closing = -sum(amounts)
        if closing == 0:  # the amounts cancel already: one more pair keeps every leg non-zero
            amounts.append(1)
            closing = -1
        for amount in [*amounts, closing]:
            legs.append(Leg(draw(st.sampled_from(PLATFORM_ACCOUNTS)), amount, currency=currency))
    return legs


@pytest.mark.django_db
@per_example
@given(entries=st.lists(balanced_legs(), min_size=1, max_size=4))
def test_balanced_legs_always_post_and_each_balance_is_the_sum_of_its_legs(entries):
    with rolled_back():
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for number, legs in enumerate(entries):
            entry = post(
                description=f"Entry {number}", currency=legs[0].currency, legs=legs, idempotency_key=f"p:{number}"
            )
            assert Posting.objects.filter(entry=entry).count() == len(legs)
            for leg in legs:
                expected[(leg.account, leg.currency)] += leg.amount

        for (code, currency), total in expected.items():
            assert balance(code, currency=currency) == total
        per_currency: dict[str, int] = defaultdict(int)
        for row in balances():
            assert row.balance == expected[(row.code, row.currency)]
            per_currency[row.currency] += row.balance
        assert all(total == 0 for total in per_currency.values())


@pytest.mark.django_db
@per_example
@given(legs=balanced_legs(), index=st.integers(min_value=0), skew=nonzero)
def test_unbalanced_legs_are_always_refused_and_nothing_is_written(legs, index, skew):
    position = index % len(legs)
    broken = list(legs)
    leg = broken[position]
    if leg.amount + skew == 0:
        skew += 1
    broken[position] = Leg(leg.account, leg.amount + skew, currency=leg.currency)

    with rolled_back():
        with pytest.raises(ValidationFailed) as refused:
            post(description="Broken", currency=legs[0].currency, legs=broken, idempotency_key="broken")

        assert "legs" in refused.value.details
        assert not JournalEntry.objects.exists()
        assert not Posting.objects.exists()


@pytest.mark.django_db
@per_example
@given(
    gross=st.integers(min_value=1, max_value=10**12),
    bps=st.integers(min_value=1, max_value=9_999),
    weights=st.lists(st.integers(min_value=1, max_value=1_000), min_size=1, max_size=6),
    currency=st.sampled_from(CURRENCIES),
)
def test_a_charge_split_into_fee_and_shares_always_posts_balanced(gross, bps, weights, currency):
    # the platform's fee by basis points, the rest shared among suppliers by weight (apps.core.money)
    fee, net = Money(gross, currency).split_bps(bps)
    shares = net.allocate(weights)
    assert fee.minor + sum(share.minor for share in shares) == gross
    assert all(share.minor >= 0 for share in shares)

    with rolled_back():
        suppliers = [OrganizationFactory(kind=OrgKind.VENDOR) for _ in shares]
        legs = [Leg("stripe_balance", gross), Leg("platform_fee_revenue", -fee.minor)]
        legs += [
            Leg(code_for("payee_payable", org), -share.minor) for org, share in zip(suppliers, shares, strict=True)
        ]
        legs = [leg for leg in legs if leg.amount]  # a share can round to nothing

        entry = post(description="Charge split", currency=currency, legs=legs, idempotency_key="split")

        assert sum(Posting.objects.filter(entry=entry).values_list("amount", flat=True)) == 0
        assert balance("stripe_balance", currency=currency) == gross
        assert balance("platform_fee_revenue", currency=currency) == -fee.minor
        for org, share in zip(suppliers, shares, strict=True):
            assert balance(code_for("payee_payable", org), currency=currency) == -share.minor
