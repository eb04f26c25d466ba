"""Earnings: rate x accepted units x multiplier, minus the platform fee, exact; a batch earns once."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apps.core.events import EVENT_TYPES, emit
from apps.ledger import services as ledger
from apps.payments import selectors
from apps.payments.models import Earning
from apps.payments.services.earnings import accrue_earnings, compute_split, expert_shares
from apps.work.models import WorkBatch
from tests.payments.fixtures import annotators, make_batch, supplier_contract


def test_split_of_known_inputs():
    split = compute_split(
        unit_rate=Decimal("2.0000"), units=100, multiplier=Decimal("1.10"), currency="USD", fee_bps=1500
    )
    assert (split.gross_minor, split.fee_minor, split.net_minor) == (22000, 3300, 18700)


def test_split_rounds_once_and_splits_exactly():
    split = compute_split(
        unit_rate=Decimal("0.3333"), units=7, multiplier=Decimal("0.9000"), currency="USD", fee_bps=1000
    )
    # 0.3333 x 7 x 0.9 = 2.09979 -> 2.10 USD
    assert split.gross_minor == 210
    assert split.fee_minor + split.net_minor == 210
    assert split.fee_minor == 21


def test_split_in_a_zero_decimal_currency():
    split = compute_split(unit_rate=Decimal("150"), units=3, multiplier=Decimal("1"), currency="JPY", fee_bps=1500)
    assert (split.gross_minor, split.fee_minor, split.net_minor) == (450, 68, 382)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        compute_split(unit_rate=2.0, units=1, multiplier=Decimal("1"), currency="USD", fee_bps=0)


@hsettings(max_examples=300, deadline=None)
@given(
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999999.9999"), places=4),
    units=st.integers(min_value=0, max_value=10_000_000),
    multiplier=st.decimals(min_value=Decimal("0"), max_value=Decimal("9.9999"), places=4),
    bps=st.integers(min_value=0, max_value=10_000),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_fee_and_net_always_add_up_to_gross(rate, units, multiplier, bps, currency):
    split = compute_split(unit_rate=rate, units=units, multiplier=multiplier, currency=currency, fee_bps=bps)
    assert split.net_minor + split.fee_minor == split.gross_minor
    assert split.fee_minor >= 0 and split.net_minor >= 0


@pytest.fixture
def fee(settings):
    settings.PLATFORM_FEE_BPS = 1500
    return 1500


def test_accepted_batches_earn_and_rejected_ones_do_not(lab, fee):
    contract = supplier_contract(lab)
    accepted = make_batch(contract, units=100)
    partial = make_batch(contract, units=100, status="partially_accepted", accepted_units=40)
    make_batch(contract, units=100, status="rejected")
    make_batch(contract, units=100, status="submitted")

    assert accrue_earnings() == 2

    by_batch = {e.batch_id: e for e in Earning.objects.all()}
    assert set(by_batch) == {accepted.pk, partial.pk}
    full = by_batch[accepted.pk]
    assert (full.units, full.gross_minor, full.fee_minor, full.net_minor) == (100, 20000, 3000, 17000)
    assert full.multiplier == Decimal("1") and full.multiplier_basis == "no quality-pay terms"
    assert (full.supplier_id, full.lab_id, full.contract_id) == (contract.supplier_id, lab.pk, contract.pk)
    assert by_batch[partial.pk].units == 40 and by_batch[partial.pk].gross_minor == 8000


def test_accrual_is_idempotent_and_books_one_balanced_entry(lab, fee):
    contract = supplier_contract(lab)
    for _ in range(3):
        make_batch(contract, units=10)
    assert accrue_earnings() == 3
    assert accrue_earnings() == 0
    assert Earning.objects.count() == 3
    assert ledger.balance(f"lab_receivable:{lab.public_id}", currency="USD") == 6000
    assert ledger.balance(f"payee_payable:{contract.supplier.public_id}", currency="USD") == -5100
    assert ledger.balance("platform_fee_revenue", currency="USD") == -900


def test_a_rejected_then_overturned_batch_earns_once_when_overturned(lab, fee):
    contract = supplier_contract(lab)
    batch = make_batch(contract, units=50, status="rejected")
    assert accrue_earnings() == 0
    WorkBatch.objects.filter(pk=batch.pk).update(status="appealed")
    assert accrue_earnings() == 0
    WorkBatch.objects.filter(pk=batch.pk).update(status="overturned", accepted_units=50)
    assert accrue_earnings() == 1
    assert accrue_earnings() == 0
    assert Earning.objects.get().gross_minor == 10000


def test_accrual_in_chunks_books_every_chunk(lab, fee):
    contracts = [supplier_contract(lab) for _ in range(3)]
    for contract in contracts:
        make_batch(contract, units=1)
        make_batch(contract, units=2)
    assert accrue_earnings(chunk=4) == 6
    total_net = sum(Earning.objects.values_list("net_minor", flat=True))
    payable = sum(ledger.balance(f"payee_payable:{c.supplier.public_id}", currency="USD") for c in contracts)
    assert payable == -total_net


def test_accrual_until_a_date_leaves_later_batches(lab, fee):
    from datetime import UTC, date, datetime

    contract = supplier_contract(lab)
    make_batch(contract, reviewed_at=datetime(2025, 3, 10, 12, tzinfo=UTC))
    make_batch(contract, reviewed_at=datetime(2025, 4, 10, 12, tzinfo=UTC))
    assert accrue_earnings(until=date(2025, 3, 31)) == 1
    assert Earning.objects.get().earned_on == date(2025, 3, 10)


@pytest.mark.skipif("batch.accepted" not in EVENT_TYPES, reason="the batch.accepted event is not defined yet")
def test_a_batch_accepted_event_earns_in_the_same_transaction(lab, fee):
    contract = supplier_contract(lab)
    batch = make_batch(contract, units=10)
    emit("batch.accepted", obj=batch, organization_ids=[lab.pk, contract.supplier_id], data={})
    assert Earning.objects.filter(batch=batch).count() == 1


def test_expert_shares_add_up_to_the_net(lab, fee):
    contract = supplier_contract(lab)
    a, b, c = annotators(3)
    make_batch(contract, units=10, judgments=[(a, 1), (b, 1), (c, 1)])
    accrue_earnings()
    earning = Earning.objects.get()
    shares = expert_shares(earning)
    assert sum(s.net_minor for s in shares) == earning.net_minor == 1700
    assert sorted(s.net_minor for s in shares) == [566, 567, 567]


def test_vendor_statement_and_each_experts_own_share(lab, vendor, vendor_manager, expert, fee):
    from apps.accounts.roles import Role
    from tests.factories import member

    other = member(vendor, Role.EXPERT)
    contract = supplier_contract(lab, supplier=vendor)
    make_batch(contract, units=10, judgments=[(expert, 3), (other, 1)])
    accrue_earnings()

    rows = selectors.expert_statement(actor=vendor_manager, organization=vendor)
    assert {(r.annotator_id, r.judgments, r.share.minor) for r in rows} == {(expert.pk, 3, 1275), (other.pk, 1, 425)}
    own = selectors.expert_statement(actor=expert, organization=vendor)
    assert [(r.annotator_id, r.share.minor) for r in own] == [(expert.pk, 1275)]


def test_a_lab_sees_what_it_owes_and_a_stranger_nothing(lab, lab_member, vendor, vendor_manager, outsider, fee):
    from apps.core.errors import NotFound

    contract = supplier_contract(lab, supplier=vendor)
    make_batch(contract, units=10)
    accrue_earnings()
    assert selectors.earning_list(actor=lab_member, organization=lab).count() == 1
    assert selectors.earning_list(actor=vendor_manager, organization=vendor).count() == 1
    with pytest.raises(NotFound):
        selectors.earning_list(actor=outsider, organization=vendor)


def test_a_contract_with_quality_pay_bands_asks_the_quality_engine(lab, fee):
    contract = supplier_contract(lab, quality_pay=[["0.95", "1.10"], ["0.85", "1.00"]])
    make_batch(contract, units=10)
    accrue_earnings()
    earning = Earning.objects.get()
    # No gold measured yet: the engine answers 1.00 and says why.
    assert earning.multiplier == Decimal("1.0000") and earning.multiplier_basis == "no gold measured"
    assert earning.gross_minor == 2000
