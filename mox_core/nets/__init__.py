"""The model zoo's front door: ``get_model_fn``, ``get_model_meta``, ``list_networks``.

Networks are registered by plugins (``mox_networks`` hook, e.g. ``mox-nets-classic``) as
:class:`mox_core.registry.NetworkSpec` records; this module looks them up and wraps the builder
into MoXing's ``network_fn(images) -> (logits, end_points)``. Every argument is checked when
``get_model_fn`` is called, so a typo fails where it is written rather than deep inside graph
construction. Importing this module imports no TensorFlow and no network module: the builder
and its arg scope are resolved by ``get_model_fn``, and TensorFlow is first needed when
``network_fn`` builds the graph (:func:`mox_core.nets.net_utils.build_network`: the record's
arg scope, the run's options, the transpose to ``data_format``). The layers the networks are
made of live in ``mox_core.nets.layers``, the pieces several families share in ``net_utils``,
``heads`` and ``initializers``.
"""

from __future__ import annotations

import collections
import functools
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from mox_core.constants import ModeKeys
from mox_core.plugins import list_networks, registry
from mox_core.registry import NetworkSpec, resolve

__all__ = ["ModelMeta", "default_preprocess_fn", "get_model_fn", "get_model_meta", "list_networks"]

ModelMeta = collections.namedtuple(
    "ModelMeta", ["default_image_size", "default_labels_offset", "default_logits_pattern"]
)
ModelMeta.__doc__ = """What a training script needs to know about a network before building it.

``default_image_size``: the input height and width it was designed for (e.g. 224);
``default_labels_offset``: 1 for networks trained on 1000 ImageNet classes where the dataset has
1001 (background first), else 0; ``default_logits_pattern``: the variable-name pattern of the
logits layer, for ``checkpoint_exclude_patterns`` when fine-tuning on new classes."""

_DATA_FORMATS = ("NHWC", "NCHW")
_SIZED_MODES = (ModeKeys.PREDICT, ModeKeys.EXPORT)


def default_preprocess_fn(images, run_mode, image_height=None, image_width=None):
    """MoXing's default preprocessing: cast to float32 and resize to the size asked for.

    The resize (bilinear, ``tf.image.resize``) happens only when ``image_height`` and
    ``image_width`` are given and differ from the input's static size; pixel values are not
    rescaled (use a dataset ``augmentation_fn`` / ``get_data_augmentation_fn`` for that).
    """
    import tensorflow as tf

    del run_mode  # the same in every mode
    images = tf.cast(images, tf.float32)
    if image_height is None:
        return images
    if images.shape.rank != 4:
        raise ValueError(f"network_fn needs a 4-D [N, H, W, C] batch, got shape {images.shape}")
    if tuple(images.shape[1:3]) == (image_height, image_width):
        return images
    return tf.image.resize(images, [image_height, image_width], method="bilinear")


_DEFAULT = object()


def get_model_meta(name: str) -> ModelMeta:
    """The :class:`ModelMeta` of an installed network (``ValueError`` for an unknown name)."""
    spec: NetworkSpec = registry("networks").get(name)
    return ModelMeta(
        spec.default_image_size, spec.default_labels_offset, spec.default_logits_pattern
    )


