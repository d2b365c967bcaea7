"""A registered preprocessing pipeline, applied the way the datasets apply it: inside a
``tf.data`` map, in each run mode."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mox_core import plugins
from mox_core.constants import ModeKeys
from mox_core.testing._common import check_finite, tf
from mox_core.testing.graphs import run_graph


def check_preprocessing(
    name: str,
    *,
    output_size: int | Sequence[int] = 24,
    input_shape: Sequence[int] = (40, 36, 3),
    input_dtype: str = "uint8",
    expected_channels: int | None = None,
    expected_dtype: str = "float32",
    modes: Iterable[str] = (ModeKeys.TRAIN, ModeKeys.EVAL),
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Check the pipeline (or network) ``name`` in each run mode, inside a ``tf.data`` map.

    ``get_data_augmentation_fn(name, mode, h, w, **kwargs)`` is applied to random images of
    ``input_shape`` / ``input_dtype`` as the datasets apply it (``Dataset.map``); the output
    must be ``[h, w, expected_channels]`` (default: the input's channels), statically where
    known and in value, of ``expected_dtype``, and finite. Returns ``{mode: output}``.
    """
    from mox_core.preprocessing import get_data_augmentation_fn

    tf1 = tf().compat.v1
    height, width = (output_size, output_size) if isinstance(output_size, int) else output_size
    channels = expected_channels or input_shape[-1]
    expected = (height, width, channels)
    rng = np.random.default_rng(0)
    if np.dtype(input_dtype) == np.uint8:
        image = rng.integers(0, 256, size=tuple(input_shape), dtype=np.uint8)
    else:
        image = (rng.random(tuple(input_shape)) * 255).astype(input_dtype)
    outputs = {}
    for mode in modes:
        what = f"preprocessing {name!r} in {mode} mode"
        pipelines = plugins.registry("preprocessing")
        if name in pipelines:
            what += f" (distribution {pipelines.get(name).distribution!r})"
        with tf().Graph().as_default():
            tf1.set_random_seed(0)
            fn = get_data_augmentation_fn(name, mode, height, width, **kwargs)
            dataset = tf().data.Dataset.from_tensors(image).map(fn)
            spec = dataset.element_spec
            if not isinstance(spec, tf().TensorSpec):
                raise AssertionError(f"{what}: must return one image tensor, got {spec}")
            static = spec.shape.as_list()
            if len(static) != 3 or any(d not in (None, e) for d, e in zip(static, expected)):
                raise AssertionError(f"{what}: output has static shape {spec.shape}, expected "
                                     f"{list(expected)}")
            if spec.dtype.name != expected_dtype:
                raise AssertionError(f"{what}: output dtype is {spec.dtype.name}, expected "
                                     f"{expected_dtype}")
            element = tf1.data.make_one_shot_iterator(dataset).get_next()
            value = run_graph(element)
        if value.shape != expected:
            raise AssertionError(f"{what}: output has shape {value.shape}, expected {expected}")
        check_finite(what, "output values", value)
        outputs[mode] = value
    return outputs
