"""Checks of the numbers users give (options, flags, recipe fields), one wording everywhere."""

from __future__ import annotations

import math
import numbers
from typing import Any


def finite_number(what: str, value: Any, *, zero: bool = False) -> float:
    """``value`` as a float when it is a finite number above 0 (or equal to 0 with ``zero``);
    else a ``ValueError`` naming ``what``: argparse and flags take ``nan`` and ``inf`` for a
    float, and a NaN rate or scale trains every weight to NaN without a word."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        wanted = "a finite number >= 0" if zero else "a finite number > 0"
        raise ValueError(f"{what} must be {wanted}, got {value!r}")
    return float(value)
