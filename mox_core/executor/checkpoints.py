"""Finding checkpoints and warm-starting from them with include / exclude patterns."""

from __future__ import annotations

import re

import tensorflow.compat.v1 as tf

#: what a checkpoint is, for the errors about paths that are not one
CHECKPOINT_LOOKS_LIKE = ("a checkpoint is a prefix such as log_dir/model.ckpt-100 whose "
                         ".index and .data-00000-of-00001 files tf.train.Saver wrote, or a "
                         "folder holding such files and the 'checkpoint' file naming them")


def resolve_checkpoint(path: str, what: str = "checkpoint_path") -> str:
    """The checkpoint prefix that ``path`` names: a prefix (``model.ckpt-100``) or a folder
    (its newest checkpoint). ``ValueError`` naming ``path`` when there is none, or when what it
    names cannot be read as a checkpoint (a damaged ``.index``, another kind of file): found
    here, before a graph is built, rather than as TensorFlow's "file is too short to be an
    sstable" when the session restores it."""
    if not path:
        raise ValueError(f"{what} is required here and was not given")
    if tf.io.gfile.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise ValueError(f"{what} {path!r} is a folder with no checkpoint in it (no "
                             f"'checkpoint' state file naming a complete checkpoint)")
    elif tf.io.gfile.exists(path + ".index"):
        prefix = path
    else:
        part = re.search(r"\.(index|meta|data-\d+-of-\d+)$", path)
        hint = f": give the prefix {path[:part.start()]!r} instead" if part else ""
        raise ValueError(
            f"{what} {path!r} is neither a folder holding checkpoints nor a checkpoint prefix "
            f"(like log_dir/model.ckpt-100, for which {path}.index would exist){hint}"
        )
    said = unreadable_reason(prefix)
    if said:
        named = "" if prefix == path else f" (its newest checkpoint {prefix})"
        raise ValueError(f"{what} {path!r}{named} cannot be read as a checkpoint: {said}; "
                         f"{CHECKPOINT_LOOKS_LIKE}")
    return prefix


def unreadable_reason(prefix: str) -> str | None:
    """Why checkpoint ``prefix`` cannot be read whole (TensorFlow's words), or ``None``.

    Every tensor is read, one at a time: a damaged ``.data`` file passes the index check and
    fails only when the session restores it, with an error naming no file."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except tf.errors.OpError as exc:
        return (exc.message or type(exc).__name__).splitlines()[0].split(": perhaps")[0]
    except (IndexError, ValueError, OSError) as exc:  # what the reader raises for cut data
        return str(exc) or type(exc).__name__
    return None


def resume_point(log_dir: str) -> str | None:
    """The newest checkpoint of ``log_dir`` that training resumes from, ``None`` when there is
    none; a ``ValueError`` naming it, and the checkpoint before it, when it cannot be read."""
    state = tf.train.get_checkpoint_state(log_dir)
    prefix = tf.train.latest_checkpoint(log_dir)
    if prefix is None:
        return None
    said = unreadable_reason(prefix)
    if said is None:
        return prefix
    earlier = [p for p in (state.all_model_checkpoint_paths if state else [])
               if p != state.model_checkpoint_path and tf.io.gfile.exists(p + ".index")]
    fallback = (f"delete its files ({prefix}.*) and its lines in {log_dir}/checkpoint to "
                f"resume from the one before it, {earlier[-1]}" if earlier else
                "delete its files and the 'checkpoint' file to train from the start")
    raise ValueError(f"log_dir {log_dir!r} holds a damaged checkpoint: its newest, {prefix}, "
                     f"cannot be read ({said}). Training resumes from the newest checkpoint: "
                     f"{fallback}, or train into another log_dir")


def split_patterns(text: str | None) -> list[str]:
    """``'global_step, logits'`` -> ``['global_step', 'logits']`` (regular expressions)."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _compile(patterns: list[str], flag: str) -> list[re.Pattern]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"flag {flag}: {pattern!r} is not a valid regular expression: "
                             f"{exc}") from None
    return compiled


def select(names: list[str], include: str | None, exclude: str | None,
           include_flag: str, exclude_flag: str) -> list[str]:
    """Names matching an ``include`` pattern (all when none) and no ``exclude`` pattern.

    Patterns are comma-separated regular expressions searched anywhere in the name, so a plain
    word such as ``logits`` matches every variable with ``logits`` in its name.
    """
    included = _compile(split_patterns(include), include_flag)
    excluded = _compile(split_patterns(exclude), exclude_flag)
    return [
        name for name in names
        if (not included or any(p.search(name) for p in included))
        and not any(p.search(name) for p in excluded)
    ]


#: the graph collection of the training optimizers' own variables (the executor fills it)
OPTIMIZER_VARIABLES = "mox_optimizer_variables"


def warm_start_saver(checkpoint: str, include: str | None, exclude: str | None):
    """A ``Saver`` restoring the current graph's variables that ``checkpoint`` holds.

    The global step is never restored (fine-tuning starts counting at 0), nor the optimizers'
    own variables (:data:`OPTIMIZER_VARIABLES`: momentum, Adam's moments, as TF-Slim's
    fine-tuning restores the model alone: the last run's momentum would push the new one),
    nor variables the patterns leave out or the checkpoint lacks (new layers): those keep their
    initial values and are listed in the log. A variable whose shape differs from the
    checkpoint's is an error that names it and suggests ``checkpoint_exclude_patterns``.
    """
    in_checkpoint = dict(tf.train.list_variables(checkpoint))
    variables = {v.op.name: v for v in tf.global_variables()}
    global_step = tf.train.get_global_step()
    skip = {v.op.name for v in tf.get_collection(OPTIMIZER_VARIABLES)}
    if global_step is not None:
        skip.add(global_step.op.name)
    wanted = select([n for n in variables if n not in skip], include, exclude,
                    "checkpoint_include_patterns", "checkpoint_exclude_patterns")
    restore, missing = [], []
    for name in wanted:
        if name not in in_checkpoint:
            missing.append(name)
            continue
        shape = variables[name].shape.as_list()
        if list(in_checkpoint[name]) != shape:
            raise ValueError(
                f"cannot warm-start variable {name!r} from {checkpoint}: the model's shape is "
                f"{shape} but the checkpoint's is {list(in_checkpoint[name])}; exclude it with "
                f"mox.set_flag('checkpoint_exclude_patterns', ...) (e.g. 'logits' when the "
                f"number of classes changed)"
            )
        restore.append(variables[name])
    if not restore:
        raise ValueError(f"warm start from {checkpoint} would restore no variable: none of the "
                         f"model's variables are in it (after include/exclude patterns)")
    tf.logging.info("Warm start: restoring %d variables from %s", len(restore), checkpoint)
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        tf.logging.info("Warm start: %d variables are not in the checkpoint and keep their "
                        "initial values: %s", len(missing), shown)
    return tf.train.Saver(var_list=restore)


def checkpoint_global_step(checkpoint: str) -> int | None:
    """The global step stored in ``checkpoint``, or ``None`` if it holds none."""
    reader = tf.train.load_checkpoint(checkpoint)
    name = tf.GraphKeys.GLOBAL_STEP
    if reader.has_tensor(name):
        return int(reader.get_tensor(name))
    return None
