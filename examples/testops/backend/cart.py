"""A cart of (sku, unit price in cents, quantity) lines."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cart:
    """Lines by SKU, in the order they were first added."""

    lines: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, sku: str, cents: int, quantity: int = 1) -> None:
        """Add ``quantity`` of ``sku`` at ``cents`` each."""
        if quantity <= 0:
            raise ValueError(f"quantity {quantity} is not positive")
        _, have = self.lines.get(sku, (cents, 0))
        self.lines[sku] = (cents, have + quantity)

    def total(self) -> int:
        """The sum of every line, in cents."""
        return sum(cents * quantity for cents, quantity in self.lines.values())
