import pytest

from backend.pricing import discounted, with_tax


def test_discount_rounds_half_up() -> None:
    assert discounted(999, 10) == 899
    assert discounted(1005, 50) == 503
    assert discounted(100, 100) == 0


def test_discount_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        discounted(100, 101)


def test_tax() -> None:
    assert with_tax(1000, "de") == 1190
    assert with_tax(1000, "us") == 1000
    with pytest.raises(ValueError, match="no tax rate"):
        with_tax(1000, "xx")
