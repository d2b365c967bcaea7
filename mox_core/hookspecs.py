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

Two kinds of hooks:

- **registration hooks** (``mox_networks`` ... ``mox_flags``) take no argument and return a
  list of records (``mox_core.registry``). The core calls each once per plugin, on first use,
  and remembers which distribution registered what: two distributions registering one name is
  an error naming both, and ``mox plugins`` shows who registered what.
- **behavioural hooks** take arguments and do work, as datasette's ``register_commands(cli)``
  does: ``mox_commands(subparsers)`` adds ``mox`` subcommands, ``mox_session_hooks(config)``
  adds SessionRunHooks to every run.

The core calls every hook through pluggy's hook callers, one plugin at a time. An
implementation that raises, or returns something other than what its hook documents, is left
out of that call with one ``mox_core.plugins.PluginHookWarning`` naming its distribution, the
hook and the error (``mox plugins`` shows it too); every other plugin keeps working.

Keep the plugin module light: it is imported whenever mox needs any registry (and at
``import mox_core``, for flags, and by every ``mox`` command), so point at code with
``"module:attribute"`` strings and import heavy modules (TensorFlow, network families) only
inside the functions those strings name, or inside behavioural hooks and the commands they
add.

The core registers its own built-in optimizers, flags, ... and every ``mox`` command through
these very hooks (``mox_core.builtin``).
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

    Return a list of :class:`mox_core.registry.NetworkSpec`: the record holds everything about
    the network, next to its builder (default image size, preprocessing, ``arg_scope``, logits
    pattern; its docstring says how the builder is called). The builder returns
    ``(logits, end_points)``; variable names should follow TF-Slim's so that public
    checkpoints load. ``mox_core.registry.network_family`` writes the records of a family.
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


@hookspec
def mox_commands(subparsers):
    """Add ``mox`` subcommands.

    ``subparsers`` is what ``argparse.ArgumentParser.add_subparsers`` returned for ``mox``:
    call ``subparsers.add_parser(name, help=...)``, add arguments to the parser it returns, and
    ``parser.set_defaults(func=command)``, where ``command(args)`` returns the exit status.
    ``set_defaults(framework_flags=True)`` makes the command take the framework's run flags as
    ``--flag=value`` (``mox flags`` lists them). Errors the command raises as ``ValueError`` or
    ``RuntimeError`` are printed as one ``mox: error: ...`` line with exit status 2.

    Every ``mox`` invocation builds the whole parser, so keep this cheap: import what the
    command needs (TensorFlow, ...) inside ``command``. The core's own commands come first; a
    command whose name (or alias) is taken already is left out with a warning naming the plugin,
    so a plugin cannot replace ``mox train``. A plugin whose hook raises loses the commands it
    added; the others stay.
    """


@hookspec
def mox_session_hooks(config):
    """SessionRunHooks to add to every ``mox.run`` session (TRAIN, EVAL and PREDICT).

    ``config`` is the run's frozen configuration (``mox_core.executor.config.RunConfig``); a
    hook usually needs only ``config.mode`` (``"TRAIN"``, ``"EVAL"`` or ``"PREDICT"``),
    ``config.log_dir`` (the run's output folder, ``None`` when it has none),
    ``config.max_steps``, ``config.is_chief`` (this process writes checkpoints and summaries)
    and ``config.cluster`` (the distributed layout). Return a list of
    ``tf.compat.v1.train.SessionRunHook`` (an empty list to add nothing to this run). They are
    called on every process of a distributed run; check ``config.is_chief`` for work only one
    process should do. The graph is being built when this is called: create the hooks'
    tensors in ``begin()``, as TensorFlow's own hooks do.
    """
