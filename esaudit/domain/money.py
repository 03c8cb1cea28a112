"""Money is integer cents inside esaudit; decimals only at the edges (CLI, dialogs)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import InvalidCommand, OutOfRange

_MOST_DIGITS = 36


def parse_money(text: str | int | Decimal) -> int:
    """Cents from a decimal amount such as "12.50"; refuses fractions of a cent and negatives."""
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidCommand(f"not an amount: {text!r} (write it like 12.50)") from None
    if not amount.is_finite():
        raise InvalidCommand(f"not an amount: {text!r}")
    if amount and amount.adjusted() > _MOST_DIGITS:
        # Refused before int() turns "1e999999999" into a billion digits.
        raise OutOfRange(f"amount {str(text).strip()[:40]} is out of any range a command allows")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InvalidCommand(f"{text!r} has fractions of a cent")
    if cents < 0:
        raise InvalidCommand(f"amount {text!r} is negative")
    return int(cents)


def format_money(cents: int, currency: str = "") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    text = f"{sign}{whole:,}.{part:02d}"
    return f"{text} {currency}" if currency else text
