"""NASNet-A (Zoph et al., 2017) as in TF-Slim's ``nets/nasnet/nasnet.py``: CIFAR, Mobile, Large.

The network is a stem, then ``num_cells`` normal cells with a reduction cell (stride 2, twice
the filters) before the cells at a third and two thirds of the way (``reduction_cell_0/1``),
then ReLU, a global average pool, dropout and the fully connected ``final_layer/FC``. The
ImageNet stem is a 3x3/2 ``VALID`` convolution (``conv0``) and two reduction cells
(``cell_stem_0/1``) at a quarter and half the filters; the CIFAR stem one 3x3 convolution. In
training, an auxiliary head (``aux_N/aux_logits``: 5x5/3 average pool, 1x1 and full-map
convolutions, ``FC``) classifies from the cell before the second reduction (``AuxLogits``), and
drop-path regularizes the cells (CIFAR and Large; Mobile keeps every path).

Batch norm has gamma (decay 0.9 and epsilon 1e-5 on CIFAR, 0.9997 and 0.001 on ImageNet);
weights are variance-scaling (fan out) initialized and L2-regularized, convolutions have no
biases. The variables have no top-level scope (``conv0/weights``, ``cell_17/...``,
``final_layer/FC/weights``), as slim's, so its checkpoints load.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import tensorflow as tf

from mox_core.nets import layers, net_utils
from mox_nets_mobile import nasnet_utils

tf1 = tf.compat.v1

#: The smallest epsilon ``tf.nn.fused_batch_norm`` normalizes with.
FUSED_MIN_EPSILON = 1.001e-5
# The standard deviation of a unit normal truncated at two standard deviations.
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


@dataclasses.dataclass(frozen=True)
class NasNetConfig:
    """A NASNet's hyper-parameters: slim's ``HParams`` but ``data_format``, which is the run's.

    ``drop_path_keep_prob`` is reached at the last cell at ``total_training_steps``;
    ``skip_reduction_layer_input`` makes the cell after a reduction take the state before it as
    its previous layer (the Large network's wiring).
    """

    stem_multiplier: float
    drop_path_keep_prob: float
    num_cells: int
    num_conv_filters: int
    dense_dropout_keep_prob: float
    filter_scaling_rate: float = 2.0
    num_reduction_layers: int = 2
    use_aux_head: int = 1
    skip_reduction_layer_input: int = 0
    total_training_steps: int = 250000
    use_bounded_activation: bool = False


# slim's ``cifar_config``, ``large_imagenet_config`` and ``mobile_imagenet_config``.

#: NASNet-A 6@768 for CIFAR-10 (slim trained it 600 epochs of batch 32: 937500 steps).
CIFAR_CONFIG = NasNetConfig(
    stem_multiplier=3.0, drop_path_keep_prob=0.6, num_cells=18, num_conv_filters=32,
    dense_dropout_keep_prob=1.0, total_training_steps=937500,
)  # fmt: skip

#: NASNet-A 6@4032, the large ImageNet model (331x331 inputs).
LARGE_IMAGENET_CONFIG = NasNetConfig(
    stem_multiplier=3.0, drop_path_keep_prob=0.7, num_cells=18, num_conv_filters=168,
    dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1,
)  # fmt: skip

#: NASNet-A 4@1056, the mobile ImageNet model (224x224 inputs; no drop-path).
MOBILE_IMAGENET_CONFIG = NasNetConfig(
    stem_multiplier=1.0, drop_path_keep_prob=1.0, num_cells=12, num_conv_filters=44,
    dense_dropout_keep_prob=0.5,
)  # fmt: skip


def resolve_config(default: NasNetConfig, config, is_training: bool) -> NasNetConfig:
    """``default`` updated by ``config`` (a :class:`NasNetConfig` or a dict of its fields).

    Not training, drop-path is off (slim's ``_update_hparams``).
    """
    if isinstance(config, NasNetConfig):
        hparams = config
    elif config is None or isinstance(config, Mapping):
        fields = {f.name for f in dataclasses.fields(NasNetConfig)}
        unknown = sorted(set(config or {}) - fields)
        if unknown:
            raise ValueError(
                f"unknown NASNet config field(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(fields))}"
            )
        hparams = dataclasses.replace(default, **(config or {}))
    else:
        raise TypeError(f"config must be a NasNetConfig or a dict, got {config!r}")
    if not is_training:
        hparams = dataclasses.replace(hparams, drop_path_keep_prob=1.0)
    return hparams


def nasnet_arg_scope(
    weight_decay: float, batch_norm_decay: float, batch_norm_epsilon: float
) -> dict:
    """Slim's NASNet arg scopes (they differ only in their defaults).

    Variance-scaling weights (fan out) and L2 decay on every convolution and the fully connected
    layers (named ``FC``); convolutions without biases or activation (the cells place ReLU and
    batch norm themselves); batch norm with gamma.

    Slim's scopes ask for ``fused=True``, and ``tf.nn.fused_batch_norm`` raises epsilon to at
    least 1.001e-5 (a cuDNN limit): that is the epsilon slim's CIFAR NASNet (1e-5) really
    normalizes with. It is used here on both kernels, so the numbers are slim's whether
    ``batch_norm_fused`` is on or off.
    """
    bn_params = net_utils.batch_norm_params(
        batch_norm_decay, max(batch_norm_epsilon, FUSED_MIN_EPSILON)
    )
    # slim's variance_scaling_initializer(factor=2.0, mode='FAN_OUT'): a normal of stddev
    # sqrt(1.3 * 2 / fan_out), truncated at two. TensorFlow's divides sqrt(scale / fan_out) by
    # 0.8796 (the truncated normal's stddev) instead of multiplying the variance by 1.3.
    weights_initializer = tf1.variance_scaling_initializer(
        scale=1.3 * 2.0 * _TRUNCATED_NORMAL_STDDEV**2,
        mode="fan_out",
        distribution="truncated_normal",
    )
    with layers.arg_scope(
        [layers.fully_connected, layers.conv2d, layers.separable_conv2d],
        weights_regularizer=layers.l2_regularizer(weight_decay),
        weights_initializer=weights_initializer,
    ):
        with layers.arg_scope([layers.fully_connected], activation_fn=None, scope="FC"):
            with layers.arg_scope(
                [layers.conv2d, layers.separable_conv2d],
                activation_fn=None,
                biases_initializer=None,
            ):
                with layers.arg_scope([layers.batch_norm], **bn_params) as sc:
                    return sc


def nasnet_cifar_arg_scope(weight_decay=5e-4, batch_norm_decay=0.9, batch_norm_epsilon=1e-5):
    """The CIFAR arg scope: batch norm decay 0.9, epsilon 1e-5 (1.001e-5 in effect)."""
    return nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    """The Mobile arg scope: batch norm decay 0.9997, epsilon 0.001."""
    return nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_large_arg_scope(weight_decay=5e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    """The Large arg scope: batch norm decay 0.9997, epsilon 0.001."""
    return nasnet_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def build_aux_head(net, end_points, num_classes, hparams, data_format, scope):
    """The auxiliary classifier of training (``AuxLogits``), from a cell's ReLU'd output.

    A 5x5/3 ``VALID`` average pool, a 1x1 convolution to 128 (``proj``) with batch norm and
    ReLU, a ``VALID`` convolution over the whole remaining map to 768 (``Conv``) with batch norm
    and ReLU, then the fully connected ``FC``. The pool needs a map of at least 5x5.
    """
    activation_fn = nasnet_utils.activation_fn(hparams.use_bounded_activation)
    with tf1.variable_scope(scope):
        aux_logits = tf.identity(net)
        with tf1.variable_scope("aux_logits"):
            aux_logits = layers.avg_pool2d(aux_logits, [5, 5], stride=3, padding="VALID")
            aux_logits = layers.conv2d(aux_logits, 128, [1, 1], scope="proj")
            aux_logits = layers.batch_norm(aux_logits, scope="aux_bn0")
            aux_logits = activation_fn(aux_logits)
            # The kernel covers the whole feature map left at this point.
            shape = net_utils.spatial_shape(aux_logits, data_format)
            aux_logits = layers.conv2d(aux_logits, 768, shape, padding="VALID")
            aux_logits = layers.batch_norm(aux_logits, scope="aux_bn1")
            aux_logits = activation_fn(aux_logits)
            aux_logits = layers.flatten(aux_logits)
            aux_logits = layers.fully_connected(aux_logits, num_classes)
            end_points["AuxLogits"] = aux_logits


def imagenet_stem(inputs, hparams, stem_cell, current_step=None):
    """The ImageNet stem: ``conv0`` (3x3/2 ``VALID``) and two reduction cells.

    Returns the stem's output and the list of cell outputs (``[None, conv0, cell_stem_0,
    cell_stem_1]``) the following cells take their previous layers from.
    """
    num_stem_cells = 2
    num_stem_filters = int(32 * hparams.stem_multiplier)
    net = layers.conv2d(inputs, num_stem_filters, [3, 3], stride=2, scope="conv0", padding="VALID")
    net = layers.batch_norm(net, scope="conv0_bn")
    cell_outputs = [None, net]
    filter_scaling = 1.0 / (hparams.filter_scaling_rate**num_stem_cells)
    for cell_num in range(num_stem_cells):
        net = stem_cell(
            net,
            scope=f"cell_stem_{cell_num}",
            filter_scaling=filter_scaling,
            stride=2,
            prev_layer=cell_outputs[-2],
            cell_num=cell_num,
            current_step=current_step,
        )
        cell_outputs.append(net)
        filter_scaling *= hparams.filter_scaling_rate
    return net, cell_outputs


def cifar_stem(inputs, hparams):
    """The CIFAR stem: one 3x3 convolution (``l1_stem_3x3``) and batch norm."""
    num_stem_filters = int(hparams.num_conv_filters * hparams.stem_multiplier)
    net = layers.conv2d(inputs, num_stem_filters, 3, scope="l1_stem_3x3")
    net = layers.batch_norm(net, scope="l1_stem_bn")
    return net, [None, net]


def final_layer(net, end_points, num_classes, hparams, data_format):
    """ReLU, global average pool, dropout and ``FC``: ``final_layer/FC/BiasAdd`` is the logits."""
    activation_fn = nasnet_utils.activation_fn(hparams.use_bounded_activation)
    with tf1.variable_scope("final_layer"):
        net = activation_fn(net)
        net = end_points["global_pool"] = nasnet_utils.global_avg_pool(net, data_format)
        net = layers.dropout(net, hparams.dense_dropout_keep_prob, scope="dropout")
        logits = end_points["Logits"] = layers.fully_connected(net, num_classes)
        end_points["Predictions"] = tf.nn.softmax(logits, name="predictions")
    return logits, end_points


def build_nasnet_base(
    images,
    normal_cell,
    reduction_cell,
    num_classes,
    hparams,
    is_training,
    stem_type,
    data_format,
    current_step=None,
):
    """The NASNet on ``data_format`` images: stem, cells, auxiliary head, final layer.

    ``reduction_cell`` ``None`` is PNASNet's wiring (slim's ``_build_pnasnet_base``): no
    reduction cells, the normal cell runs with stride 2 where NASNet inserts one, and it is the
    stem's cell too.
    """
    end_points = {}
    reduction_indices = nasnet_utils.calc_reduction_layers(
        hparams.num_cells, hparams.num_reduction_layers
    )
    if stem_type == "imagenet":
        stem_cell = normal_cell if reduction_cell is None else reduction_cell
        net, cell_outputs = imagenet_stem(images, hparams, stem_cell, current_step)
    elif stem_type == "cifar":
        net, cell_outputs = cifar_stem(images, hparams)
    else:
        raise ValueError(f"Unknown stem_type: {stem_type!r}")
    end_points["Stem"] = net

    aux_head_cell_idxes = []
    if len(reduction_indices) >= 2:
        aux_head_cell_idxes.append(reduction_indices[1] - 1)

    filter_scaling = 1.0
    # The cells' positions count the stem cells, for drop-path's depth scaling.
    true_cell_num = 2 if stem_type == "imagenet" else 0
    activation_fn = nasnet_utils.activation_fn(hparams.use_bounded_activation)
    prev_layer = cell_outputs[-2]
    for cell_num in range(hparams.num_cells):
        is_reduction = cell_num in reduction_indices
        # PNASNet's cell reduces by itself; it keeps its previous layer there unless skipping.
        self_reducing = is_reduction and reduction_cell is None
        if hparams.skip_reduction_layer_input:
            prev_layer = cell_outputs[-2]
        if is_reduction:
            filter_scaling *= hparams.filter_scaling_rate
        if is_reduction and not self_reducing:
            index = reduction_indices.index(cell_num)
            net = reduction_cell(
                net,
                scope=f"reduction_cell_{index}",
                filter_scaling=filter_scaling,
                stride=2,
                prev_layer=cell_outputs[-2],
                cell_num=true_cell_num,
                current_step=current_step,
            )
            end_points[f"Reduction_Cell_{index}"] = net
            true_cell_num += 1
            cell_outputs.append(net)
        if not hparams.skip_reduction_layer_input and not self_reducing:
            prev_layer = cell_outputs[-2]
        net = normal_cell(
            net,
            scope=f"cell_{cell_num}",
            filter_scaling=filter_scaling,
            stride=2 if self_reducing else 1,
            prev_layer=prev_layer,
            cell_num=true_cell_num,
            current_step=current_step,
        )
        end_points[f"Cell_{cell_num}"] = net
        true_cell_num += 1
        if hparams.use_aux_head and cell_num in aux_head_cell_idxes and is_training:
            build_aux_head(
                activation_fn(net),
                end_points,
                num_classes,
                hparams,
                data_format,
                scope=f"aux_{cell_num}",
            )
        cell_outputs.append(net)
    return final_layer(net, end_points, num_classes, hparams, data_format)


def _build(
    images,
    num_classes,
    *,
    is_training,
    hparams,
    normal_cell_class,
    reduction_cell_class,
    stem_type,
    current_step,
):
    """Set the cells up and build (what slim's ``build_*nasnet_*`` share)."""
    data_format = net_utils.current_data_format()
    # Slim counts the stem cells (ImageNet's two) and the two reduction cells (NASNet's) too.
    total_num_cells = hparams.num_cells + (2 if stem_type == "imagenet" else 0)
    if reduction_cell_class is not None:
        total_num_cells += 2
    cell_args = (
        hparams.num_conv_filters,
        hparams.drop_path_keep_prob,
        total_num_cells,
        hparams.total_training_steps,
        hparams.use_bounded_activation,
        data_format,
    )
    normal_cell = normal_cell_class(*cell_args)
    reduction_cell = None if reduction_cell_class is None else reduction_cell_class(*cell_args)
    with layers.arg_scope([nasnet_utils.drop_path], is_training=is_training):
        return build_nasnet_base(
            images,
            normal_cell,
            reduction_cell,
            num_classes,
            hparams,
            is_training,
            stem_type,
            data_format,
            current_step,
        )


def make_builder(
    name: str,
    title: str,
    *,
    default_config: NasNetConfig,
    normal_cell: type[nasnet_utils.SearchedCell] = nasnet_utils.NasNetANormalCell,
    reduction_cell: type[nasnet_utils.SearchedCell] | None = nasnet_utils.NasNetAReductionCell,
    stem_type: str = "imagenet",
    num_classes: int = 1001,
    module: str = __name__,
) -> Callable:
    """The public builder ``name`` of one NASNet-family network (slim's ``build_<name>``).

    Every NASNet and PNASNet builder has the same signature (``get_model_fn``'s, plus
    ``config`` and ``current_step``) and does the same: ``default_config`` updated by
    ``config``, the cells, the stem. ``reduction_cell`` ``None`` is PNASNet (see
    :func:`build_nasnet_base`). The arg scope is the network's record's.
    """
    default_num_classes = num_classes

    def builder(
        images,
        num_classes: int = default_num_classes,
        *,
        is_training: bool,
        config: NasNetConfig | Mapping | None = None,
        current_step=None,
    ):
        return _build(
            images,
            num_classes,
            is_training=is_training,
            hparams=resolve_config(default_config, config, is_training),
            normal_cell_class=normal_cell,
            reduction_cell_class=reduction_cell,
            stem_type=stem_type,
            current_step=current_step,
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = module
    builder.__doc__ = (
        f"Build {title} on ``images`` (in the layers' layout); returns "
        f"``(logits, end_points)``.\n\n"
        f"``config`` overrides fields of the network's :class:`NasNetConfig` (e.g. "
        f"``{{'num_cells': 6}}``); ``current_step`` replaces the global step in drop-path's "
        f"schedule."
    )
    return builder


nasnet_cifar = make_builder(
    "nasnet_cifar", "NASNet-A for CIFAR", default_config=CIFAR_CONFIG, stem_type="cifar",
    num_classes=10,
)  # fmt: skip
nasnet_mobile = make_builder(
    "nasnet_mobile", "NASNet-A Mobile", default_config=MOBILE_IMAGENET_CONFIG
)
nasnet_large = make_builder("nasnet_large", "NASNet-A Large", default_config=LARGE_IMAGENET_CONFIG)
