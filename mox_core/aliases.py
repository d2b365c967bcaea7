"""Keyword aliases: arguments that MoXing's API document spells two ways.

The document's signatures and its own examples disagree on a few keyword names
(``get_flag(name)`` and ``get_flag(flag_name=...)``; ``file_pattern`` and ``file_patterns``;
``metadata`` and ``meta``). MoXing users' code has either spelling, so mox accepts both; giving
both at once is an error rather than a silent choice, because the two values may differ.
"""

from __future__ import annotations

from typing import Any


def aliased(owner: str, name: str, value: Any, alias: str, alias_value: Any,
            required: bool = False) -> Any:
    """The value given as ``name`` or as its alias ``alias`` (``None`` means not given).

    ``owner`` names the function or class in the errors: a ``TypeError`` (Python's own error for
    an argument given twice) naming both spellings when both are given, and, when ``required``,
    one naming both when neither is.
    """
    if value is not None and alias_value is not None:
        raise TypeError(
            f"{owner}() got both {name}={value!r} and {alias}={alias_value!r}: {alias} is "
            f"another spelling of {name}; pass only one of them"
        )
    chosen = alias_value if value is None else value
    if chosen is None and required:
        raise TypeError(f"{owner}() missing its argument {name!r} (also spelt {alias!r})")
    return chosen
