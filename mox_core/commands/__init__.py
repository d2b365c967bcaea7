"""The ``mox`` subcommands that run jobs: ``train``, ``eval``, ``predict``, ``export`` (``jobs``)
and ``demo`` (``mox_core.demo``).

Each command module has ``register(subparsers)``, which adds its subparsers with
``set_defaults(func=..., framework_flags=True)`` when the command takes the framework's
``--flag=value`` run flags. ``mox_core.cli.build_parser`` calls every ``register`` in
``COMMAND_MODULES``: a new command is one module with a ``register`` and one line there.
"""
