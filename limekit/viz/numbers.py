"""Numbers as people read them in tables and pages (not in feature names, which keep lime's ``%.2f``)."""

from __future__ import annotations

import math
import numbers

__all__ = ["readable"]

FIXED_RANGE = (1e-3, 1e15)  # magnitudes written without an exponent


def readable(value: object, digits: int = 4) -> str:
    """``value`` for display: integers as integers with thousands separators, ordinary magnitudes in fixed notation.

    Parameters
    ----------
    value : object
        A number (anything else is shown with ``str``).
    digits : int, default=4
        Significant digits of a non-integer.

    Returns
    -------
    str
        ``34900.0`` -> ``'34,900'``, ``0.00931`` -> ``'0.00931'``, ``1234.567`` -> ``'1,235'``,
        ``12.5`` -> ``'12.5'``, ``2.5e-07`` -> ``'2.5e-07'``, NaN -> ``'nan'``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    magnitude = abs(number)
    if number == 0:
        return "0"
    if not FIXED_RANGE[0] <= magnitude < FIXED_RANGE[1]:
        mantissa, exponent = f"{number:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
