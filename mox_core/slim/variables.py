"""TF-Slim's variable helpers: finding variables, choosing what to restore, restoring it.

``get_variables(scope)`` and friends filter a graph collection by a scope regex, as TF-Slim's
did (``tf.compat.v1.get_collection(key, scope)``: the name must *start* with the pattern).
``get_variables_to_restore`` + ``assign_from_checkpoint_fn`` is TF-Slim's fine-tuning idiom::

    variables = slim.get_variables_to_restore(exclude=['logits'])
    init_fn = slim.assign_from_checkpoint_fn('/ckpt/resnet_v1_50.ckpt', variables)
    ...
    init_fn(session)

Variables are matched to checkpoint entries by ``variable.op.name`` (``conv1/weights``), or by
the keys of a ``{checkpoint name: variable}`` dict. Partitioned variables are not handled
specially (mox's layers never create them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from mox_core.nets.layers import add_arg_scope

tf1 = tf.compat.v1

__all__ = [
    "add_model_variable",
    "assign_from_checkpoint",
    "assign_from_checkpoint_fn",
    "get_global_step",
    "get_local_variables",
    "get_model_variables",
    "get_or_create_global_step",
    "get_trainable_variables",
    "get_unique_variable",
    "get_variables",
    "get_variables_by_name",
    "get_variables_by_suffix",
    "get_variables_to_restore",
    "local_variable",
    "model_variable",
    "variable",
]


def _scope_name(scope: Any, who: str) -> str | None:
    if scope is None or isinstance(scope, str):
        return scope
    if isinstance(scope, tf1.VariableScope):
        return scope.name
    raise TypeError(f"{who}: scope must be a string or a tf.compat.v1.VariableScope, got "
                    f"{scope!r}")


def get_variables(scope: Any = None, suffix: str | None = None,
                  collection: str = tf1.GraphKeys.GLOBAL_VARIABLES) -> list:
    """Variables of ``collection`` whose name starts with ``scope`` (a regex) and, with ``suffix``,
    whose name ends in ``suffix`` (e.g. ``'weights'``: every ``.../weights:0``).

    ``scope`` may also be a ``VariableScope``. As TF-Slim's; looks in the default graph.
    """
    scope = _scope_name(scope, "get_variables")
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return tf1.get_collection(collection, scope)


def get_model_variables(scope: Any = None, suffix: str | None = None) -> list:
    """:func:`get_variables` of ``MODEL_VARIABLES`` (what slim layers and ``model_variable``
    create: weights, biases, batch-norm parameters and moving statistics)."""
    return get_variables(scope, suffix, tf1.GraphKeys.MODEL_VARIABLES)


def get_local_variables(scope: Any = None, suffix: str | None = None) -> list:
    """:func:`get_variables` of ``LOCAL_VARIABLES`` (metric counters and the like)."""
    return get_variables(scope, suffix, tf1.GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope: Any = None, suffix: str | None = None) -> list:
    """:func:`get_variables` of ``TRAINABLE_VARIABLES``."""
    return get_variables(scope, suffix, tf1.GraphKeys.TRAINABLE_VARIABLES)


def get_variables_by_name(given_name: str, scope: Any = None) -> list:
    """Variables whose last name component is ``given_name`` (``'weights'``), below ``scope``."""
    suffix = "/" + given_name + ":|^" + given_name + ":"
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_suffix(suffix: str, scope: Any = None) -> list:
    """Variables whose name ends with ``suffix``, below ``scope``."""
    return get_variables(scope=scope, suffix=suffix)


def get_unique_variable(var_op_name: str) -> Any:
    """The one global variable named ``var_op_name`` (no ``:0``); ``ValueError`` when there is
    none or several."""
    candidates = get_variables(scope=var_op_name)
    if not candidates:
        raise ValueError(f"get_unique_variable: no variable is named {var_op_name!r}")
    for candidate in candidates:
        if candidate.op.name == var_op_name:
            return candidate
    raise ValueError(f"get_unique_variable: variables start with {var_op_name!r} but none is "
                     f"named exactly that: {', '.join(v.op.name for v in candidates[:5])}")


def _scopes(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):  # TF-Slim wants a list; one pattern is accepted too
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(f"get_variables_to_restore: {name} must be a list of scope names (regex "
                    f"prefixes such as 'resnet_v1_50/logits'), got {value!r}")


def get_variables_to_restore(include: Sequence[str] | str | None = None,
                             exclude: Sequence[str] | str | None = None) -> list:
    """The global variables to restore from a checkpoint, in graph order.

    ``include``: scope prefixes to take (``None``: every variable); ``exclude``: scope prefixes
    to leave out (e.g. ``['resnet_v1_50/logits']`` when fine-tuning on new classes). Patterns
    are regexes matched at the start of the variable name, as in TF-Slim. Unlike TF-Slim, a
    single string is accepted as a one-item list (TF-Slim would split it into characters).
    """
    include = _scopes(include, "include")
    exclude = _scopes(exclude, "exclude")
    if include is None:
        chosen = get_variables()
    else:
        chosen, seen = [], set()
        for scope in include:
            for var in get_variables(scope):
                if id(var) not in seen:
                    seen.add(id(var))
                    chosen.append(var)
    left_out = set()
    for scope in exclude or []:
        left_out.update(id(v) for v in get_variables(scope))
    return [v for v in chosen if id(v) not in left_out]


def _checkpoint_file(model_path: Any) -> str:
    """``model_path`` as a checkpoint prefix; a folder means its newest checkpoint."""
    if not isinstance(model_path, str) or not model_path:
        raise ValueError(f"model_path must be a checkpoint path such as '/ckpt/model.ckpt-1000', "
                         f"got {model_path!r}")
    if tf.io.gfile.isdir(model_path):
        newest = tf.train.latest_checkpoint(model_path)
        if newest is None:
            raise ValueError(f"model_path {model_path!r} is a folder without a checkpoint")
        return newest
    if not tf.io.gfile.glob(model_path + "*"):
        raise ValueError(f"model_path {model_path!r}: no checkpoint there (expected the files "
                         f"{model_path}.index and {model_path}.data-*, or a TF 1 .ckpt file)")
    return model_path


def _as_dict(var_list: Any) -> dict:
    """``{checkpoint name: variable}`` for a list of variables or such a dict."""
    if isinstance(var_list, dict):
        return dict(var_list)
    if isinstance(var_list, (list, tuple)):
        names: dict = {}
        for var in var_list:
            if not hasattr(var, "op"):
                raise TypeError(f"var_list must hold variables, got {var!r}")
            names[var.op.name] = var
        return names
    raise TypeError(f"var_list must be a list of variables or a {{checkpoint name: variable}} "
                    f"dict, got {type(var_list).__name__}")


def _present(model_path: str, var_dict: dict, ignore_missing_vars: bool) -> dict:
    reader = tf.train.load_checkpoint(model_path)
    present = {}
    for name, var in var_dict.items():
        if reader.has_tensor(name):
            present[name] = var
        elif ignore_missing_vars:
            tf1.logging.warning("Variable %s missing in checkpoint %s", name, model_path)
        else:
            raise ValueError(f"checkpoint {model_path!r} has no variable {name!r}; leave it out "
                             f"(get_variables_to_restore(exclude=[...])) or pass "
                             f"ignore_missing_vars=True")
    return present


def assign_from_checkpoint_fn(model_path: str, var_list: Any, ignore_missing_vars: bool = False,
                              reshape_variables: bool = False) -> Callable | None:
    """A function that restores ``var_list`` from checkpoint ``model_path`` into a session.

    ``var_list``: variables (matched by ``op.name``) or ``{checkpoint name: variable}``.
    ``ignore_missing_vars`` skips, with a warning, variables the checkpoint lacks; otherwise
    a missing one is a ``ValueError`` here, naming it (TF-Slim failed later, at restore time).
    Returns ``None`` (with a warning) when nothing is left to restore, as TF-Slim.

    Beyond TF-Slim: ``model_path`` may be a folder (its newest checkpoint is used), and the
    returned function takes ``(session)`` as in TF-Slim or ``(scaffold, session)``, so it can be
    given to ``tf.compat.v1.train.Scaffold(init_fn=...)`` directly.
    """
    if not var_list:
        raise ValueError("assign_from_checkpoint_fn: var_list is empty; nothing to restore")
    model_path = _checkpoint_file(model_path)
    var_dict = _present(model_path, _as_dict(var_list), ignore_missing_vars)
    if not var_dict:
        tf1.logging.warning("No Variables to restore")
        return None
    saver = tf1.train.Saver(var_dict, reshape=reshape_variables)

    def callback(*args: Any) -> None:
        if len(args) not in (1, 2):
            raise TypeError("the restore function takes (session) or (scaffold, session)")
        saver.restore(args[-1], model_path)

    return callback


def assign_from_checkpoint(model_path: str, var_list: Any,
                           ignore_missing_vars: bool = False) -> tuple[Any, dict]:
    """``(assign_op, feed_dict)`` that load ``var_list``'s values from ``model_path``:
    ``session.run(assign_op, feed_dict)``. Values are read now; shapes must match (values are
    reshaped to the variable's shape when the sizes agree). Missing variables: as
    :func:`assign_from_checkpoint_fn`."""
    if not var_list:
        raise ValueError("assign_from_checkpoint: var_list is empty; nothing to restore")
    model_path = _checkpoint_file(model_path)
    var_dict = _present(model_path, _as_dict(var_list), ignore_missing_vars)
    reader = tf.train.load_checkpoint(model_path)
    assign_ops, feed_dict = [], {}
    for name, var in var_dict.items():
        value = reader.get_tensor(name)
        shape = var.get_shape()
        if shape.is_fully_defined() and value.size != shape.num_elements():
            raise ValueError(f"checkpoint {model_path!r} holds {name!r} with shape "
                             f"{list(value.shape)}, but the variable has shape {shape}")
        placeholder = tf1.placeholder(var.dtype.base_dtype, shape,
                                      name="placeholder/" + re.sub(r"[^\w/.-]", "_", name))
        assign_ops.append(var.assign(placeholder))
        feed_dict[placeholder] = value.reshape(shape.as_list()) if shape.is_fully_defined() \
            else value
    return tf.group(*assign_ops), feed_dict


def get_global_step(graph: Any = None) -> Any:
    """The graph's global step variable, or ``None``."""
    return tf1.train.get_global_step(graph)


def get_or_create_global_step(graph: Any = None) -> Any:
    """The graph's global step, created (int64, 0, not trainable) when missing.

    Inside ``mox.run``'s ``model_fn`` this returns the run's own global step."""
    return tf1.train.get_or_create_global_step(graph)


@add_arg_scope
def variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
             regularizer: Any = None, trainable: bool = True, collections: Any = None,
             caching_device: Any = None, device: Any = None, partitioner: Any = None,
             custom_getter: Any = None, use_resource: Any = None) -> Any:
    """``tf.compat.v1.get_variable`` with TF-Slim's extras: ``collections`` always include
    ``GLOBAL_VARIABLES``, and ``device`` (a string or a function of the op) places it.
    Reuses an existing variable inside a reusing ``variable_scope``."""
    collections = list(collections if collections is not None
                       else [tf1.GraphKeys.GLOBAL_VARIABLES])
    if tf1.GraphKeys.GLOBAL_VARIABLES not in collections:
        collections.append(tf1.GraphKeys.GLOBAL_VARIABLES)
    collections = list(dict.fromkeys(collections))
    getter = tf1.get_variable
    if custom_getter is not None:
        def getter(*args, **kwargs):
            return custom_getter(tf1.get_variable, *args, **kwargs)
    with tf.device(device if device is not None else ""):
        return getter(name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, trainable=trainable, collections=collections,
                      caching_device=caching_device, partitioner=partitioner,
                      use_resource=use_resource)


