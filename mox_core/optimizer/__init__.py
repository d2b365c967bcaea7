"""Optimizers by name: ``get_optimizer_fn('momentum', learning_rate=0.1, momentum=0.9)``.

``mox.run`` takes an ``optimizer_fn`` rather than an optimizer because it must create the
optimizer inside its own graph (and sometimes once per tower), so this module hands back a
function that creates a fresh ``tf.compat.v1.train`` optimizer each time it is called. Names
come from the ``optimizers`` registry, filled by the ``mox_optimizers`` hook: the built-in seven
(``mox_core.builtin.optimizers``) and whatever installed plugins add. TensorFlow is imported only
when an optimizer is looked up, so ``import mox_core`` stays light.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

from mox_core.plugins import registry
from mox_core.registry import resolve

__all__ = ["get_optimizer_fn", "list_optimizers"]


def list_optimizers() -> list[str]:
    """Names ``get_optimizer_fn`` accepts (optimizer wrappers excluded), sorted."""
    return [spec.name for spec in registry("optimizers") if not spec.wrapper]


def get_optimizer_fn(
    name: str, learning_rate: Any, scope: str | None = None, *args: Any, **kwargs: Any
) -> Callable[..., Any]:
    """A function that creates the optimizer ``name`` each time it is called.

    ``learning_rate`` is a python number or a scalar tensor (e.g. from
    ``learning_rate_scheduler.piecewise_lr``); ``scope`` names the optimizer (its slot variables
    are ``<variable>/<scope>``); ``args`` and ``kwargs`` are the optimizer class's own further
    arguments, in TensorFlow's order (``get_optimizer_fn('adam', 0.001, None, 0.9, 0.99)`` sets
    ``beta1`` and ``beta2``). The returned function ignores keyword arguments, because MoXing
    calls ``optimizer_fn(**kwargs)`` in places.

    Raises ``ValueError`` for an unknown name (listing close matches and the installed
    optimizers) and for arguments the optimizer does not take or lacks (naming them), here
    rather than later inside ``mox.run``.
    """
    spec = registry("optimizers").get(name)
    if spec.wrapper:
        raise ValueError(
            f"{name!r} is an optimizer wrapper, not an optimizer: wrap an optimizer function "
            f"with get_optimizer_wrapper_fn({name!r}, ...); optimizers: "
            f"{', '.join(list_optimizers())}"
        )
    if learning_rate is None:
        raise ValueError(f"optimizer {name!r}: learning_rate is required")
    if scope is not None:  # ``name`` is taken by the optimizer's registry name
        kwargs["name"] = scope
    factory = resolve(spec.factory, what=f"optimizer {name!r} factory")
    _check_arguments(name, factory, (learning_rate, *args), kwargs)

    def optimizer_fn(**ignored: Any) -> Any:
        return factory(learning_rate, *args, **kwargs)

    optimizer_fn.__name__ = optimizer_fn.__qualname__ = f"{name}_optimizer_fn"
    return optimizer_fn


def _check_arguments(
    name: str, factory: Callable[..., Any], args: tuple, kwargs: dict[str, Any]
) -> None:
    """Raise ``ValueError`` when ``factory(*args, **kwargs)`` would not bind."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no introspectable signature: the factory will tell
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(_argument_error(name, signature, args, kwargs, exc)) from None


def _argument_error(
    name: str,
    signature: inspect.Signature,
    args: tuple,
    kwargs: dict[str, Any],
    exc: TypeError,
) -> str:
    params = signature.parameters
    kinds = {p.kind for p in params.values()}
    by_keyword = [
        p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    # The first is the learning rate, and ``scope`` gives the name: neither is an extra argument.
    accepted = ", ".join(key for key in by_keyword[1:] if key != "name")
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        unknown = [key for key in kwargs if key not in by_keyword]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, by_keyword, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return (
                f"optimizer {name!r} got an unexpected argument {key!r}{hint}; "
                f"it accepts: {accepted}"
            )
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return f"optimizer {name!r}: {exc}; it accepts: {accepted}"
    missing = [
        p.name
        for p in params.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in bound.arguments
    ]
    if missing:
        example = ", ".join(f"{key}=..." for key in missing)
        return (
            f"optimizer {name!r} needs the argument(s) {', '.join(map(repr, missing))}, "
            f"e.g. get_optimizer_fn({name!r}, learning_rate, {example})"
        )
    return f"optimizer {name!r}: {exc}; it accepts: {accepted}"
