"""Money: integer minor units, one rounding function, exact splits."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from apps.core.money import Money, exponent, to_minor

BIGINT_MAX = 2**63 - 1  # the amount_minor column is a BigInteger


# --- Money basics -------------------------------------------------------------------------------


def test_money_adds_and_subtracts_within_one_currency():
    assert Money(1050, "USD") + Money(250, "USD") == Money(1300, "USD")
    assert Money(1050, "USD") - Money(2000, "USD") == Money(-950, "USD")
    assert -Money(5, "EUR") == Money(-5, "EUR")


def test_money_refuses_to_mix_currencies():
    with pytest.raises(ValueError, match="USD and EUR"):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(ValueError):
        Money(1, "USD") < Money(1, "EUR")  # noqa: B015


def test_money_compares_amounts():
    assert Money(1, "USD") < Money(2, "USD")
    assert Money(2, "USD") <= Money(2, "USD")
    assert not Money(3, "USD") <= Money(2, "USD")


def test_money_minor_must_be_an_int():
    with pytest.raises(TypeError):
        Money(10.0, "USD")
    with pytest.raises(TypeError):
        Money(Decimal("10"), "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "U5D", ""])
def test_money_currency_must_be_an_upper_case_iso_code(currency):
    with pytest.raises(ValueError, match="Currency"):
        Money(1, currency)


def test_money_renders_major_units_with_the_currencys_digits():
    assert Money(1250, "USD").amount == Decimal("12.50")
    assert Money(1250, "USD").format_amount() == "12.50"
    assert Money(-5, "USD").format_amount() == "-0.05"
    assert Money(1250, "JPY").format_amount() == "1250"
    assert Money(1250, "KWD").format_amount() == "1.250"
    assert str(Money(1250, "EUR")) == "12.50 EUR"


def test_money_from_decimal_and_zero():
    assert Money.from_decimal("12.345", "USD") == Money(1235, "USD")
    assert Money.zero("GBP") == Money(0, "GBP")


def test_money_multiply_rounds_once_half_up():
    # 1.00 USD x 3.75; 0.01 USD x 0.5 = 0.005 -> 0.01; 3.33 USD x 0.1250 = 0.41625 -> 0.42
    assert Money(100, "USD").multiply(Decimal("3.75")) == Money(375, "USD")
    assert Money(1, "USD").multiply("0.5") == Money(1, "USD")
    assert Money(333, "USD").multiply(Decimal("0.1250")) == Money(42, "USD")  # 41.625 -> 42


def test_money_multiply_refuses_floats():
    with pytest.raises(TypeError, match="float"):
        Money(100, "USD").multiply(0.1)


# --- to_minor: the one rounding function ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("12.34"), "USD", 1234),
        (Decimal("0.005"), "USD", 1),  # half up
        (Decimal("0.0049"), "USD", 0),
        (Decimal("-0.005"), "USD", -1),  # half away from zero for negatives
        (Decimal("2.675"), "USD", 268),  # the classic float trap: exact in Decimal
        ("19.999", "EUR", 2000),
        (7, "USD", 700),
        (Decimal("1234.5"), "JPY", 1235),  # 0 minor digits
        (Decimal("1234.4"), "JPY", 1234),
        (Decimal("1.2345"), "KWD", 1235),  # 3 minor digits
        (Decimal("1.2344"), "KWD", 1234),
        (Decimal("10.0005"), "BHD", 10001),
    ],
)
def test_to_minor_rounds_half_up_with_the_currencys_exponent(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert isinstance(to_minor(amount, currency), int)


def test_exponent_knows_the_iso_exceptions():
    assert exponent("USD") == 2
    assert exponent("jpy") == 0
    assert exponent("KWD") == 3


def test_to_minor_refuses_floats():
    with pytest.raises(TypeError, match="float"):
        to_minor(0.1, "USD")
    with pytest.raises(TypeError):
        Money.from_decimal(12.5, "USD")


# --- allocate / split_bps: exact splits --------------------------------------------------------------


def test_allocate_gives_leftover_units_to_the_largest_remainders():
    assert Money(100, "USD").allocate([1, 1, 1]) == [Money(34, "USD"), Money(33, "USD"), Money(33, "USD")]
    assert Money(5, "USD").allocate([3, 7]) == [Money(2, "USD"), Money(3, "USD")]  # 1.5/3.5: tie -> earlier
    assert Money(-100, "USD").allocate([1, 1, 1]) == [Money(-34, "USD"), Money(-33, "USD"), Money(-33, "USD")]
    assert Money(100, "USD").allocate([0, 1]) == [Money(0, "USD"), Money(100, "USD")]
    assert Money(10, "USD").allocate([Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [
        Money(5, "USD"),
        Money(3, "USD"),
        Money(2, "USD"),
    ]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_empty_zero_or_negative_weights(weights):
    with pytest.raises(ValueError):
        Money(100, "USD").allocate(weights)


def test_split_bps_takes_a_fee_and_leaves_the_rest():
    fee, rest = Money(12345, "USD").split_bps(1000)
    assert (fee, rest) == (Money(1235, "USD"), Money(11110, "USD"))
    assert Money(1, "USD").split_bps(0) == (Money(0, "USD"), Money(1, "USD"))
    assert Money(1, "USD").split_bps(10_000) == (Money(1, "USD"), Money(0, "USD"))
    with pytest.raises(ValueError):
        Money(1, "USD").split_bps(10_001)
    with pytest.raises(ValueError):
        Money(1, "USD").split_bps(-1)


amounts = st.integers(min_value=-BIGINT_MAX, max_value=BIGINT_MAX)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12).filter(any)


def _assert_exact_split(whole: int, weights: list[int], parts: list[Money]) -> None:
    assert len(parts) == len(weights)
    assert sum(p.minor for p in parts) == whole
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(whole) * weight / total
        assert abs(part.minor - share) < 1, (part, share)
        if weight == 0:
            assert part.minor == 0


@given(minor=amounts, weights=weight_lists)
@example(minor=BIGINT_MAX, weights=[1, 999_999_999, 999_999_998])
@example(minor=-BIGINT_MAX, weights=[10**9 - 1, 10**9])
def test_allocate_parts_always_sum_to_the_whole(minor, weights):
    parts = Money(minor, "USD").allocate(weights)
    _assert_exact_split(minor, weights, parts)


@given(minor=amounts, bps=st.integers(min_value=0, max_value=10_000))
def test_split_bps_parts_always_sum_to_the_whole(minor, bps):
    share, rest = Money(minor, "EUR").split_bps(bps)
    _assert_exact_split(minor, [bps, 10_000 - bps], [share, rest])


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(["USD", "JPY", "KWD"]))
@example(minor=0, currency="USD")
@example(minor=-5, currency="USD")
@example(minor=-1, currency="KWD")
def test_format_minor_equals_the_decimal_formatting(minor, currency):
    from apps.core.money import format_minor

    digits = exponent(currency)
    assert format_minor(minor, currency) == f"{Decimal(minor).scaleb(-digits):.{digits}f}"
    assert Money(minor, currency).format_amount() == format_minor(minor, currency)
