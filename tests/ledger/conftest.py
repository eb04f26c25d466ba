"""Ledger fixtures: the persona lab and vendor's account codes."""

from types import SimpleNamespace

import pytest

from apps.ledger.codes import code_for


@pytest.fixture
def codes(lab, vendor):
    """The account codes of the research note's example (shared/research/payments.md section 4.3)."""
    return SimpleNamespace(
        receivable=code_for("lab_receivable", lab),
        prepaid=code_for("lab_prepaid", lab),
        payable=code_for("payee_payable", vendor),
    )
