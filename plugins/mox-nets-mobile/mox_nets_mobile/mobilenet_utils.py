"""What MobileNet v1 and v2 share: slim's ``output_stride`` schedule and named variants.

TF-Slim writes both in each of ``mobilenet_v1.py`` and ``mobilenet/mobilenet.py``; here they
are written once for the two families of this plugin.
"""

from __future__ import annotations

import functools


def variant(builder, name: str, **fixed):
    """``builder`` with some arguments fixed (slim's ``wrapped_partial``), named ``name``.

    A ``functools.partial`` keeps the builder's signature (``get_model_fn`` checks model kwargs
    against it), with the fixed arguments as keyword defaults; the network's record describes
    it, the docstring says what is fixed.
    """
    partial = functools.partial(builder, **fixed)
    partial.__name__ = partial.__qualname__ = name
    partial.__module__ = builder.__module__
    settings = ", ".join(f"{key}={value!r}" for key, value in fixed.items())
    partial.__doc__ = f"``{builder.__name__}`` with ``{settings}``."
    return partial


def atrous_strides(strides: list[int], output_stride: int | None) -> list[tuple[int, int]]:
    """Each layer's ``(stride, atrous rate)`` under slim's ``output_stride`` (the MobileNets').

    Layers keep their strides until the product of the strides so far reaches
    ``output_stride``; from there on they run with stride 1, and the strides they skip become
    the atrous rate of the layers after them, so that the feature map stays denser.
    """
    current_stride = 1
    rate = 1
    schedule = []
    for stride in strides:
        if output_stride is not None and current_stride == output_stride:
            schedule.append((1, rate))
            rate *= stride
        else:
            schedule.append((stride, 1))
            current_stride *= stride
    return schedule
