"""Prices in integer cents: discounts and tax, rounded half up, never below zero."""

from __future__ import annotations

TAX_RATES = {"de": 19, "fr": 20, "us": 0}


def discounted(cents: int, percent: int) -> int:
    """``cents`` less ``percent`` %, rounded half up."""
    if not 0 <= percent <= 100:
        raise ValueError(f"discount {percent}% is not between 0 and 100")
    return (cents * (100 - percent) + 50) // 100


def with_tax(cents: int, country: str) -> int:
    """``cents`` plus the country's VAT, rounded half up."""
    try:
        rate = TAX_RATES[country]
    except KeyError:
        raise ValueError(f"no tax rate for {country!r}") from None
    return (cents * (100 + rate) + 50) // 100
