"""The ``mox`` command: its parser, built from the ``mox_commands`` hook, and ``main``.

Every subcommand, the core's own included (``mox_core.builtin.commands``, modules in
``mox_core.commands``), is added by a plugin's ``mox_commands(subparsers)``. This module builds
the parser from that hook, sets the framework's run flags of commands that take them
(``--flag=value``), runs the command and renders its errors: a ``ValueError`` or
``RuntimeError`` (a :class:`mox_core.errors.DataError` among them, worded with the command
line's ``--skip-corrupt``) is one ``mox: error: ...`` line and exit status 2.

Building the parser loads no TensorFlow, so the listings (``mox nets``, ``mox plugins``,
``mox flags``) answer at once.
"""

from __future__ import annotations

import argparse
import functools
import sys
import warnings
from typing import Any

from mox_core import plugins


class _PluginSubparsers:
    """The ``subparsers`` one plugin's ``mox_commands`` gets: argparse's, except that a command
    name (or alias) already taken is refused with a warning naming the plugin (the earlier
    command, the core's first, stays), and that what the plugin added can be taken back when
    its hook raises."""

    def __init__(self, subparsers: Any, plugin: plugins.PluginInfo,
                 owners: dict[str, str]) -> None:
        self._subparsers, self._plugin, self._owners = subparsers, plugin, owners
        self._added: list[str] = []

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        names = [name, *kwargs.get("aliases", ())]
        taken = [each for each in names if each in self._subparsers.choices]
        if taken:
            warnings.warn(
                f"mox plugin {self._plugin.name!r} of distribution "
                f"{self._plugin.distribution!r}: its command {taken[0]!r} is left out: "
                f"{self._owners.get(taken[0], 'another distribution')!r} has a command of "
                f"that name already",
                plugins.PluginHookWarning,
                stacklevel=2,
            )
            # a parser of its own, so the plugin's code can go on adding arguments to it
            kwargs = {key: value for key, value in kwargs.items()
                      if key not in ("help", "aliases")}
            return argparse.ArgumentParser(prog=f"mox {name}", **kwargs)
        parser = self._subparsers.add_parser(name, **kwargs)
        self._added.extend(names)
        self._owners.update(dict.fromkeys(names, self._plugin.distribution))
        return parser

    def withdraw(self) -> None:
        """Remove the commands added through this object (argparse has no public way)."""
        for name in self._added:
            self._subparsers.choices.pop(name, None)
            self._owners.pop(name, None)
        self._subparsers._choices_actions[:] = [
            action for action in self._subparsers._choices_actions
            if action.dest not in self._added]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subparsers, name)


def add_commands(subparsers: Any) -> None:
    """Call every plugin's ``mox_commands`` hook, the core's first, each isolated: a plugin
    whose hook raises loses the commands it added, with one warning naming it."""
    owners: dict[str, str] = {}
    for plugin, call in plugins.hook_callers("mox_commands"):
        guarded = _PluginSubparsers(subparsers, plugin, owners)
        ok, _ = plugins.call_isolated(plugin, "mox_commands",
                                      functools.partial(call, subparsers=guarded))
        if not ok:
            guarded.withdraw()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mox", description="mox: MoXing-style training on TensorFlow, extended by plugins."
    )
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def set_framework_flags(arguments: list[str]) -> None:
    """Set the framework's run flags given as ``--name=value``, or ``--name`` / ``--noname``
    for booleans, as absl parses them; anything else is an error naming it."""
    from mox_core import flags

    flags.define_flags()
    for argument in arguments:
        if not argument.startswith("--"):
            raise ValueError(f"unexpected argument {argument!r}: framework flags are written "
                             f"--name=value (`mox flags` lists them)")
        name = argument[2:].split("=", 1)[0]
        if name not in flags.FLAGS and name.startswith("no") and name[2:] in flags.FLAGS:
            name = name[2:]
        flags.find_flag(name)  # an unknown name is an error listing the closest flags
    try:
        flags.FLAGS(["mox", *arguments])
    except flags.absl_flags.Error as exc:
        raise ValueError(f"bad framework flag: {exc}") from None


def _error_line(exc: Exception) -> str:
    """What ``mox: error: `` is followed by: a data error names its file and spells the skip
    option as the command line does; any other error is its message."""
    errors = sys.modules.get("mox_core.errors")  # loaded (with TensorFlow) by what raised one
    if errors is not None and isinstance(exc, errors.DataError):
        return exc.describe(errors.cli_spelling)
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if extra and not getattr(args, "framework_flags", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if getattr(args, "framework_flags", False):
            set_framework_flags(extra)
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"mox: error: {_error_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mox flags | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
