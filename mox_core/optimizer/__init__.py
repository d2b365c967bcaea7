"""Optimizers by name: ``get_optimizer_fn('momentum', learning_rate=0.1, momentum=0.9)``.

``mox.run`` takes an ``optimizer_fn`` rather than an optimizer because it must create the
optimizer inside its own graph (and sometimes once per tower), so this module hands back a
function that creates a fresh ``tf.compat.v1.train`` optimizer each time it is called. Names
come from the ``optimizers`` registry, filled by the ``mox_optimizers`` hook: the built-in seven
(``mox_core.builtin.optimizers``) and whatever installed plugins add. TensorFlow is imported only
when an optimizer is looked up, so ``import mox_core`` stays light.

``get_optimizer_wrapper_fn('lars', optimizer_fn, ratio=0.001)`` wraps such a function: wrappers
(``OptimizerSpec(wrapper=True)``, see ``mox_core.optimizer.wrappers``) come from the same
registry, and their functions can be wrapped again.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from mox_core.plugins import registry
from mox_core.registry import resolve

__all__ = [
    "get_optimizer_fn",
    "get_optimizer_wrapper_fn",
    "list_optimizer_wrappers",
    "list_optimizers",
]


def list_optimizers() -> list[str]:
    """Names ``get_optimizer_fn`` accepts (optimizer wrappers excluded), sorted."""
    return [spec.name for spec in registry("optimizers") if not spec.wrapper]


def list_optimizer_wrappers() -> list[str]:
    """Names ``get_optimizer_wrapper_fn`` accepts, sorted."""
    return [spec.name for spec in registry("optimizers") if spec.wrapper]


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
    optimizers), for a learning rate that is NaN, infinite or negative, and for arguments the
    optimizer does not take or lacks (naming them), here rather than later inside ``mox.run``.
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
    # A number is checked here (a tensor is the graph's business): a NaN or infinite rate trains
    # every weight to NaN; a negative one climbs the loss. 0 is a frozen model, on purpose.
    if isinstance(learning_rate, numbers.Real) and not (
            math.isfinite(learning_rate) and learning_rate >= 0):
        raise ValueError(f"optimizer {name!r}: learning_rate must be a finite number >= 0, "
                         f"got {learning_rate!r}")
    if scope is not None:  # ``name`` is taken by the optimizer's registry name
        kwargs["name"] = scope
    factory = resolve(spec.factory, what=f"optimizer {name!r} factory")
    _check_arguments(name, factory, (learning_rate, *args), kwargs)

    def optimizer_fn(**ignored: Any) -> Any:
        return factory(learning_rate, *args, **kwargs)

    optimizer_fn.__name__ = optimizer_fn.__qualname__ = f"{name}_optimizer_fn"
    return optimizer_fn


def get_optimizer_wrapper_fn(name: str, base_opt: Any, **kwargs: Any) -> Callable[..., Any]:
    """A function that creates the optimizer wrapper ``name`` around ``base_opt`` when called.

    ``base_opt`` is best an optimizer function: one from ``get_optimizer_fn``, one from this
    function (wrappers nest: ``batch_gradients`` around ``lars`` around ``momentum``) or the
    user's own ``lambda:``. It is called anew on every call of the returned function, so each
    graph gets its own optimizer, and it receives those of the call's keyword arguments it
    accepts (MoXing passes some to ``optimizer_fn``). A ``tf.compat.v1.train.Optimizer``
    instance is accepted too; then every call wraps that same instance.

    ``kwargs`` are the wrapper's own arguments: ``lars(ratio, weight_decay=0.0,
    skip_pattern=None)``, ``batch_gradients(num_batches, sync_on_apply=True)``. (``name`` is
    this function's first parameter, so wrappers keep their default optimizer names, ``LARS``
    and ``BatchGradients``.) The result is a ``tf.compat.v1.train.Optimizer``, so ``mox.run``
    uses it like any optimizer.

    Arguments are checked here rather than inside ``mox.run``: their names against the
    factory's signature, their values by calling the factory once with a stand-in optimizer
    (wrapper factories only record their arguments; the graph is built in
    ``apply_gradients``). Raises ``ValueError`` for an unknown name, for an optimizer's name
    (which ``get_optimizer_fn`` creates) and for a missing, unknown or bad argument, naming the
    wrapper and the argument; ``TypeError`` when ``base_opt`` is neither a function nor a
    ``tf.compat.v1.train.Optimizer``.
    """
    spec = registry("optimizers").get(name)
    if not spec.wrapper:
        raise ValueError(
            f"{name!r} is an optimizer, not an optimizer wrapper: create it with "
            f"get_optimizer_fn({name!r}, learning_rate, ...) and wrap that function; "
            f"optimizer wrappers: {', '.join(list_optimizer_wrappers())}"
        )
    import tensorflow as tf

    optimizer_class = tf.compat.v1.train.Optimizer
    if not isinstance(base_opt, optimizer_class) and not callable(base_opt):
        raise TypeError(
            f"optimizer wrapper {name!r}: base_opt must be an optimizer function (e.g. from "
            f"get_optimizer_fn) or a tf.compat.v1.train.Optimizer, got {type(base_opt).__name__}"
        )
    factory = resolve(spec.factory, what=f"optimizer wrapper {name!r} factory")
    _check_arguments(
        name,
        factory,
        (base_opt,),
        kwargs,
        kind="optimizer wrapper",
        call=f"get_optimizer_wrapper_fn({name!r}, base_opt",
    )
    stand_in = base_opt
    if not isinstance(base_opt, optimizer_class):
        stand_in = tf.compat.v1.train.GradientDescentOptimizer(0.0, name=f"{name}_check")
    factory(stand_in, **kwargs)

    def optimizer_fn(**call_kwargs: Any) -> Any:
        if isinstance(base_opt, optimizer_class):
            return factory(base_opt, **kwargs)
        return factory(_call_optimizer_fn(base_opt, call_kwargs), **kwargs)

    optimizer_fn.__name__ = optimizer_fn.__qualname__ = f"{name}_optimizer_fn"
    return optimizer_fn


def _call_optimizer_fn(optimizer_fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """``optimizer_fn`` called with those of ``kwargs`` it accepts (a ``lambda:`` takes none)."""
    if not kwargs:
        return optimizer_fn()
    try:
        params = inspect.signature(optimizer_fn).parameters
    except (TypeError, ValueError):
        return optimizer_fn(**kwargs)
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return optimizer_fn(**kwargs)
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = {
        key: value
        for key, value in kwargs.items()
        if key in params and params[key].kind in by_keyword
    }
    return optimizer_fn(**accepted)


def _check_arguments(
    name: str,
    factory: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    kind: str = "optimizer",
    call: str | None = None,
) -> None:
    """Raise ``ValueError`` when ``factory(*args, **kwargs)`` would not bind.

    ``kind`` names the thing in messages; ``call`` opens the example call that a message about
    a missing argument ends with (default: ``get_optimizer_fn(name, learning_rate``).
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no introspectable signature: the factory will tell
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        call = call or f"get_optimizer_fn({name!r}, learning_rate"
        raise ValueError(_argument_error(name, signature, args, kwargs, exc, kind, call)) from None


def _argument_error(
    name: str,
    signature: inspect.Signature,
    args: tuple,
    kwargs: dict[str, Any],
    exc: TypeError,
    kind: str,
    call: str,
) -> str:
    params = signature.parameters
    kinds = {p.kind for p in params.values()}
    by_keyword = [
        p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    # The first is the learning rate (a wrapper's: the wrapped optimizer), and ``scope`` gives
    # an optimizer its name: neither is an extra argument.
    accepted = ", ".join(key for key in by_keyword[1:] if key != "name")
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        unknown = [key for key in kwargs if key not in by_keyword]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, by_keyword, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return (
                f"{kind} {name!r} got an unexpected argument {key!r}{hint}; "
                f"it accepts: {accepted}"
            )
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return f"{kind} {name!r}: {exc}; it accepts: {accepted}"
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
            f"{kind} {name!r} needs the argument(s) {', '.join(map(repr, missing))}, "
            f"e.g. {call}, {example})"
        )
    return f"{kind} {name!r}: {exc}; it accepts: {accepted}"
