"""Run flags: ``get_flag`` / ``set_flag`` over absl's flag registry.

The flags are defined in ``absl.flags.FLAGS``, the registry behind ``tf.compat.v1.flags`` and
``tf.compat.v1.app.run``, when ``mox_core`` is imported. A script that defines its own flags
and calls ``tf.app.run()`` therefore gets one command line for both (``--num_gpus=2
--batch_size=64``). When nothing has parsed the command line yet, the first ``get_flag`` or
``set_flag`` parses the known flags from ``sys.argv`` and leaves the rest alone, so MoXing
scripts that call ``mox.run`` at module level still see ``--num_gpus=2``.

The flags themselves come from plugins through the ``mox_flags`` hook; the core's own are in
``mox_core.builtin.flags``. Names that user scripts define themselves are refused
(``USER_SCRIPT_FLAGS``): defining them here would crash those scripts with absl's
``DuplicateFlagError``.

absl itself takes some of those names on TensorFlow 2: ``absl.logging`` (imported by
TensorFlow) defines ``--log_dir``, so a MoXing script's ``tf.flags.DEFINE_string('log_dir',
...)`` would be a ``DuplicateFlagError`` there, while it worked on TF 1.x. Importing mox imports
``absl.logging`` and marks the flags in ``SCRIPT_REDEFINABLE_ABSL_FLAGS`` overridable (absl's
``allow_override``): a script's own definition then replaces absl's, with the script's default,
help and type, and ``--log_dir=...`` on the command line sets the script's flag. absl's logging
keeps working because it reads these flags by name (``FLAGS['log_dir'].value``) whenever it
uses them, and the script's flag has the same meaning (a log folder, a switch). The script must
define them after ``import moxing.tensorflow`` (the first line of MoXing scripts).

The other flags absl defines stay absl's, and defining them again is absl's
``DuplicateFlagError``: ``verbosity`` (short name ``v``) and ``logger_levels`` are special flag
classes whose methods ``absl.app.run`` calls (a script's plain flag would break every
``tf.app.run``); ``stderrthreshold`` must be a level name, or every log call fails; absl.app's
debugging switches (``pdb``, ``run_with_pdb``, ``run_with_profiling``, ``profile_file``,
``use_cprofile_for_profiling``, ``only_check_args``) would change what ``tf.app.run`` does; and
the testing and TPU flags TensorFlow imports (``test_tmpdir``, ``tt_*``, ...) are not names MoXing
scripts use.
"""

from __future__ import annotations

import difflib
import sys
import warnings
from typing import Any

from absl import flags as absl_flags

from mox_core.aliases import aliased
from mox_core.registry import FlagSpec

FLAGS = absl_flags.FLAGS

#: Flags that MoXing-style scripts define themselves; mox never defines these.
USER_SCRIPT_FLAGS = frozenset(
    {
        "data_url",
        "train_url",
        "batch_size",
        "log_dir",
        "checkpoint_path",
        "checkpoint_url",
        "max_number_of_steps",
        "log_every_n_steps",
        "save_summary_steps",
        "save_summaries_steps",
        "save_model_secs",
        "save_interval_secs",
        "data_format",
        "run_mode",
        "model_name",
        "dataset_name",
        "weight_decay",
        "momentum",
        "num_readers",
        "private_num_threads",
        "learning_rate",
        "learning_rate_strategy",
        "optimizer",
        "num_epochs",
        "image_size",
    }
)

#: mox's own flags whose names scripts commonly define too (``seed``): a script that defines
#: one after importing mox replaces mox's definition (absl's ``allow_override``) instead of
#: failing with a duplicate-flag error, and the run reads the script's value.
SCRIPT_REDEFINABLE_MOX_FLAGS = frozenset({"seed"})

#: Flags of ``absl.logging`` that a script may define itself after importing mox (see above).
SCRIPT_REDEFINABLE_ABSL_FLAGS = ("log_dir", "logtostderr", "alsologtostderr", "showprefixforinfo")

_DEFINERS = {
    "string": absl_flags.DEFINE_string,
    "integer": absl_flags.DEFINE_integer,
    "float": absl_flags.DEFINE_float,
    "boolean": absl_flags.DEFINE_boolean,
    "enum": absl_flags.DEFINE_enum,
}

_MODULE_NAME = "mox_core.flags"

#: name -> spec of every flag mox defined (or found already defined with that name).
_defined: dict[str, FlagSpec] = {}


class FlagDefinitionWarning(UserWarning):
    """A plugin's flag was not defined (reserved name, bad type, or already taken)."""


