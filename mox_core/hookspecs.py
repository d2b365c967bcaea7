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
  checks every field of every record, and remembers which distribution registered what
  (``mox plugins`` shows it). A name the core registers, or that mox's catalog
  (``mox_core.install_hints``) lists for a distribution, stays with its owner: another
  plugin's record of it is left out with a warning to rename it. A name two other
  distributions register is unusable (using it is an error naming both); every other name
  works.
- **behavioural hooks** take arguments and do work, as datasette's ``register_commands(cli)``
  does: ``mox_commands(subparsers)`` adds ``mox`` subcommands, ``mox_session_hooks(config)``
  adds SessionRunHooks to every run.

The core calls every hook through pluggy's hook callers, one plugin at a time. An
implementation that raises, or returns something other than what its hook documents (one
record instead of a list, a record of another hook, a field of the wrong type), is left out of
that call with one ``mox_core.plugins.PluginHookWarning`` naming its distribution, the hook,
the record, the field and what was expected (``mox plugins`` shows it too); every other plugin
keeps working. A ``mox_*`` function of a plugin module that is no hook (``mox_network``) or
lacks ``@hookimpl`` gets a ``PluginHookNameWarning`` naming the nearest hook.

Each hook's docstring below is its full contract: when it runs, its arguments, what it returns
and how mox calls the targets it returns. ``docs/plugins.md`` shows them (:func:`reference`
writes that part; a test keeps the two equal).

Keep the plugin module light: it is imported whenever mox needs any registry (and at
``import mox_core``, for flags, and by every ``mox`` command), so point at code with
``"module:attribute"`` strings and import heavy modules (TensorFlow, network families) only
inside the functions those strings name, or inside behavioural hooks and the commands they
add.

