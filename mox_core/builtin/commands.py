"""Every ``mox`` subcommand of the core, added through the public ``mox_commands`` hook.

The core's commands come from the same hook as a plugin's, as datasette's default plugins do:
one way to add a command, and since this module is called first, a plugin's command cannot
take a core command's name. Each command module (``mox_core.commands``) has a
``register(subparsers)`` and loads TensorFlow only when its command runs, so ``mox --help`` and
the listings stay quick.
"""

from __future__ import annotations

from typing import Any

from mox_core.commands import (
    convert,
    demo,
    evaluate,
    export,
    launch,
    listings,
    plugin_template,
    port,
    predict,
    train,
)
from mox_core.hookspecs import hookimpl


@hookimpl
def mox_commands(subparsers: Any) -> None:
    listings.register(subparsers)  # plugins, nets, flags
    for command in (convert, train, evaluate, predict, export, port, demo, launch,
                    plugin_template):
        command.register(subparsers)
