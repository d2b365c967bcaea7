"""The hooks a mox plugin implements: the plugin author's reference.

A plugin is a module named by an entry point in the group ``mox`` of its distribution::

    # pyproject.toml of the plugin's distribution
    [project.entry-points.mox]
    my_nets = "my_nets.plugin"

and the module implements any of the hooks below with ``mox_core.hookimpl``::

    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec

    @hookimpl
    def mox_networks():
        return [NetworkSpec(name="tiny_net", builder="my_nets.tiny:tiny_net",
                            default_image_size=32, preprocessing="cifarnet_preprocessing")]

Every hook takes no argument and returns a list of records (``mox_core.registry``). The core
calls each hook once per plugin, on first use, and remembers which distribution registered
what: two distributions registering one name is an error naming both, and ``mox plugins``
shows who registered what. Keep the plugin module light: it is imported whenever mox needs
any registry (and at ``import mox_core``, for flags), so point at code with
``"module:attribute"`` strings and import heavy modules (TensorFlow, network families) only
inside the functions those strings name.

The core registers its own built-in optimizers and flags through these very hooks
(``mox_core.builtin``).
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "mox"
ENTRY_POINT_GROUP = "mox"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def mox_networks():
    """Networks for ``get_model_fn`` / ``get_model_meta``.

    Return a list of :class:`mox_core.registry.NetworkSpec`. The builder is called as
    ``builder(images, num_classes, is_training=..., weight_decay=..., data_format=...,
    batch_norm_fused=..., batch_renorm=..., **model_kwargs)`` and returns
    ``(logits, end_points)``; variable names should follow TF-Slim's so that public
    checkpoints load.
    """


@hookspec
def mox_preprocessing():
    """Preprocessing pipelines for ``get_data_augmentation_fn``.

    Return a list of :class:`mox_core.registry.PreprocessingSpec`; networks name their pipeline
    in ``NetworkSpec.preprocessing``.
    """


@hookspec
def mox_optimizers():
    """Optimizers for ``get_optimizer_fn`` and wrappers for ``get_optimizer_wrapper_fn``.

    Return a list of :class:`mox_core.registry.OptimizerSpec`.
    """


@hookspec
def mox_dataset_readers():
    """Readers usable as ``reader_class`` of the raw image datasets.

    Return a list of :class:`mox_core.registry.DatasetReaderSpec`.
    """


@hookspec
def mox_datasets():
    """Named datasets for ``get_dataset`` / ``get_dataset_meta`` (TF-Slim TFRecord layouts).

    Return a list of :class:`mox_core.registry.DatasetSpec`.
    """


@hookspec
def mox_filesystems():
    """URL schemes served by ``mox.file`` (e.g. ``obs``, ``s3``).

    Return a list of :class:`mox_core.registry.FilesystemSpec`.
    """


@hookspec
def mox_flags():
    """Run flags, readable with ``get_flag`` and settable with ``set_flag`` or the command line.

    Return a list of :class:`mox_core.registry.FlagSpec`. They are defined in absl's flag
    registry when ``mox_core`` is imported, so ``--name=value`` works next to the user's own
    flags. Names that user scripts define themselves (``batch_size``, ``data_url``, ...; see
    ``mox_core.flags.USER_SCRIPT_FLAGS``) are refused.
    """
