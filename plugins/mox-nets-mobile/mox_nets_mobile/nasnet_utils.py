"""The cells NASNet and PNASNet are made of, as TF-Slim's ``nets/nasnet/nasnet_utils.py``.

A cell takes the two previous hidden states, brings them to its width (``prev_1x1`` or a
factorized reduction for the older one, ``1x1`` for the newer), then runs five combinations
``comb_iter_0`` .. ``comb_iter_4``: each applies one operation to a ``left`` and one to a
``right`` hidden state (stacked separable convolutions, 3x3 pools, or identity) and adds them;
the hidden states no combination consumed are concatenated (``cell_output``). The operations,
their inputs and which states are used are what the architecture search found: the class
constants below are NASNet-A's normal and reduction cells.

Every operation but the identity is followed by drop-path in training (slim's "v3": the drop
probability grows linearly with the cell's depth and with the training progress
``global_step / total_training_steps``), which drops a whole example's branch and rescales the
others. Convolutions have no biases and no activation of their own: ReLU comes before each
convolution and batch norm after it, as in the paper.

The layout is passed explicitly (``data_format``) where slim used an arg scope on its
``get_channel_index``; the variables and the numbers are the same in NHWC and NCHW.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers, net_utils

tf1 = tf.compat.v1

#: The clip of the bounded-activation variant: most activations lie in [-6, 6] (ReLU6's range).
CLIP_BY_VALUE_CAP = 6


def calc_reduction_layers(num_cells: int, num_reduction_layers: int) -> list[int]:
    """The cell indexes before which a reduction cell goes: evenly spaced over the cells."""
    return [
        int(float(pool_num) / (num_reduction_layers + 1) * num_cells)
        for pool_num in range(1, num_reduction_layers + 1)
    ]


def activation_fn(use_bounded_activation: bool):
    """ReLU, or ReLU6 in the bounded-activation variant (slim's ``use_bounded_activation``)."""
    return tf.nn.relu6 if use_bounded_activation else tf.nn.relu


def global_avg_pool(net: tf.Tensor, data_format: str = net_utils.NHWC) -> tf.Tensor:
    """Average away the height and width: ``[N, C]``."""
    return tf.reduce_mean(net, net_utils.spatial_axes(data_format))


def factorized_reduction(
    net: tf.Tensor, output_filters: int, stride: int, data_format: str = net_utils.NHWC
) -> tf.Tensor:
    """Bring ``net`` to ``output_filters`` channels and down by ``stride`` without losing pixels.

    Stride 1: a 1x1 convolution (``path_conv``) and batch norm (``path_bn``). Stride 2: two
    strided 1x1 paths, the second shifted by one pixel (pad right and bottom, drop the first
    row and column) so that together they see every pixel; each gives half the channels (the
    second one more when odd), concatenated and batch-normalized (``final_path_bn``).
    """
    if stride == 1:
        net = layers.conv2d(net, output_filters, 1, scope="path_conv")
        return layers.batch_norm(net, scope="path_bn")
    path1 = layers.avg_pool2d(net, [1, 1], stride=stride, padding="VALID")
    path1 = layers.conv2d(path1, int(output_filters / 2), 1, scope="path1_conv")
    if data_format == net_utils.NCHW:
        path2 = tf.pad(net, [[0, 0], [0, 0], [0, 1], [0, 1]])[:, :, 1:, 1:]
    else:
        path2 = tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])[:, 1:, 1:, :]
    path2 = layers.avg_pool2d(path2, [1, 1], stride=stride, padding="VALID")
    final_filter_size = int(output_filters / 2) + int(output_filters % 2)
    path2 = layers.conv2d(path2, final_filter_size, 1, scope="path2_conv")
    final_path = net_utils.concat_channels([path1, path2], data_format)
    return layers.batch_norm(final_path, scope="final_path_bn")


@layers.add_arg_scope
def drop_path(net: tf.Tensor, keep_prob, is_training: bool = True) -> tf.Tensor:
    """Zero a whole example's ``net`` with probability ``1 - keep_prob``, scale the rest up.

    Unlike dropout, one coin per example (noise shape ``[N, 1, 1, 1]``): the branch is dropped
    or kept as a whole, which regularizes the cell's choice between its branches.
    """
    if is_training:
        batch_size = tf.shape(net)[0]
        noise_shape = [batch_size, 1, 1, 1]
        random_tensor = keep_prob
        random_tensor += tf1.random_uniform(noise_shape, dtype=tf.float32)
        binary_tensor = tf.cast(tf.floor(random_tensor), net.dtype)
        keep_prob_inv = tf.cast(1.0 / keep_prob, net.dtype)
        net = net * keep_prob_inv * binary_tensor
    return net


