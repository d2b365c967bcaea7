"""``mox launch``: the ps and worker processes of a cluster on this machine
(``mox_core.launch`` does the work, and ``python -m mox_core.launch`` parses the same
arguments)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_launch(args: argparse.Namespace) -> int:
    from mox_core.launch import launch  # mox_core.launch builds its parser with register()

    command = list(args.cmd)
    if command[:1] == ["--"]:
        command = command[1:]
    return launch(command, args.ps, args.workers, args.host,
                  share_network=args.share_network)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``launch`` to the ``mox`` subparsers."""
    parser = subparsers.add_parser(
        "launch", help="start the ps and worker processes of a cluster on this machine",
        description="Start NUM_PS ps tasks and NUM_WORKERS workers of COMMAND on free local "
                    "ports, each with --job_name, --task_index, --ps_hosts and --worker_hosts "
                    "appended. Output lines are prefixed with the task; the exit code is the "
                    "first failure's; the ps tasks are stopped when the workers finish.")
    parser.add_argument("--ps", type=int, default=1, metavar="NUM_PS",
                        help="parameter server tasks (default 1; 0 keeps the variables on "
                             "worker 0)")
    parser.add_argument("--workers", type=int, default=2, metavar="NUM_WORKERS",
                        help="worker tasks (default 2)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the tasks' cluster flags name (default 127.0.0.1). "
                             "TensorFlow's servers listen on every interface whatever it is: "
                             "a loopback host runs them in a private network namespace where "
                             "the OS allows it; any other host shares this machine's network")
    parser.add_argument("--share-network", action="store_true",
                        help="run the tasks in this machine's network instead of a private, "
                             "loopback-only one (for scripts that reach other hosts, e.g. "
                             "object storage): their unauthenticated ports are then reachable "
                             "from other hosts")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                        help="the training command, e.g. -- python train.py --flag=value")
    parser.set_defaults(func=cmd_launch)
    return parser