The core registers its own built-in optimizers, flags, ... and every ``mox`` command through
these very hooks (``mox_core.builtin``).
"""

from __future__ import annotations

import sys

import pluggy

PROJECT_NAME = "mox"
ENTRY_POINT_GROUP = "mox"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def mox_networks():
    """Networks for ``get_model_fn`` / ``get_model_meta`` / ``list_networks`` and ``mox train
    --net``.

    **When**: once per process, the first time a network is looked up or listed (``mox
    nets``); takes no argument.

    **Returns** a list of :class:`mox_core.registry.NetworkSpec`, one per network; its fields
    are checked when collected (``name`` an identifier, ``builder`` a callable or
    ``"package.module:attribute"``, ``default_image_size`` a positive int,
    ``default_labels_offset`` an int >= 0, ``default_logits_pattern`` a non-empty str,
    ``preprocessing`` ``None`` or a pipeline name, ``arg_scope`` ``None`` or a target).
    ``mox_core.registry.network_family`` writes the records of a family. ``mox train``, ``mox
    eval`` and ``mox predict`` feed the network through its ``preprocessing`` pipeline, so a
    network for the command line names one (a core pipeline such as
    ``lenet_preprocessing``, or the plugin's own).

    **How mox calls the targets**: ``get_model_fn`` resolves ``builder`` (and ``arg_scope``)
    when the user picks the network, and calls the builder when the user's
    ``network_fn(images)`` runs, inside the current ``tf.compat.v1`` graph. With an
    ``arg_scope``, mox enters ``arg_scope(weight_decay=...)`` (the family's TF-Slim
    ``*_arg_scope``) and its own options on top (``data_format`` on every layer,
    ``is_training``, ``batch_norm_fused``, ``batch_renorm``), transposes the NHWC images to
    ``data_format`` and calls::

        builder(images, num_classes, *, is_training, **arch) -> (logits, end_points)

    With ``arg_scope=None`` (a network that brings its own layers) the builder gets the NHWC
    images and the options as arguments, and transposes for ``data_format`` itself::

        builder(images, num_classes, *, is_training, weight_decay=0.0, data_format="NHWC",
                batch_norm_fused=False, batch_renorm=False, **arch) -> (logits, end_points)

    ``arch`` are the network's own keywords (the model kwargs of ``get_model_fn``:
    ``dropout_keep_prob``, ``width``, ...; one the builder does not take is refused naming
    it). ``logits`` are ``[batch, num_classes]``; ``end_points`` a dict of tensors, TF-Slim
    style (``"Predictions"``: the softmax). Only the record's ``default_image_size`` counts: a
    ``default_image_size`` attribute of the builder (TF-Slim's convention) is not read.
    Variable names should follow TF-Slim's (``mox_core.nets.layers``) so that public
    checkpoints load.
    """


@hookspec
def mox_preprocessing():
    """Preprocessing pipelines for ``get_data_augmentation_fn(name, run_mode, output_height,
    output_width, **kwargs)``, where ``name`` is the pipeline or a network naming it in
    ``NetworkSpec.preprocessing``.

    **When**: once per process, at the first pipeline lookup or listing.

    **Returns** a list of :class:`mox_core.registry.PreprocessingSpec`.

    **How mox calls the targets**: ``factory(run_mode, output_height=None,
    output_width=None, **kwargs)`` once, when the user chooses the pipeline (check the
    arguments there, raising ``ValueError`` naming the pipeline); it returns a function of one
    ``[h, w, c]`` image tensor, called on each image inside ``Dataset.map``: build only
    TensorFlow ops, and take randomness from TensorFlow's random ops.
    """


@hookspec
def mox_optimizers():
    """Optimizers for ``get_optimizer_fn(name, learning_rate, scope=None, *args, **kwargs)``
    and wrappers for ``get_optimizer_wrapper_fn(name, base_opt, **kwargs)``.

    **When**: once per process, at the first optimizer lookup or listing.

    **Returns** a list of :class:`mox_core.registry.OptimizerSpec` (``wrapper=True`` for a
    wrapper).

    **How mox calls the targets**: ``get_optimizer_fn`` binds the user's arguments against
    ``factory``'s signature at once (give it a real one: a misspelt argument then fails
    there, naming what it accepts), and the executor calls ``factory(learning_rate, *args,
    name=scope, **kwargs)`` once per graph; it returns a ``tf.compat.v1.train.Optimizer``. A
    wrapper's factory is ``factory(optimizer, **kwargs)``, the wrapped optimizer instance
    first.
    """


@hookspec
def mox_dataset_readers():
    """Readers usable as ``reader_class`` of the raw image datasets
    (``ImageClassificationRawDataset`` and friends; ``get_reader_class(name)``).

    **When**: once per process, at the first reader lookup.

    **Returns** a list of :class:`mox_core.registry.DatasetReaderSpec`.

    **How mox calls the targets**: the dataset builds one reader per pipeline with its own
    ``num_readers`` and ``capacity`` and the user's ``reader_kwargs``::

        reader = Reader(num_readers=num_readers, capacity=capacity, **reader_kwargs)
        reader.read(elements, deterministic) -> tf.data.Dataset

    ``elements`` is a ``tf.data.Dataset`` of dicts holding at least ``"path"`` (a
    ``tf.string`` scalar); ``read`` returns the same dicts with ``"image_buf"`` (the file's
    bytes) added, in any order when ``deterministic`` is False. ``read`` runs while the input
    graph is built. A reader with a ``mox_file_urls`` attribute is told before ``read``
    whether the paths are URLs of a scheme a plugin serves through ``mox.file`` (``True``:
    read them with ``mox_core.file.tfdata.read_file``, which goes through that plugin's
    backend) or paths TensorFlow reads itself (``False``: ``tf.io.read_file``). See
    ``mox_core.datasets.readers.ParallelReader``.
    """


@hookspec
def mox_datasets():
    """Named datasets for ``get_dataset(name, split_name, dataset_dir, **kwargs)`` /
    ``get_dataset_meta(name, dataset_dir=None)``, and ``mox train/eval --dataset NAME --data
    DIR``.

    **When**: once per process, at the first named-dataset lookup.

    **Returns** a list of :class:`mox_core.registry.DatasetSpec`.

    **How mox calls the targets**: ``loader(split_name, dataset_dir, **kwargs)`` returns the
    dataset object of one split; ``kwargs`` are the user's (``batch_size``, ``shuffle``,
    ``num_epochs``, ``image_size``, ...), and ``capacity=`` arrives only when the user gives
    it; ``mox train/eval --dataset NAME --data DIR`` call it with ``batch_size``, ``shuffle``,
    ``num_epochs``, ``image_size``, ``augmentation_fn`` and ``skip_corrupt`` (the arguments of
    mox's image datasets), training on the first split of ``splits_to_sizes`` and evaluating
    on the second. ``meta()`` -- or ``meta(dataset_dir=...)`` when it takes that parameter and a folder
    is known -- returns the metadata: an object with ``splits_to_sizes`` (``{split: count}``,
    the training split first), ``num_classes`` and ``labels_to_names`` (``{id: name}`` or
    ``None``). The dataset object is what a MoXing script reads from:

    - ``get(keys) -> list of tensors``: one batch of the items named (``"image"``,
      ``"label"``, ...), in that order, built in the current graph;
    - ``keys``: the item names it has;
    - ``metadata.total_num_samples``: the samples of the split (epochs and ``mox train``'s
      steps are counted with it); ``metadata.labels_to_names`` and ``metadata.num_classes``.

    ``mox_core.datasets.tfrecord.ImageClassificationTFRecordDataset`` (what the built-in
    TF-Slim datasets of ``mox_core.datasets.named`` return) is one.
    """


@hookspec
def mox_filesystems():
    """URL schemes served by ``mox.file`` (e.g. ``obs``, ``s3``) and, through it, by the
    datasets, ``mox train --data`` and the log folder.

    **When**: once per process, at the first ``mox.file`` call on a URL with a scheme.

    **Returns** a list of :class:`mox_core.registry.FilesystemSpec`: ``name`` the scheme
    without ``://``, ``backend`` a subclass of ``mox_core.file.backend.Backend``.

    **How mox calls the targets**: ``Backend(scheme)`` once per scheme, then its methods with
    full URLs. The primitives (``NotImplementedError`` in ``Backend``) and the ``mox.file``
    calls that use them:

    - ``exists(url) -> bool``: ``exists``, ``copy_parallel``, ``rename``, ``File`` (append);
    - ``is_directory(url) -> bool``: ``is_directory``, ``get_size``, ``copy_parallel``,
      ``rename``;
    - ``stat(url) -> FileStat``: ``stat``, ``get_size``, ``File.size``;
    - ``list_directory(url, recursive=False) -> sorted names``: ``list_directory``, ``glob``,
      ``walk``;
    - ``make_dirs(url)``: ``make_dirs``; ``mk_dir(url)``: ``mk_dir``;
    - ``remove(url, recursive=False)``: ``remove``, ``rename``;
    - ``read(url) -> bytes``: ``read``, the datasets' ``read_file``;
      ``open_read(url) -> binary stream``: ``File(url, "rb")``;
    - ``write(url, data: bytes)``: ``write``, ``append``;
    - ``copy(src, dst)`` (both this scheme's): ``copy``, ``copy_parallel``, ``rename``;
      ``download(url, local_path)`` and ``upload(local_path, url)``: ``copy`` and
      ``copy_parallel`` between this scheme and local paths (or another scheme, staged).

    Generic methods a backend may override for speed: ``write_stream(url, stream)``
    (``File(url, "wb")`` on close), ``scan(url)`` (``list_directory``, ``walk``),
    ``list_files(url)`` (``copy_parallel``, ``get_size`` of a folder), ``glob(pattern)``,
    ``walk(top)``, ``rename(src, dst)``, ``join(base, name)``, ``set_auth(**settings)``
    (``mox.file.set_auth``). A missing path raises
    ``mox_core.file.errors.MoxFileNotExistsException`` naming the URL (others of
    ``mox_core.file.errors`` for their cases); credentials come from the environment or a
    config file and never appear in messages. ``mox_core.testing.check_filesystem`` checks a
    backend.
    """


@hookspec
def mox_flags():
    """Run flags, readable with ``get_flag`` and settable with ``set_flag`` or the command line
    (``--name=value``; ``mox flags`` lists them).

    **When**: at ``import mox_core``: they are defined in absl's flag registry (the one behind
    ``tf.compat.v1.flags``), so ``--name=value`` works next to the user's own flags.

    **Returns** a list of :class:`mox_core.registry.FlagSpec`: ``type`` one of ``"string"``,
    ``"integer"``, ``"float"``, ``"boolean"``, ``"enum"`` (with ``choices``), a ``default``
    of that type (or ``None``) and a non-empty ``help``. Names that user scripts define
    themselves (``batch_size``, ``data_url``, ...; ``mox_core.flags.USER_SCRIPT_FLAGS``) are
    refused with a ``FlagDefinitionWarning``. The executor reads flags once per run, into its
    ``RunConfig``; a plugin reads its own with ``get_flag`` (e.g. in ``mox_session_hooks``).
    """


@hookspec
def mox_commands(subparsers):
    """Add ``mox`` subcommands.

    **When**: each time the ``mox`` command builds its parser (every ``mox`` invocation).

    ``subparsers`` is what ``argparse.ArgumentParser.add_subparsers`` returned for ``mox``:
    call ``subparsers.add_parser(name, help=...)``, add arguments to the parser it returns, and
    ``parser.set_defaults(func=command)``, where ``command(args)`` returns the exit status::

        def cmd_hello(args):
            print(f"hello, {args.name}")
            return 0

        @hookimpl
        def mox_commands(subparsers):
            parser = subparsers.add_parser("hello", help="greet someone")
            parser.add_argument("--name", default="world")
            parser.set_defaults(func=cmd_hello)

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

    **When**: once per run, on every process of a distributed run, while its graph is built.

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


def reference() -> str:
    """The hooks' contracts as the Markdown of ``docs/plugins.md``'s reference part: one
    section per hook, from its docstring (``python -c "from mox_core.hookspecs import
    reference; print(reference())"``)."""
    import inspect

    from mox_core.registry import RECORD_TYPES, record_fields

    sections = []
    for name, function in vars(sys.modules[__name__]).items():
        if name.startswith("mox_") and callable(function):
            signature = str(inspect.signature(function))
            text = f"### `{name}{signature}`\n\n" + _markdown(inspect.cleandoc(function.__doc__))
            record = RECORD_TYPES.get(name)
            if record is not None:
                rows = [f"| `{field}` | {default} | {expected} |"
                        for field, default, expected in record_fields(record)]
                text += (f"\n\nThe fields of `{record.__name__}`, checked when mox collects "
                         f"the records:\n\n| field | default | must be |\n| --- | --- | --- |\n"
                         + "\n".join(rows))
            sections.append(text)
    return "\n\n".join(sections) + "\n"


def _markdown(text: str) -> str:
    """A docstring in Markdown: ````x```` and ``:class:`x``` -> ```x```, and a paragraph ending in
    ``::`` followed by an indented block -> a fenced Python block."""
    for role in (":class:", ":func:", ":mod:"):
        text = text.replace(role, "")
    out: list[str] = []
    in_code = False
    for line in text.replace("``", "`").splitlines():
        if in_code and line and not line.startswith("    "):
            while out[-1] == "":
                out.pop()
            out.extend(["```", ""])
            in_code = False
        if in_code:
            if line or out[-1] != "```python":
                out.append(line[4:])
            continue
        if line.endswith("::"):
            out.extend([line[:-1], "", "```python"])
            in_code = True
            continue
        out.append(line)
    if in_code:
        out.append("```")
    return "\n".join(out)


if __name__ == "__main__":  # python -m mox_core.hookspecs: the reference part of the docs
    print(reference(), end="")
