"""Calling user functions and turning what ``input_fn`` returns into per-tower inputs.

``input_fn`` may return one tensor, a tuple or list of tensors, or a ``tf.data.Dataset``. With
``auto_batch`` the values are single examples and are batched here; without it they are
batches already. Each step reads one global batch (``batch_size`` per tower) and splits it
between the towers, so towers never wait on separate pipelines.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import tensorflow.compat.v1 as tf
from tensorflow.compat.v2 import data as data_v2

from mox_core.constants import ModeKeys


def call_with_mode(fn: Callable, what: str, *args: Any) -> Any:
    """Call a user function with positional ``args`` (the mode last), as MoXing does.

    User functions name the mode ``mode`` or ``run_mode`` and may or may not take
    ``**kwargs``; passing it positionally works for all of them. A function that cannot take
    that many positional arguments gets a ``TypeError`` naming it and showing its signature.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn(*args)
    try:
        signature.bind(*args)
    except TypeError:
        raise TypeError(
            f"{what} {getattr(fn, '__name__', fn)!r} must accept {len(args)} positional "
            f"argument(s) ({what} receives {_describe(args)}); its signature is {signature}"
        ) from None
    return fn(*args)


def _describe(args: tuple) -> str:
    return ", ".join("inputs" if isinstance(a, list) else repr(a) for a in args)


@dataclasses.dataclass
class Inputs:
    """The input tensors of each tower, and what the executor needs to know about them."""

    per_tower: list[list[Any]]
    batch_size: Any  # global examples per step: an int, or a scalar tensor when unknown
    dynamic_batch: Any  # global examples in the current step (smaller at the end of the data)
    tower_batches: list[Any]  # examples of each tower in the current step
    initializer: Any = None  # an op re-starting the input, when the executor owns the iterator
    example_signature: list[tf.TensorSpec] | None = None  # one example, for export placeholders


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple: one input each
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _check_tensors(values: list[Any]) -> None:
    for index, value in enumerate(values):
        for leaf in tf.nest.flatten(value):
            if not isinstance(leaf, (tf.Tensor, tf.SparseTensor, tf.Variable)):
                raise TypeError(
                    f"input {index} from input_fn is of type {type(leaf).__name__}; input_fn "
                    f"must return tensors, a tuple/list of tensors, or a tf.data.Dataset"
                )


def build_inputs(input_fn: Callable, mode: str, num_towers: int, batch_size: int | None,
                 auto_batch: bool, reinitializable: bool = False) -> Inputs:
    """Call ``input_fn(mode)`` in the current graph and split its batches between towers.

    ``reinitializable`` builds a Dataset's iterator so that it can be restarted (the
    ``inter_mode`` evaluation data, read once per evaluation).
    """
    training = mode == ModeKeys.TRAIN
    with tf.device("/cpu:0"):
        returned = call_with_mode(input_fn, "input_fn", mode)
        if returned is None:
            raise TypeError("input_fn returned None; it must return tensors, a tuple/list of "
                            "tensors, or a tf.data.Dataset")
        global_batch = batch_size * num_towers if batch_size else None
        if isinstance(returned, (tuple, list)) and not returned:
            # A model without input data (e.g. fed by hooks): every step gets an empty list.
            examples = tf.constant(global_batch or 0, tf.int32)
            return Inputs([[] for _ in range(num_towers)], global_batch or examples, examples,
                          [examples] * num_towers, None, [])
        initializer = None
        signature = None
        # tf.compat.v1.data.Dataset subclasses the TF2 class: this accepts datasets built either way.
        if isinstance(returned, data_v2.Dataset):
            dataset = returned
            if auto_batch:
                signature = _signature(dataset.element_spec)
                dataset = dataset.batch(global_batch, drop_remainder=training and num_towers > 1)
            dataset = dataset.prefetch(1)
            if reinitializable:
                iterator = tf.data.make_initializable_iterator(dataset)
                initializer = iterator.initializer
            else:
                iterator = tf.data.make_one_shot_iterator(dataset)
            values = _as_list(iterator.get_next())
        else:
            values = _as_list(returned)
            _check_tensors(values)
            if auto_batch:
                signature = _signature(tuple(values))
                values = _batch_examples(values, global_batch, allow_smaller=not training)
        _check_tensors(values)
        if not values:
            raise TypeError("input_fn returned no tensor; it must return at least one")
        if tf.nest.flatten(values[0])[0].shape.rank == 0:
            # No batch dimension to split: a stand-in input of a model fed by hooks (MoXing's
            # FeedSessionRunHook example returns [tf.constant(0.0)]). Every tower gets it whole.
            examples = tf.constant(batch_size or 1, tf.int32)
            return Inputs([list(values) for _ in range(num_towers)], batch_size or examples,
                          examples, [examples] * num_towers, initializer, signature)
        dynamic = tf.shape(tf.nest.flatten(values[0])[0])[0]
        per_tower = _split(values, num_towers, dynamic)
        tower_batches = [tf.shape(tf.nest.flatten(t[0])[0])[0] for t in per_tower]
    known = global_batch if auto_batch else batch_size
    return Inputs(per_tower, known if known else dynamic, dynamic, tower_batches, initializer,
                  signature)


def _signature(structure: Any) -> list[tf.TensorSpec]:
    specs = []
    for leaf in _as_list(structure):
        if isinstance(leaf, tf.TensorSpec):
            specs.append(leaf)
        elif isinstance(leaf, (tf.Tensor, tf.Variable)):
            specs.append(tf.TensorSpec(leaf.shape, leaf.dtype))
        else:
            specs = None
            break
    return specs


def _batch_examples(values: list[Any], global_batch: int, allow_smaller: bool) -> list[Any]:
    """Batch single examples given as graph tensors (e.g. from a dataset's ``get``)."""
    flat = tf.nest.flatten(values)
    undefined = [t for t in flat if not t.shape.is_fully_defined()]
    if undefined:
        raise ValueError(
            f"auto_batch needs every example tensor's shape fully known, but input_fn returned "
            f"{undefined[0].name} with shape {undefined[0].shape}; call set_shape / resize it, "
            f"or batch it yourself and pass auto_batch=False"
        )
    batched = tf.train.batch(flat, batch_size=global_batch, num_threads=1,
                             capacity=4 * global_batch, allow_smaller_final_batch=allow_smaller)
    if not isinstance(batched, list):
        batched = [batched]
    return tf.nest.pack_sequence_as(values, batched)


def _split(values: list[Any], num_towers: int, batch: Any) -> list[list[Any]]:
    if num_towers == 1:
        return [values]
    base = batch // num_towers
    extra = batch % num_towers
    sizes = tf.stack([base + tf.cast(i < extra, batch.dtype) for i in range(num_towers)])
    towers: list[list[Any]] = [[] for _ in range(num_towers)]
    for value in values:
        pieces = [tf.split(leaf, sizes, num=num_towers) for leaf in tf.nest.flatten(value)]
        for index in range(num_towers):
            towers[index].append(
                tf.nest.pack_sequence_as(value, [piece[index] for piece in pieces])
            )
    return towers