def _define(spec: FlagSpec) -> None:
    if spec.name in _defined:
        return
    owner = f"distribution {spec.distribution!r}" if spec.distribution else "a plugin"
    if spec.name in USER_SCRIPT_FLAGS:
        warnings.warn(
            f"mox flag {spec.name!r} of {owner} is not defined: user scripts define "
            f"{spec.name!r} themselves, so mox leaves that name to them",
            FlagDefinitionWarning,
            stacklevel=2,
        )
        return
    definer = _DEFINERS.get(spec.type)
    if definer is None:
        warnings.warn(
            f"mox flag {spec.name!r} of {owner} has unknown type {spec.type!r}; "
            f"expected one of {', '.join(_DEFINERS)}",
            FlagDefinitionWarning,
            stacklevel=2,
        )
        return
    if spec.name in FLAGS:
        # Defined before mox was imported (by the script or another library): keep theirs.
        warnings.warn(
            f"flag {spec.name!r} is already defined by {FLAGS.find_module_defining_flag(spec.name)}; "
            f"mox uses that definition instead of the one of {owner}",
            FlagDefinitionWarning,
            stacklevel=2,
        )
        _defined[spec.name] = spec
        return
    if spec.type == "enum":
        definer(spec.name, spec.default, list(spec.choices), spec.help, module_name=_MODULE_NAME)
    else:
        definer(spec.name, spec.default, spec.help, module_name=_MODULE_NAME)
    if spec.name in SCRIPT_REDEFINABLE_MOX_FLAGS:
        FLAGS[spec.name].allow_override = True
    _defined[spec.name] = spec


def define_flags() -> None:
    """Define every plugin's flags in absl's registry (idempotent)."""
    from mox_core.plugins import registry

    for spec in registry("flags"):
        _define(spec)


def flag_specs() -> list[FlagSpec]:
    """The specs of every flag mox defined, in registry order."""
    define_flags()
    return list(_defined.values())


def _ensure_parsed() -> None:
    if FLAGS.is_parsed():
        return
    argv = sys.argv if sys.argv and sys.argv[0] is not None else ["mox"]
    try:
        FLAGS(list(argv), known_only=True)
    except absl_flags.Error as exc:
        raise ValueError(f"bad command-line flag: {exc}") from None


def find_flag(name: str) -> absl_flags.Flag:
    """The absl flag of run flag ``name``; an unknown name is a ValueError listing the closest."""
    define_flags()
    if isinstance(name, str) and name in FLAGS:
        return FLAGS[name]
    known = list(_defined)
    close = difflib.get_close_matches(str(name), known, n=5, cutoff=0.5)
    message = f"unknown flag {name!r}."
    if close:
        message += f" Closest known flags: {', '.join(close)}."
    message += " `mox flags` lists them all."
    raise ValueError(message)


def get_flag(name: str | None = None, *, flag_name: str | None = None) -> Any:
    """The current value of run flag ``name`` (parsing ``sys.argv`` on first use).

    ``flag_name`` is an alias of ``name``: MoXing's API document declares ``get_flag(name)`` but
    its example calls ``get_flag(flag_name='worker_hosts')``, and scripts have both.
    """
    flag = find_flag(aliased("get_flag", "name", name, "flag_name", flag_name, required=True))
    _ensure_parsed()
    return flag.value


def set_flag(name: str, value: Any) -> None:
    """Set run flag ``name`` to ``value`` (converted and checked as the command line would).

    Call it before ``mox.run`` and outside ``input_fn`` / ``model_fn`` / ``optimizer_fn``.
    """
    flag = find_flag(name)
    _ensure_parsed()
    try:
        parsed = flag.parser.parse(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"flag {name!r} expects a value of type {flag.flag_type()}, got {value!r}: {exc}"
        ) from None
    try:
        setattr(FLAGS, name, parsed)
    except absl_flags.Error as exc:
        raise ValueError(f"flag {name!r} rejected {value!r}: {exc}") from None


def _let_scripts_redefine_absl_flags() -> None:
    """Mark absl.logging's flags in ``SCRIPT_REDEFINABLE_ABSL_FLAGS`` overridable."""
    import absl.logging  # noqa: F401  (defines its flags, as TensorFlow's import would)

    for name in SCRIPT_REDEFINABLE_ABSL_FLAGS:
        if name in FLAGS and FLAGS.find_module_defining_flag(name) == "absl.logging":
            FLAGS[name].allow_override = True


_let_scripts_redefine_absl_flags()
define_flags()
