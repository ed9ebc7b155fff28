"""Money is ``Decimal`` in whole cents, with one rounding rule where rounding is needed.

Stored amounts are never rounded on the way in: a sub-cent value reaching a money
column is a bug upstream and is refused (``cents``). Where a computation really makes
sub-cent values (VAT of a line, an upstream total with more digits), ``round_cents``
rounds half-up to the cent — away from zero for negatives — the way invoices are
printed in Belgium and the Netherlands, rather than Python's default half-to-even.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_cents(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to the cent: 2.345 → 2.35, -2.345 → -2.35."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal | int | str) -> Decimal:
    """``value`` with two decimals; ValueError when it has a fraction of a cent."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    try:
        amount = Decimal(value)
        exact = amount.quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if exact != amount:
        raise ValueError(f"{value} has a fraction of a cent; amounts are whole cents")
    return exact
