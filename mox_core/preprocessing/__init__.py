"""Preprocessing pipelines by network name (``moxing.tensorflow.preprocessing``).

Pipelines are registered by plugins (``mox_preprocessing`` hook); a network names its pipeline
in its registration, and MoXing's ``PreprocessingKeys`` constants answer for a network of the
API that is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mox_core.constants import ModeKeys, PreprocessingKeys
from mox_core.plugins import registry
from mox_core.registry import resolve

__all__ = ["PreprocessingKeys", "get_data_augmentation_fn", "pipeline_for_network"]


def pipeline_for_network(name: str) -> str:
    """The preprocessing pipeline name of a network (its registration, else MoXing's table)."""
    networks = registry("networks")
    if name in networks and networks.get(name).preprocessing:
        return networks.get(name).preprocessing
    pipeline = getattr(PreprocessingKeys, name.upper(), None) if isinstance(name, str) else None
    if pipeline is None:
        raise ValueError(
            f"no preprocessing pipeline is known for network {name!r}: it is neither an "
            f"installed network with a pipeline nor in PreprocessingKeys"
        )
    return pipeline


def get_data_augmentation_fn(
    name: str,
    run_mode: str,
    output_height: int | None = None,
    output_width: int | None = None,
    **kwargs: Any,
) -> Callable[..., Any]:
    """A function of one ``[h, w, c]`` image applying network ``name``'s pipeline for ``run_mode``.

    ``name`` may be a network (``'resnet_v1_50'``) or a pipeline (``'vgg_preprocessing'``).
    For an installed network, a missing output size is the network's default image size (as in
    MoXing: ``get_data_augmentation_fn('resnet_v1_50', mode)`` gives 224 x 224 images).
    """
    if run_mode not in ModeKeys.ALL:
        raise ValueError(f"run_mode must be one of {', '.join(ModeKeys.ALL)}; got {run_mode!r}")
    pipelines = registry("preprocessing")
    pipeline = name if name in pipelines else pipeline_for_network(name)
    networks = registry("networks")
    if output_height is None and output_width is None and name in networks:
        output_height = output_width = networks.get(name).default_image_size
    spec = pipelines.get(pipeline)
    factory = resolve(spec.factory, what=f"preprocessing pipeline {pipeline!r}")
    return factory(run_mode, output_height=output_height, output_width=output_width, **kwargs)
