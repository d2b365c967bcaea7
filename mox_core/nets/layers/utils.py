"""What every layer of this package is built from: data formats, argument checks, variables.

The layers (:mod:`.layers`) and batch normalization (:mod:`.normalization`) create their
variables through :func:`layer_variable`, so all of them land in the collections TF-Slim puts
them in, in the input's dtype; ``weights_regularizer`` goes through
``get_variable(regularizer=...)`` so the loss lands in ``GraphKeys.REGULARIZATION_LOSSES`` once
per variable, also when a scope is reused (multi-device towers) or a custom getter is active.
:func:`collect_named_outputs` / :func:`convert_collection_to_dict` are slim's ``end_points``
collections.
"""

from __future__ import annotations

import functools
import numbers
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import tensorflow as tf

tf1 = tf.compat.v1

NHWC = "NHWC"
NCHW = "NCHW"

# slim's defaults; initializer objects are stateless, so one instance serves every layer.
XAVIER = tf1.glorot_uniform_initializer()
ZEROS = tf1.zeros_initializer()
ONES = tf1.ones_initializer()


# --------------------------------------------------------------------------------------------
# named outputs (TF-Slim's end_points collections)


def collect_named_outputs(collections: Any, alias: str, outputs: tf.Tensor) -> tf.Tensor:
    """Add ``outputs`` to ``collections`` under ``alias`` (slim's ``outputs_collections``).

    The alias is kept on the tensor (``tensor.aliases``) as TF-Slim does, so networks that
    build ``end_points`` with :func:`convert_collection_to_dict` keep slim's keys.
    """
    if collections:
        alias = alias[:-1] if alias.endswith("/") else alias
        aliases = getattr(outputs, "aliases", None)
        if aliases is None:
            outputs.aliases = [alias]
        else:
            aliases.append(alias)
        if isinstance(collections, str):
            collections = [collections]
        tf1.add_to_collections(collections, outputs)
    return outputs


def convert_collection_to_dict(collection: str, clear_collection: bool = False) -> OrderedDict:
    """``{alias: tensor}`` of a collection filled by :func:`collect_named_outputs`."""
    output: OrderedDict = OrderedDict()
    for tensor in tf1.get_collection(collection):
        aliases = getattr(tensor, "aliases", None) or [tensor.name.removesuffix(":0")]
        for alias in aliases:
            output[alias] = tensor
    if clear_collection:
        tf1.get_default_graph().clear_collection(collection)
    return output


# --------------------------------------------------------------------------------------------
# regularizer


def l2_regularizer(scale: float, scope: str | None = None) -> Callable[[tf.Tensor], Any]:
    """TF-Slim's ``l2_regularizer``: ``weights -> scale * tf.nn.l2_loss(weights)``.

    ``scale == 0`` gives a regularizer that returns ``None``, which adds no loss at all.
    """
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise TypeError(f"l2_regularizer scale must be a number, got {scale!r}")
    if scale < 0:
        raise ValueError(f"l2_regularizer scale must be >= 0, got {scale}")
    scale = float(scale)
    if scale == 0.0:
        return lambda _weights: None

    def l2(weights):
        with tf1.name_scope(scope, "l2_regularizer", [weights]) as name:
            factor = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(factor, tf.nn.l2_loss(weights), name=name)

    return l2


# --------------------------------------------------------------------------------------------
# argument checks and layouts


def check_data_format(data_format: str | None) -> str:
    """``data_format``, ``None`` meaning NHWC (as slim); anything else is a ``ValueError``."""
    if data_format is None:
        return NHWC
    if data_format not in (NHWC, NCHW):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return data_format


def check_padding(padding: str) -> str:
    """``padding`` upper-cased, so ``'same'`` works as in slim; not SAME/VALID: ``ValueError``."""
    upper = padding.upper() if isinstance(padding, str) else padding
    if upper not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return upper


def as_pair(value: Any, what: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``, as slim's ``kernel_size`` / ``stride``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return pair


def spatial(pair: tuple[int, int], data_format: str) -> list[int]:
    """A 2-D window/stride as the 4-element list the ``tf.nn`` ops take."""
    return [1, 1, *pair] if data_format == NCHW else [1, *pair, 1]


def rank4(inputs: Any, layer: str) -> tf.Tensor:
    """``inputs`` as a tensor; not 4-D is a ``ValueError`` naming the ``layer`` that needs it."""
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
        raise ValueError(f"{layer} needs a 4-D input, got shape {inputs.shape}")
    return inputs


@functools.cache
def gpu_visible() -> bool:
    """Whether a GPU is visible: only GPU kernels implement NCHW convolution and pooling,
    NCHW depthwise convolution and the gradient of a grouped convolution."""
    return bool(tf.config.list_physical_devices("GPU"))


def in_layout(op: Callable[[tf.Tensor, str], tf.Tensor], inputs: tf.Tensor, data_format: str):
    """Run ``op(x, data_format)`` natively, or an NCHW op in NHWC between transposes on CPU."""
    if data_format == NHWC or gpu_visible():
        return op(inputs, data_format)
    outputs = op(tf.transpose(inputs, [0, 2, 3, 1], name="to_NHWC"), NHWC)
    return tf.transpose(outputs, [0, 3, 1, 2], name="to_NCHW")


def layer_variable(
    name: str,
    shape: list[int],
    dtype: tf.DType,
    initializer: Any,
    regularizer: Callable | None,
    trainable: bool,
    variables_collections: Any,
    collection_key: str | None = None,
    extra_collections: tuple[str, ...] = (),
) -> tf.Variable:
    """A variable in GLOBAL_VARIABLES and MODEL_VARIABLES, as slim's ``model_variable``.

    A dict ``variables_collections`` is looked up by ``collection_key`` (default: the variable's
    name), as slim's ``get_variable_collections``: ``{'weights': [...], 'biases': [...]}``.
    """
    if isinstance(variables_collections, dict):
        variables_collections = variables_collections.get(collection_key or name)
    if isinstance(variables_collections, str):
        variables_collections = [variables_collections]
    collections = list(variables_collections or [])
    collections += [tf1.GraphKeys.GLOBAL_VARIABLES, tf1.GraphKeys.MODEL_VARIABLES]
    collections += list(extra_collections)
    return tf1.get_variable(
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=collections,
    )


def finish_layer(
    outputs: tf.Tensor,
    num_outputs: int,
    data_format: str,
    normalizer_fn: Callable | None,
    normalizer_params: dict | None,
    biases_initializer: Any,
    biases_regularizer: Callable | None,
    activation_fn: Callable | None,
    trainable: bool,
    variables_collections: Any,
) -> tf.Tensor:
    """Biases (or the normalizer, which replaces them), then the activation: slim's order."""
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = layer_variable(
            "biases",
            [num_outputs],
            outputs.dtype.base_dtype,
            biases_initializer,
            biases_regularizer,
            trainable,
            variables_collections,
        )
        outputs = tf.nn.bias_add(outputs, biases, data_format=data_format)
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return outputs
