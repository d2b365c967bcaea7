"""``arg_scope``: default arguments for the layer functions, as TF-Slim's ``arg_scope``.

``@add_arg_scope`` makes a layer function read its keyword defaults from the enclosing
``with arg_scope([...], **defaults)`` blocks, so a network family states its weight decay,
batch-norm options and data format once (its ``*_arg_scope()``) instead of at every layer.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _ArgScopeStack(threading.local):
    """Per-thread stack of ``{op key: {argument: default}}``; towers may be built in threads."""

    def __init__(self) -> None:
        self.stack: list[dict[tuple[str, str], dict[str, Any]]] = [{}]


_ARG_SCOPES = _ArgScopeStack()


def _op_key(func: Callable) -> tuple[str, str] | None:
    return getattr(func, "_arg_scope_key", None)


def has_arg_scope(func: Callable) -> bool:
    """Whether ``func`` was decorated with :func:`add_arg_scope`."""
    return _op_key(func) is not None


def current_arg_scope() -> dict[tuple[str, str], dict[str, Any]]:
    """The innermost arg scope (what ``with arg_scope(...) as sc`` yields)."""
    return _ARG_SCOPES.stack[-1]


def add_arg_scope(func: Callable) -> Callable:
    """Make ``func`` take its keyword defaults from the enclosing :func:`arg_scope` blocks.

    Arguments given explicitly, by keyword or by position, always win over the scope's.
    """
    key = (func.__module__, func.__qualname__)
    params = inspect.signature(func).parameters
    positional: list[str] = []
    for name, param in params.items():
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            break
        positional.append(name)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        defaults = current_arg_scope().get(key)
        if defaults:
            given_by_position = positional[: len(args)]
            merged = {k: v for k, v in defaults.items() if k not in given_by_position}
            merged.update(kwargs)
            kwargs = merged
        return func(*args, **kwargs)

    wrapper._arg_scope_key = key  # type: ignore[attr-defined]
    wrapper._arg_scope_accepts = None if accepts_any else frozenset(params)  # type: ignore[attr-defined]
    return wrapper


@contextlib.contextmanager
def arg_scope(
    list_ops_or_scope: list | tuple | dict, **kwargs: Any
) -> Iterator[dict[tuple[str, str], dict[str, Any]]]:
    """Set default arguments of the listed layer functions inside the ``with`` block.

    ``with arg_scope([conv2d, fully_connected], weights_regularizer=l2_regularizer(4e-5)):``.
    Nested scopes add to (and override) the outer ones. The block yields the scope as a dict,
    which ``arg_scope(saved_scope)`` re-enters later: TF-Slim's ``*_arg_scope()`` idiom.
    An argument that one of the functions does not take is a ``TypeError`` here, not at the
    first call.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("arg_scope(saved_scope) re-enters a saved scope and takes no kwargs")
        scope = dict(list_ops_or_scope)
    elif isinstance(list_ops_or_scope, (list, tuple)):
        scope = dict(current_arg_scope())
        for op in list_ops_or_scope:
            key = _op_key(op)
            if key is None:
                raise ValueError(
                    f"{getattr(op, '__name__', op)!r} is not decorated with @add_arg_scope"
                )
            accepted = op._arg_scope_accepts
            unknown = sorted(set(kwargs) - accepted) if accepted is not None else []
            if unknown:
                raise TypeError(
                    f"arg_scope: {op.__name__}() takes no argument {', '.join(map(repr, unknown))}"
                )
            scope[key] = {**scope.get(key, {}), **kwargs}
    else:
        raise TypeError(
            "arg_scope expects a list/tuple of layer functions or a saved scope dict, "
            f"got {type(list_ops_or_scope).__name__}"
        )
    _ARG_SCOPES.stack.append(scope)
    try:
        yield scope
    finally:
        _ARG_SCOPES.stack.pop()
