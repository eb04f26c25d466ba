"""Money: integer minor units plus an ISO 4217 currency. Never floats.

Rates and other fractional amounts may be ``Decimal`` (4 places); they become money only through
``to_minor``, the single rounding function. Splits are exact: the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SGD", "INR")


def exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (2 for USD, 0 for JPY, 3 for KWD)."""
    return _EXPONENTS.get(currency.upper(), 2)


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a major-unit string with the currency's minor digits ("12.50", "-0.05", "1200" for
    JPY): integer arithmetic, no ``Decimal`` (list pages format thousands of amounts)."""
    digits = exponent(currency)
    if digits == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**digits)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{digits}d}"


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Round a major-unit amount (e.g. Decimal("12.345") USD) to integer minor units, half up.

    This is the only place in the product where a fractional amount becomes money.
    """
    if isinstance(amount, float):
        raise TypeError("Money never comes from a float; pass a Decimal or a string.")
    quantum = Decimal(1).scaleb(-exponent(currency))
    major = Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(major.scaleb(exponent(currency)))


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"Currency must be a 3-letter upper-case ISO code, got {self.currency!r}")

    @classmethod
    def from_decimal(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(to_minor(amount, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact (e.g. Decimal("12.50"))."""
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def format_amount(self) -> str:
        """The amount as the API renders it: a string with the currency's minor digits."""
        return format_minor(self.minor, self.currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"Currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.minor <= other.minor

    def multiply(self, factor: Decimal | int | str) -> Money:
        """Multiply by a rate or quantity, rounding once through ``to_minor``."""
        if isinstance(factor, float):
            raise TypeError("Money never comes from a float; pass a Decimal or a string.")
        return Money(to_minor(self.amount * Decimal(factor), self.currency), self.currency)

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split into parts proportional to ``weights``; the parts always sum to ``self`` exactly.

        Largest-remainder method: each part gets the floor of its exact share, and the minor units
        left over go one each to the parts with the largest remainders (ties to the earlier part).
        Negative amounts are split as the negation of the positive split.
        """
        if not weights:
            raise ValueError("allocate needs at least one weight")
        ws = [Decimal(w) for w in weights]
        if any(w < 0 for w in ws):
            raise ValueError("weights must not be negative")
        total_w = sum(ws)
        if total_w == 0:
            raise ValueError("weights must not all be zero")
        if self.minor < 0:
            return [-part for part in Money(-self.minor, self.currency).allocate(weights)]
        exact = [Decimal(self.minor) * w / total_w for w in ws]
        floors = [int(e) for e in exact]  # non-negative, so int() is floor
        left = self.minor - sum(floors)
        order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += 1
        return [Money(f, self.currency) for f in floors]

    def split_bps(self, bps: int) -> tuple[Money, Money]:
        """Split into (share at ``bps`` basis points, the rest); the two add up to ``self``."""
        if not 0 <= bps <= 10_000:
            raise ValueError("basis points must be between 0 and 10000")
        share, rest = self.allocate([bps, 10_000 - bps])
        return share, rest

    def __str__(self) -> str:
        return f"{self.format_amount()} {self.currency}"
