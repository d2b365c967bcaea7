"""What every check of the kit shares: TensorFlow on first use, how a network is named in a
failure, the finiteness test, and a scratch folder per run."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from mox_core import plugins


def tf():
    """TensorFlow, imported on first use: importing the kit stays cheap for collection."""
    import tensorflow

    return tensorflow


def describe_network(name: str) -> str:
    """``network 'x' (distribution 'd')``: how every failure names the network it is about."""
    distribution = plugins.registry("networks").get(name).distribution
    return f"network {name!r} (distribution {distribution!r})"


def check_finite(what: str, label: str, values: Any) -> None:
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        raise AssertionError(f"{what}: {label} are not all finite: {values}")


@contextlib.contextmanager
def run_folder(tmp_dir: str | os.PathLike | None, name: str) -> Iterator[str]:
    """A fresh folder named after ``name`` under ``tmp_dir`` (kept, so a failing run can be
    inspected), or a temporary one removed after."""
    if tmp_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"mox-check-{name}-") as folder:
            yield folder
        return
    base = os.path.join(os.fspath(tmp_dir), name)
    folder, n = base, 1
    while os.path.exists(folder):
        n += 1
        folder = f"{base}-{n}"
    os.makedirs(folder)
    yield folder
