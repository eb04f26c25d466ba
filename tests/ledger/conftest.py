"""Ledger fixtures: the persona lab and vendor's account codes, and a small set of books."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from apps.ledger.codes import code_for
from apps.ledger.services import Leg, post


@pytest.fixture
def codes(lab, vendor):
    """The account codes of the research note's example (shared/research/payments.md section 4.3)."""
    return SimpleNamespace(
        receivable=code_for("lab_receivable", lab),
        prepaid=code_for("lab_prepaid", lab),
        payable=code_for("payee_payable", vendor),
    )


@pytest.fixture
def paid_description():
    """The description of ``books``' second entry (a module may override it, e.g. with a formula)."""
    return "Lab paid"


@pytest.fixture
def books(db, codes, paid_description):
    """Work accepted on 1 March, the lab paid on 5 March: the two entries, in that order."""
    accepted = post(
        description="Work accepted",
        currency="USD",
        legs=[Leg(codes.receivable, 10_000), Leg(codes.payable, -8_500), Leg("platform_fee_revenue", -1_500)],
        idempotency_key="accept:1",
        source_type="batch",
        source_id="b-1",
        occurred_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    paid = post(
        description=paid_description,
        currency="USD",
        legs=[Leg("stripe_balance", 9_680), Leg("stripe_fees", 320), Leg(codes.receivable, -10_000)],
        idempotency_key="paid:1",
        source_type="lab_charge",
        source_id="ch_1",
        occurred_at=datetime(2026, 3, 5, 12, tzinfo=UTC),
    )
    return accepted, paid
