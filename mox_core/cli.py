"""The ``mox`` command: what is installed (``plugins``, ``nets``, ``flags``), dataset conversion
(``convert``), and jobs (``train``, ``eval``, ``predict``, ``export``, ``demo``).

Every listing reads the registries only: no network module is imported and TensorFlow is not
loaded. ``--json`` prints the same facts for machines. The job commands live in their own
modules (``COMMAND_MODULES``), each with a ``register(subparsers)``; commands that set
``framework_flags=True`` take the framework's run flags as ``--flag=value``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from typing import Any

from mox_core import plugins

#: modules adding subcommands through ``register(subparsers)``, imported when the parser is built
COMMAND_MODULES = ("mox_core.commands.jobs", "mox_core.commands.port", "mox_core.demo",
                   "mox_core.launch")


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _plugins_data() -> list[dict[str, Any]]:
    data = []
    for info in plugins.plugin_infos():
        registered = plugins.registered_by(info.distribution) if info.loaded else {}
        data.append(
            {
                "name": info.name,
                "module": info.module,
                "distribution": info.distribution,
                "version": info.version,
                "loaded": info.loaded,
                "error": info.error,
                "registered": registered,
            }
        )
    # several built-in modules share one distribution: report what it registered once.
    merged: dict[str, dict[str, Any]] = {}
    for entry in data:
        key = entry["distribution"] if entry["distribution"] == plugins.CORE_DISTRIBUTION else (
            f"{entry['distribution']}:{entry['name']}"
        )
        if key in merged:
            merged[key]["modules"].append(entry["module"])
            continue
        entry["modules"] = [entry.pop("module")]
        merged[key] = entry
    return list(merged.values())


def cmd_plugins(args: argparse.Namespace) -> int:
    data = _plugins_data()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for entry in data:
        status = "" if entry["loaded"] else "  [FAILED TO LOAD]"
        print(f"{entry['distribution']} {entry['version']}  ({', '.join(entry['modules'])}){status}")
        if entry["error"]:
            print(f"    error: {entry['error']}")
        elif not entry["registered"]:
            print("    registers nothing")
        for kind, names in entry["registered"].items():
            print(f"    {kind}: {', '.join(names)}")
    return 0


def cmd_nets(args: argparse.Namespace) -> int:
    networks = plugins.registry("networks")
    names = networks.names(args.pattern)
    records = [networks.get(name) for name in names]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": rec.name,
                        "distribution": rec.distribution,
                        "default_image_size": rec.default_image_size,
                        "default_labels_offset": rec.default_labels_offset,
                        "default_logits_pattern": rec.default_logits_pattern,
                        "preprocessing": rec.preprocessing,
                        "description": rec.description,
                    }
                    for rec in records
                ],
                indent=2,
            )
        )
        return 0
    if not records:
        if args.pattern and not any(ch in args.pattern for ch in "*?["):
            print(networks.unknown_message(args.pattern))  # names the plugin to install
            return 1
        what = f"matching {args.pattern!r} " if args.pattern else ""
        print(f"no network {what}is installed (pip install mox-nets-classic mox-nets-mobile)")
        return 1 if args.pattern else 0
    rows = [
        [rec.name, str(rec.default_image_size), str(rec.default_labels_offset),
         rec.preprocessing or "", rec.distribution]
        for rec in records
    ]
    _print_table(rows, ["NAME", "SIZE", "OFFSET", "PREPROCESSING", "DISTRIBUTION"])
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
    from mox_core import flags

    specs = flags.flag_specs()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": spec.name,
                        "type": spec.type,
                        "default": spec.default,
                        "value": flags.get_flag(spec.name),
                        "help": spec.help,
                        "distribution": spec.distribution,
                    }
                    for spec in specs
                ],
                indent=2,
            )
        )
        return 0
    for spec in specs:
        value = flags.get_flag(spec.name)
        shown = f"default {spec.default!r}" + ("" if value == spec.default else f", now {value!r}")
        print(f"--{spec.name} ({spec.type}, {shown})  [{spec.distribution}]")
        print(f"    {spec.help}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from mox_core.datasets.convert import convert_to_tfrecord

    counts = convert_to_tfrecord(
        args.src, args.dst, num_shards=args.shards,
        validation_fraction=args.validation_fraction, name=args.name, seed=args.seed,
        skip_corrupt=args.skip_corrupt, overwrite=args.overwrite, progress=not args.quiet,
        follow_symlinks=args.follow_symlinks,
    )
    print(", ".join(f"{split}: {n} records" for split, n in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mox", description="mox: MoXing-style training on TensorFlow, extended by plugins."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plugins", help="list plugins, their versions and what they register")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("nets", help="list installed networks")
    p.add_argument("pattern", nargs="?", default=None, help="shell-style pattern, e.g. 'resnet*'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_nets)

    p = sub.add_parser("flags", help="list the run flags with types, defaults and help")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_flags)

    p = sub.add_parser(
        "convert", help="convert a folder of class folders to sharded TFRecords (TF-Slim format)"
    )
    p.add_argument("src", help="dataset folder: one sub-folder of images per class")
    p.add_argument("dst", help="output folder for the .tfrecord shards and labels.txt")
    p.add_argument("--shards", type=int, default=None,
                   help="shards per split (default: about 100 MB of images per shard)")
    p.add_argument("--validation-fraction", type=float, default=0.0,
                   help="fraction of the images put in the 'validation' split (default 0)")
    p.add_argument("--name", default=None,
                   help="file name prefix, e.g. 'flowers' (default: SRC's folder name)")
    p.add_argument("--seed", type=int, default=0, help="shuffling seed (default 0)")
    p.add_argument("--skip-corrupt", action="store_true",
                   help="leave out unreadable or corrupt images with a warning")
    p.add_argument("--overwrite", action="store_true", help="replace existing shards")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="also convert files and class folders that symbolic links in SRC lead "
                        "to outside SRC (left out with a warning by default: an archive from "
                        "someone else could link your private files into the shards)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_convert)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
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


def _named_data_error(exc: Exception) -> str | None:
    """The words of a TensorFlow error that mox's input pipeline raised naming a bad file (its
    message starts ``mox: ``), spelled for the command line; ``None`` for any other error."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(exc, tf.errors.OpError):
        return None
    found = re.search(r"mox: (.*?)(?:\]?\n|\]?$)", exc.message)
    if found is None:
        return None
    return found.group(1).replace("pass skip_corrupt=True", "pass --skip-corrupt")


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
        print(f"mox: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        message = _named_data_error(exc)
        if message is None:
            raise
        print(f"mox: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mox flags | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