def _operation_to_filter_shape(operation: str) -> int:
    splitted = operation.split("x")
    filter_shape = int(splitted[0][-1])
    if filter_shape != int(splitted[1][0]):
        raise ValueError(f"Rectangular filters not supported: {operation!r}")
    return filter_shape


def _operation_to_num_layers(operation: str) -> int:
    last = operation.split("_")[-1]
    return 1 if "x" in last else int(last)


def _stacked_separable_conv(net, stride, operation, filter_size, use_bounded_activation):
    """``separable_KxK_N``: N times ReLU -> KxK separable convolution -> batch norm.

    Only the first one strides.
    """
    num_layers = _operation_to_num_layers(operation)
    kernel_size = _operation_to_filter_shape(operation)
    activation = activation_fn(use_bounded_activation)
    for layer_num in range(1, num_layers + 1):
        net = activation(net)
        net = layers.separable_conv2d(
            net,
            filter_size,
            kernel_size,
            depth_multiplier=1,
            scope=f"separable_{kernel_size}x{kernel_size}_{layer_num}",
            stride=stride,
        )
        net = layers.batch_norm(net, scope=f"bn_sep_{kernel_size}x{kernel_size}_{layer_num}")
        stride = 1
    return net


def _pooling(net, stride, operation, use_bounded_activation):
    """``avg_pool_3x3`` / ``max_pool_3x3``, ``SAME`` (the average excludes the padding)."""
    pooling_type = operation.split("_")[0]
    height, width = operation.split("_")[-1].split("x")
    if height != width:
        raise ValueError(f"Rectangular pools not supported: {operation!r}")
    if use_bounded_activation:
        net = tf.nn.relu6(net)
    if pooling_type == "avg":
        return layers.avg_pool2d(net, int(height), stride=stride, padding="SAME")
    if pooling_type == "max":
        return layers.max_pool2d(net, int(height), stride=stride, padding="SAME")
    raise ValueError(f"Unimplemented pooling type: {pooling_type!r}")


