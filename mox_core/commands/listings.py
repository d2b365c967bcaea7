"""``mox plugins``, ``mox nets``, ``mox flags``: what is installed, for people and (``--json``)
for machines.

They read the registries only: no network module is imported and TensorFlow is not loaded,
so they answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from mox_core import flags, plugins


def _print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def plugins_data() -> list[dict[str, Any]]:
    """One entry per plugin (the core's built-in modules merged into one): its distribution,
    version, modules, whether it loaded, the hooks that failed, its other problems (names it
    may not use, functions mox never calls) and what it registered."""
    infos = plugins.plugin_infos()
    # every registry first: their hooks run now, so hook failures are known below
    registered = {info.distribution: plugins.registered_by(info.distribution)
                  for info in infos if info.loaded}
    merged: dict[str, dict[str, Any]] = {}
    for info in infos:
        key = info.distribution if info.distribution == plugins.CORE_DISTRIBUTION else (
            f"{info.distribution}:{info.name}")
        if key in merged:  # several built-in modules share one distribution
            merged[key]["modules"].append(info.module)
            merged[key]["hook_errors"].update(info.hook_errors)
            merged[key]["problems"].extend(info.problems)
            continue
        merged[key] = {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "loaded": info.loaded,
            "error": info.error,
            "hook_errors": dict(info.hook_errors),
            "problems": list(info.problems),
            "registered": registered.get(info.distribution, {}),
            "modules": [info.module],
        }
    return list(merged.values())


def cmd_plugins(args: argparse.Namespace) -> int:
    data = plugins_data()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for entry in data:
        status = ("  [FAILED TO LOAD]" if not entry["loaded"]
                  else "  [HOOK FAILED]" if entry["hook_errors"]
                  else "  [PROBLEM]" if entry["problems"] else "")
        print(f"{entry['distribution']} {entry['version']}  ({', '.join(entry['modules'])}){status}")
        if entry["error"]:
            print(f"    error: {entry['error']}")
        for hook, error in entry["hook_errors"].items():
            print(f"    error in {hook}: {error}")
        for problem in entry["problems"]:
            print(f"    problem: {problem}")
        if entry["loaded"] and not entry["registered"]:
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
                        "recipe": (dataclasses.asdict(rec.recipe) if rec.recipe is not None
                                   else None),
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
    if len(records) == 1:  # one network asked for by name: how mox train trains it
        from mox_core.recipes import GENERIC

        recipe = records[0].recipe or GENERIC
        print(f"\ntraining recipe (mox train's defaults): {recipe.summary()}")
        print(f"  from: {recipe.source or 'the network record'}")
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
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


def register(sub: Any) -> None:
    """Add ``plugins``, ``nets`` and ``flags`` to the ``mox`` subparsers."""
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