@add_arg_scope
def model_variable(name: str, shape: Any = None, dtype: Any = tf.float32, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, collections: Any = None,
                   caching_device: Any = None, device: Any = None, partitioner: Any = None,
                   custom_getter: Any = None, use_resource: Any = None) -> Any:
    """:func:`variable`, also added to ``MODEL_VARIABLES`` (what ``get_model_variables`` and
    checkpoint-restoring code look at)."""
    collections = list(collections or [])
    collections += [tf1.GraphKeys.GLOBAL_VARIABLES, tf1.GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype, initializer=initializer,
                    regularizer=regularizer, trainable=trainable, collections=collections,
                    caching_device=caching_device, device=device, partitioner=partitioner,
                    custom_getter=custom_getter, use_resource=use_resource)


def add_model_variable(var: Any) -> None:
    """Add ``var`` to ``MODEL_VARIABLES`` (once)."""
    if all(v is not var for v in tf1.get_collection(tf1.GraphKeys.MODEL_VARIABLES)):
        tf1.add_to_collection(tf1.GraphKeys.MODEL_VARIABLES, var)


def local_variable(initial_value: Any, validate_shape: bool = True, name: str | None = None,
                   use_resource: Any = None) -> Any:
    """A non-trainable variable in ``LOCAL_VARIABLES`` (initialized by
    ``local_variables_initializer`` and by every ``MonitoredSession``)."""
    return tf1.Variable(initial_value, trainable=False,
                        collections=[tf1.GraphKeys.LOCAL_VARIABLES],
                        validate_shape=validate_shape, name=name, use_resource=use_resource)