class NasNetABaseCell:
    """A NASNet cell, used as a layer: ``cell(net, scope=..., prev_layer=...)``.

    ``operations`` are applied pairwise (left, right) to the hidden states
    ``hiddenstate_indices`` names (0: the cell's input after its 1x1, 1: the previous layer);
    ``used_hiddenstates`` marks the states a combination consumed, which the output leaves
    out. ``drop_path_keep_prob`` is the keep probability at the last cell at the end of
    training (``total_num_cells`` cells, ``total_training_steps`` steps); 1.0 turns drop-path
    off. ``use_bounded_activation`` is slim's variant for quantized inference (ReLU6, clipped
    sums).
    """

    def __init__(
        self,
        num_conv_filters: int,
        operations: list[str],
        used_hiddenstates: list[int],
        hiddenstate_indices: list[int],
        drop_path_keep_prob: float,
        total_num_cells: int,
        total_training_steps: int,
        use_bounded_activation: bool = False,
        data_format: str = net_utils.NHWC,
    ) -> None:
        self._num_conv_filters = num_conv_filters
        self._operations = operations
        self._used_hiddenstates = used_hiddenstates
        self._hiddenstate_indices = hiddenstate_indices
        self._drop_path_keep_prob = drop_path_keep_prob
        self._total_num_cells = total_num_cells
        self._total_training_steps = total_training_steps
        self._use_bounded_activation = use_bounded_activation
        self._data_format = data_format

    def _activation(self, net):
        return activation_fn(self._use_bounded_activation)(net)

    def _spatial(self, net):
        return net_utils.spatial_shape(net, self._data_format)

    def _depth(self, net):
        return net_utils.depth(net, self._data_format)

    def _reduce_prev_layer(self, prev_layer, curr_layer):
        """Match the previous layer to this cell: halve it if larger, else a 1x1 to the width."""
        if prev_layer is None:
            return curr_layer
        curr_num_filters = self._filter_size
        if self._spatial(curr_layer) != self._spatial(prev_layer):
            prev_layer = self._activation(prev_layer)
            prev_layer = factorized_reduction(
                prev_layer, curr_num_filters, stride=2, data_format=self._data_format
            )
        elif curr_num_filters != self._depth(prev_layer):
            prev_layer = self._activation(prev_layer)
            prev_layer = layers.conv2d(prev_layer, curr_num_filters, 1, scope="prev_1x1")
            prev_layer = layers.batch_norm(prev_layer, scope="prev_bn")
        return prev_layer

    def _cell_base(self, net, prev_layer):
        """The hidden states the combinations start from: ``[net after its 1x1, prev_layer]``."""
        prev_layer = self._reduce_prev_layer(prev_layer, net)
        net = self._activation(net)
        net = layers.conv2d(net, self._filter_size, 1, scope="1x1")
        net = layers.batch_norm(net, scope="beginning_bn")
        return [net, prev_layer]

    def __call__(
        self,
        net,
        scope=None,
        filter_scaling=1,
        stride=1,
        prev_layer=None,
        cell_num=-1,
        current_step=None,
    ):
        """Run the cell on ``net`` (and ``prev_layer``); ``stride`` 2 makes a reduction cell.

        ``cell_num`` is the cell's position among all cells (stem cells included), which
        drop-path scales its probability by; ``current_step`` replaces the global step there.
        """
        self._cell_num = cell_num
        self._filter_scaling = filter_scaling
        self._filter_size = int(self._num_conv_filters * filter_scaling)
        with tf1.variable_scope(scope):
            net = self._cell_base(net, prev_layer)
            for iteration in range(5):
                with tf1.variable_scope(f"comb_iter_{iteration}"):
                    left_index = self._hiddenstate_indices[2 * iteration]
                    right_index = self._hiddenstate_indices[2 * iteration + 1]
                    with tf1.variable_scope("left"):
                        h1 = self._apply_conv_operation(
                            net[left_index],
                            self._operations[2 * iteration],
                            stride,
                            left_index < 2,
                            current_step,
                        )
                    with tf1.variable_scope("right"):
                        h2 = self._apply_conv_operation(
                            net[right_index],
                            self._operations[2 * iteration + 1],
                            stride,
                            right_index < 2,
                            current_step,
                        )
                    with tf1.variable_scope("combine"):
                        h = h1 + h2
                        if self._use_bounded_activation:
                            h = tf.nn.relu6(h)
                    net.append(h)
            with tf1.variable_scope("cell_output"):
                return self._combine_unused_states(net)

    def _apply_conv_operation(self, net, operation, stride, is_from_original_input, current_step):
        """One operation of a combination, then drop-path (but for the identity)."""
        # Only the cell's inputs are strided; the states computed inside are already reduced.
        if stride > 1 and not is_from_original_input:
            stride = 1
        input_filters = self._depth(net)
        filter_size = self._filter_size
        bounded = self._use_bounded_activation
        if "separable" in operation:
            net = _stacked_separable_conv(net, stride, operation, filter_size, bounded)
            if bounded:
                net = tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
        elif operation == "none":
            if bounded:
                net = tf.nn.relu6(net)
            # The identity needs a strided 1x1 when the shape must change.
            if stride > 1 or input_filters != filter_size:
                if not bounded:
                    net = tf.nn.relu(net)
                net = layers.conv2d(net, filter_size, 1, stride=stride, scope="1x1")
                net = layers.batch_norm(net, scope="bn_1")
                if bounded:
                    net = tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
        elif "pool" in operation:
            net = _pooling(net, stride, operation, bounded)
            if input_filters != filter_size:
                net = layers.conv2d(net, filter_size, 1, stride=1, scope="1x1")
                net = layers.batch_norm(net, scope="bn_1")
            if bounded:
                net = tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
        else:
            raise ValueError(f"Unimplemented operation {operation!r}")
        if operation != "none":
            net = self._apply_drop_path(net, current_step=current_step)
        return net

    def _combine_unused_states(self, net):
        """Concatenate the hidden states no combination used, reduced to the last one's shape."""
        used_hiddenstates = self._used_hiddenstates
        final_spatial = self._spatial(net[-1])
        final_num_filters = self._depth(net[-1])
        if len(used_hiddenstates) != len(net):
            raise ValueError("used_hiddenstates must name every hidden state of the cell")
        for idx, used_h in enumerate(used_hiddenstates):
            same_size = self._spatial(net[idx]) == final_spatial
            should_reduce = not same_size or final_num_filters != self._depth(net[idx])
            if should_reduce and not used_h:
                stride = 1 if same_size else 2
                with tf1.variable_scope(f"reduction_{idx}"):
                    net[idx] = factorized_reduction(
                        net[idx], final_num_filters, stride, data_format=self._data_format
                    )
        states_to_combine = [h for h, is_used in zip(net, used_hiddenstates) if not is_used]
        return net_utils.concat_channels(states_to_combine, self._data_format)

    def _apply_drop_path(self, net, current_step=None):
        """Drop-path with slim's "v3" schedule: by the cell's depth and the training progress.

        The keep probability of cell ``i`` of ``n`` is ``1 - (i + 1) / n * (1 - keep)``, moved
        from 1 towards that value as ``current_step / total_training_steps`` goes to 1. The step
        is the global step unless given; like slim, this creates the global step where there is
        none yet (inside the current variable scope, as ``get_or_create_global_step`` does).
        """
        drop_path_keep_prob = self._drop_path_keep_prob
        if drop_path_keep_prob < 1.0:
            if self._cell_num == -1:
                raise ValueError("drop-path needs the cell's cell_num")
            layer_ratio = (self._cell_num + 1) / float(self._total_num_cells)
            drop_path_keep_prob = 1 - layer_ratio * (1 - drop_path_keep_prob)
            if current_step is None:
                current_step = tf1.train.get_or_create_global_step()
            current_step = tf.cast(current_step, tf.float32)
            current_ratio = tf.minimum(1.0, current_step / self._total_training_steps)
            drop_path_keep_prob = 1 - current_ratio * (1 - drop_path_keep_prob)
            net = drop_path(net, drop_path_keep_prob)
        return net