def get_model_fn(
    name: str,
    run_mode: str,
    num_classes: int,
    weight_decay: float = 0.0,
    data_format: str = "NHWC",
    batch_norm_fused: bool | None = None,
    batch_renorm: bool = False,
    image_height: int | None = None,
    image_width: int | None = None,
    preprocess_fn: Callable | None = _DEFAULT,  # type: ignore[assignment]
    batch_norm_decay: float | None = None,
    **model_kwargs: Any,
) -> Callable:
    """Return ``network_fn(images) -> (logits, end_points)`` for the installed network ``name``.

    ``images`` is an NHWC batch ``[N, H, W, C]`` of any numeric dtype. ``network_fn`` first runs
    ``preprocess_fn(images, run_mode, image_height, image_width)`` (MoXing's
    ``preprocess_fn(images, run_mode, *args)``; the default casts to float32 and resizes to
    ``image_height`` x ``image_width`` when they are given; ``None`` skips preprocessing), then
    builds the network in the current graph with ``is_training = run_mode == TRAIN`` (dropout
    and batch norm in training mode). ``weight_decay`` adds L2 losses to
    ``GraphKeys.REGULARIZATION_LOSSES``; ``data_format`` is the layout the network computes in
    (``'NCHW'`` is faster on GPUs), the input stays NHWC. ``batch_norm_fused``: ``None`` (mox's
    default; MoXing's is ``False``) takes the fastest batch norm, the fused kernel wherever it
    applies -- same variables, same numbers within float rounding, faster (a ResNet-50
    training step at 112 px on a 2-core CPU: 0.89 s unfused, 0.79 s fused); ``True`` the
    same; ``False`` the unfused ops (``tf.nn.moments``), as asked. ``batch_norm_decay`` (mox's
    addition; ``None``: the family's, e.g. 0.9997 for MobileNet) is the decay of the batch-norm
    moving averages, given to the family's arg scope: a short training needs a lower one for
    its averages to settle (``mox train`` picks it for the run's length).
    ``model_kwargs`` go to the network's builder (e.g. ``dropout_keep_prob``).

    In PREDICT and EXPORT mode a missing ``image_height`` / ``image_width`` is the network's
    default image size (``get_model_meta(name).default_image_size``, as MoXing does): the
    exported model holds only this graph, so it must bring any input size to the network's.
    Unknown names, bad arguments and model_kwargs the network does not take raise here.
    """
    spec: NetworkSpec = registry("networks").get(name)
    if run_mode not in ModeKeys.ALL:
        raise ValueError(f"run_mode must be one of {', '.join(ModeKeys.ALL)}; got {run_mode!r}")
    if not _is_int(num_classes) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if (
        isinstance(weight_decay, bool)
        or not isinstance(weight_decay, numbers.Real)
        or not math.isfinite(weight_decay)
        or (weight_decay < 0)
    ):
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    if data_format not in _DATA_FORMATS:
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    if image_height is None and image_width is None and run_mode in _SIZED_MODES:
        image_height = image_width = spec.default_image_size
    image_height, image_width = _check_image_size(image_height, image_width)
    if preprocess_fn is _DEFAULT:
        preprocess_fn = default_preprocess_fn
    elif preprocess_fn is not None:
        _check_preprocess_fn(preprocess_fn)
    builder = resolve(spec.builder, what=f"network {name!r} builder")
    arg_scope = None
    if spec.arg_scope is not None:
        arg_scope = resolve(spec.arg_scope, what=f"network {name!r} arg_scope")
    _check_model_kwargs(name, builder, model_kwargs)
    scope_options = {}
    if batch_norm_decay is not None:
        if isinstance(batch_norm_decay, bool) or not isinstance(batch_norm_decay, numbers.Real) \
                or not 0.0 < batch_norm_decay < 1.0:
            raise ValueError(f"batch_norm_decay must be a number in (0, 1), got "
                             f"{batch_norm_decay!r}")
        parameter = _decay_parameter(arg_scope)
        if parameter is None:
            import warnings

            warnings.warn(f"network {name!r} has no batch-norm decay to set (its arg scope "
                          f"takes none): batch_norm_decay={batch_norm_decay} has no effect",
                          stacklevel=2)
        else:
            scope_options[parameter[0]] = float(batch_norm_decay)
    options = {
        "is_training": run_mode == ModeKeys.TRAIN,
        "weight_decay": float(weight_decay),
        "data_format": data_format,
        "batch_norm_fused": batch_norm_fused,
        "batch_renorm": batch_renorm,
    }
    num_classes = int(num_classes)

    def network_fn(images):
        if preprocess_fn is not None:
            images = preprocess_fn(images, run_mode, image_height, image_width)
        if arg_scope is None:  # a builder that takes the layer options itself
            return builder(images, num_classes, **options, **model_kwargs)
        from mox_core.nets.net_utils import build_network

        return build_network(builder, functools.partial(arg_scope, **scope_options), images,
                             num_classes, **options, **model_kwargs)

    network_fn.__name__ = f"{name}_network_fn"
    network_fn.default_image_size = spec.default_image_size  # as TF-Slim's nets_factory
    return network_fn


#: the names TF-Slim's arg scopes give their batch-norm decay (MobileNet v2's: bn_decay)
_DECAY_PARAMETERS = ("batch_norm_decay", "bn_decay")


def _decay_parameter(arg_scope: Callable | None) -> tuple[str, float | None] | None:
    """``(name, default)`` of ``arg_scope``'s batch-norm decay parameter, or ``None``."""
    if arg_scope is None:
        return None
    parameters = inspect.signature(arg_scope).parameters
    for name in _DECAY_PARAMETERS:
        if name in parameters:
            default = parameters[name].default
            return name, (None if default is inspect.Parameter.empty else default)
    return None


def default_batch_norm_decay(name: str) -> float | None:
    """The batch-norm decay network ``name``'s arg scope uses by default, ``None`` when it has
    none to set (no batch norm, or a builder that takes its layer options itself)."""
    spec: NetworkSpec = registry("networks").get(name)
    if spec.arg_scope is None:
        return None
    parameter = _decay_parameter(resolve(spec.arg_scope, what=f"network {name!r} arg_scope"))
    return None if parameter is None else parameter[1]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_image_size(image_height, image_width) -> tuple[int | None, int | None]:
    if image_height is None and image_width is None:
        return None, None
    if image_height is None or image_width is None:
        raise ValueError(
            f"give both image_height and image_width, or neither; got image_height="
            f"{image_height!r}, image_width={image_width!r}"
        )
    for what, value in (("image_height", image_height), ("image_width", image_width)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(image_height), int(image_width)


def _check_preprocess_fn(preprocess_fn: Any) -> None:
    if not callable(preprocess_fn):
        raise TypeError(f"preprocess_fn must be callable or None, got {preprocess_fn!r}")
    try:
        signature = inspect.signature(preprocess_fn)
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return
    try:
        signature.bind(None, None, None, None)
    except TypeError:
        raise TypeError(
            f"preprocess_fn {preprocess_fn!r} must accept (images, run_mode, image_height, "
            f"image_width), e.g. def preprocess_fn(images, run_mode, *args); its signature is "
            f"{signature}"
        ) from None


_CONTRACT_ARGS = frozenset(
    {
        "images",
        "num_classes",
        "is_training",
        "weight_decay",
        "data_format",
        "batch_norm_fused",
        "batch_renorm",
    }
)


def _check_model_kwargs(name: str, builder: Callable, model_kwargs: dict) -> None:
    """model_kwargs must be extra arguments of the builder, not the contract's own ones."""
    clash = sorted(set(model_kwargs) & _CONTRACT_ARGS)
    if clash:
        raise TypeError(
            f"network {name!r}: {', '.join(clash)} cannot be passed as a model kwarg "
            f"(get_model_fn sets it)"
        )
    if not model_kwargs:
        return
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(model_kwargs) - set(params))
    if unknown:
        extra = sorted(set(params) - _CONTRACT_ARGS)
        raise TypeError(
            f"network {name!r} takes no argument {', '.join(map(repr, unknown))}; "
            f"its model kwargs are: {', '.join(extra) or '(none)'}"
        )
