"""Model towers: one copy of the model per device, sharing variables.

``model_fn`` is called once per device inside a tower context; ``get_collection`` and
``var_scope`` are what user code calls inside ``model_fn`` to stay correct with several towers
and with mixed precision.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import threading

import tensorflow.compat.v1 as tf

#: Collections whose items are created once for all towers (variables, and the regularization
#: losses made with them): every tower sees them all, so each tower's loss is complete.
SHARED_COLLECTIONS = frozenset(
    {
        tf.GraphKeys.GLOBAL_VARIABLES,
        tf.GraphKeys.TRAINABLE_VARIABLES,
        tf.GraphKeys.MODEL_VARIABLES,
        tf.GraphKeys.LOCAL_VARIABLES,
        tf.GraphKeys.MOVING_AVERAGE_VARIABLES,
        tf.GraphKeys.REGULARIZATION_LOSSES,
    }
)

#: the op types that hold a variable's value (placed on the parameter device)
VARIABLE_OPS = frozenset({"Variable", "VariableV2", "VarHandleOp", "AutoReloadVariable"})


@dataclasses.dataclass(frozen=True)
class Tower:
    index: int
    count: int
    name_scope: str  # '' for a single tower


_local = threading.local()


def current_tower() -> Tower | None:
    """The tower whose ``model_fn`` call is running, or ``None`` outside ``mox.run``."""
    stack = getattr(_local, "stack", [])
    return stack[-1] if stack else None


@contextlib.contextmanager
def tower_context(tower: Tower):
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(tower)
    try:
        yield tower
    finally:
        stack.pop()


def get_collection(key):
    """``tf.get_collection(key)`` for the current tower: use it inside ``model_fn``.

    With several devices ``model_fn`` runs once per device, so ``tf.get_collection`` would
    return every tower's items (e.g. each tower's batch-norm update ops). This returns the
    current tower's own items, and all of the shared ones (variables, regularization losses).
    """
    tower = current_tower()
    if tower is None or not tower.name_scope or key in SHARED_COLLECTIONS:
        return tf.get_collection(key)
    return tf.get_collection(key, scope=tower.name_scope)


@contextlib.contextmanager
def var_scope(force_dtype=None):
    """Variables asked for inside are stored as ``force_dtype`` and read cast to the dtype asked.

    The mixed-precision idiom: ``with mox.var_scope(force_dtype=tf.float32):
    w = tf.get_variable('w', shape, dtype=tf.float16)`` keeps a float32 variable (what the
    optimizer updates and the checkpoint holds) and gives the model a float16 tensor.
    """
    force = tf.as_dtype(force_dtype) if force_dtype is not None else None

    def cast_getter(getter, name, shape=None, dtype=None, *args, **kwargs):
        wanted = tf.as_dtype(dtype) if dtype is not None else None
        if force is None or wanted is None or wanted == force:
            return getter(name, shape, dtype, *args, **kwargs)
        variable = getter(name, shape, force, *args, **kwargs)
        return tf.cast(variable, wanted)

    with tf.variable_scope(tf.get_variable_scope(), custom_getter=cast_getter):
        yield


def _strip_prefix(name: str, prefix: str) -> str:
    prefix = prefix.rstrip("/")
    if prefix and (name == prefix or name.startswith(prefix + "/")):
        return name[len(prefix):].lstrip("/")
    return name


@contextlib.contextmanager
def _fresh_keras_names():
    """Keras names new layers from a process-wide counter (dense, dense_1, ...); restart it
    for each ``model_fn`` call so every call names its layers, and so variables, alike."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # no Keras 3: nothing to reset
        yield
        return
    saved = global_state.get_global_attribute("object_name_uids")
    global_state.set_global_attribute("object_name_uids", collections.defaultdict(int))
    try:
        yield
    finally:
        global_state.set_global_attribute("object_name_uids", saved)


class VariableSharing:
    """Shares variables made with ``tf.Variable`` (e.g. by Keras layers) between the
    ``model_fn`` calls of one graph, as ``tf.get_variable`` with reuse shares its own.

    Inside a call, a variable is named from the name scope it is created in, less the
    tower's own prefix (``tower_1/dense/kernel`` -> ``dense/kernel``), so one model's
    variables have the same names whatever the number of devices (checkpoints stay
    interchangeable). The n-th request for a name in a later call gets the variable that the
    n-th request for that name created in the first call.
    """

    def __init__(self) -> None:
        self._created: dict[tuple[str, int], tf.Variable] = {}

    @contextlib.contextmanager
    def call(self, tower: Tower):
        requests: collections.Counter = collections.Counter()

        def creator(next_creator, **kwargs):
            name = kwargs.get("name")
            if not name or kwargs.get("variable_def") is not None:
                return next_creator(**kwargs)
            graph = tf.get_default_graph()
            scope = graph.get_name_scope()
            full = _strip_prefix(f"{scope}/{name}" if scope else name, tower.name_scope)
            key = (full, requests[full])
            requests[full] += 1
            if key in self._created:
                return self._created[key]
            base, _, leaf = full.rpartition("/")
            with graph.name_scope(base + "/" if base else ""):  # absolute: no tower prefix
                kwargs["name"] = leaf
                variable = next_creator(**kwargs)
            self._created[key] = variable
            return variable

        with tf.variable_creator_scope(creator), _fresh_keras_names():
            yield