class SearchedCell(NasNetABaseCell):
    """A cell the architecture search fixed: its operations and wiring are class constants.

    ``OPERATIONS``, ``USED_HIDDENSTATES`` and ``HIDDENSTATE_INDICES`` are
    :class:`NasNetABaseCell`'s ``operations``, ``used_hiddenstates`` and
    ``hiddenstate_indices``; the constructor takes the rest (slim's subclasses' signature).
    """

    OPERATIONS: tuple[str, ...] = ()
    USED_HIDDENSTATES: tuple[int, ...] = ()
    HIDDENSTATE_INDICES: tuple[int, ...] = ()

    def __init__(
        self,
        num_conv_filters,
        drop_path_keep_prob,
        total_num_cells,
        total_training_steps,
        use_bounded_activation=False,
        data_format=net_utils.NHWC,
    ):
        super().__init__(
            num_conv_filters,
            list(self.OPERATIONS),
            list(self.USED_HIDDENSTATES),
            list(self.HIDDENSTATE_INDICES),
            drop_path_keep_prob,
            total_num_cells,
            total_training_steps,
            use_bounded_activation,
            data_format,
        )


class NasNetANormalCell(SearchedCell):
    """NASNet-A's normal cell (keeps the size)."""

    OPERATIONS = (
        "separable_5x5_2",
        "separable_3x3_2",
        "separable_5x5_2",
        "separable_3x3_2",
        "avg_pool_3x3",
        "none",
        "avg_pool_3x3",
        "avg_pool_3x3",
        "separable_3x3_2",
        "none",
    )
    USED_HIDDENSTATES = (1, 0, 0, 0, 0, 0, 0)
    HIDDENSTATE_INDICES = (0, 1, 1, 1, 0, 1, 1, 1, 0, 0)


class NasNetAReductionCell(SearchedCell):
    """NASNet-A's reduction cell (called with stride 2: halves the size)."""

    OPERATIONS = (
        "separable_5x5_2",
        "separable_7x7_2",
        "max_pool_3x3",
        "separable_7x7_2",
        "avg_pool_3x3",
        "separable_5x5_2",
        "none",
        "avg_pool_3x3",
        "separable_3x3_2",
        "max_pool_3x3",
    )
    USED_HIDDENSTATES = (1, 1, 1, 0, 0, 0, 0)
    HIDDENSTATE_INDICES = (0, 1, 0, 1, 0, 1, 3, 2, 2, 0)
