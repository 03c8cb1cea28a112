"""The ranges the shop's values must lie in: decided before any event exists.

Every number a command carries ends up in a read-model column (64-bit integers on both
backends) and in totals summed from it, so the limits keep the largest order total far inside
that range (and inside the 2**53 that a JSON consumer's double holds exactly). Text limits are
the read-model column widths; NUL cannot be stored in PostgreSQL text at all.
"""

from __future__ import annotations

from .errors import OutOfRange

MAX_QTY = 1_000_000
MAX_PRICE_CENTS = 10**12
"""A unit price of at most 10,000,000,000.00."""
MAX_TOTAL_CENTS = 10**13
"""An order total (and so every payment and refund) of at most 100,000,000,000.00."""
MAX_NAME_CHARS = 200
"""SKU, carrier, tracking number: the width of their read-model columns."""
MAX_LONG_TEXT_CHARS = 400
"""Customer and product names."""
MAX_REASON_CHARS = 4_000
"""Why an order was cancelled or refunded."""


def shown(value: object) -> str:
    """A refused value for a message: a number of a thousand digits is not repeated whole."""
    text = repr(value) if not isinstance(value, int) else f"{value:,}" if abs(
        value) < 10**40 else f"a number of {len(str(abs(value)))} digits"
    return text if len(text) <= 60 else text[:57] + "..."


def in_range(value: int, low: int, high: int, what: str, *, money: bool = False) -> int:
    """``value`` if ``low <= value <= high``, else OutOfRange naming the field and the range."""
    if low <= value <= high:
        return value
    if money:
        from .money import format_money
        bounds, got = f"{format_money(low)} and {format_money(high)}", (
            format_money(value) if abs(value) < 10**40 else shown(value))
    else:
        bounds, got = f"{low:,} and {high:,}", shown(value)
    raise OutOfRange(f"{what} must be between {bounds}, not {got}")


def text_within(value: str, most: int, what: str) -> str:
    if len(value) > most:
        raise OutOfRange(f"{what} must be at most {most:,} characters, not {len(value):,}")
    if "\x00" in value:
        raise OutOfRange(f"{what} must not contain NUL characters")
    return value
