import pytest

from backend.cart import Cart


def test_lines_add_up() -> None:
    cart = Cart()
    cart.add("apple", 120, 3)
    cart.add("pear", 99)
    cart.add("apple", 120)
    assert cart.lines["apple"] == (120, 4)
    assert cart.total() == 4 * 120 + 99


def test_quantity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="not positive"):
        Cart().add("apple", 120, 0)
