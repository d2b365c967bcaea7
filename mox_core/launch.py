"""``mox launch``: start every process of a ps/worker cluster on this machine.

    mox launch --ps 1 --workers 2 -- python train.py --data_url=... --train_url=...

Picks free loopback ports, starts each ps and worker task as the given command with
``--job_name``, ``--task_index``, ``--ps_hosts`` and ``--worker_hosts`` appended, prefixes each
output line with the task (``[worker1] ...``), stops the ps tasks once every worker has
finished, and on a failure (or Ctrl-C) stops the other tasks. The exit code is the first
failure's (128 + N for a task killed by signal N), 0 when every worker succeeded.

Useful for trying a distributed script on one machine; on several machines start each task
by hand with the same flags (see docs/distributed.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

#: Seconds a task gets to exit after SIGTERM before it is killed.
GRACE_SECONDS = 5.0


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((host, 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def task_commands(command: Sequence[str], num_ps: int, num_workers: int,
                  host: str = "127.0.0.1") -> list[tuple[str, list[str]]]:
    """``[(name, argv), ...]`` for every task: ps tasks first, then the workers."""
    if num_ps < 0:
        raise ValueError(f"mox launch --ps must be >= 0, got {num_ps}")
    if num_workers < 1:
        raise ValueError(f"mox launch --workers must be >= 1, got {num_workers}")
    if not command:
        raise ValueError("mox launch needs the command to start after '--', e.g. "
                         "mox launch --ps 1 --workers 2 -- python train.py")
    ports = free_ports(num_ps + num_workers, host)
    ps_hosts = ",".join(f"{host}:{port}" for port in ports[:num_ps])
    worker_hosts = ",".join(f"{host}:{port}" for port in ports[num_ps:])
    cluster = [f"--ps_hosts={ps_hosts}", f"--worker_hosts={worker_hosts}"]
    tasks = []
    for job, count in (("ps", num_ps), ("worker", num_workers)):
        for index in range(count):
            tasks.append((f"{job}{index}", [*command, f"--job_name={job}",
                                            f"--task_index={index}", *cluster]))
    return tasks


class _Task:
    def __init__(self, name: str, argv: list[str], out, lock: threading.Lock) -> None:
        self.name = name
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            # own process group: Ctrl-C reaches the launcher only, which then stops the group
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        except OSError as exc:
            raise ValueError(f"mox launch cannot start {argv[0]!r} for {name}: "
                             f"{exc.strerror}") from None
        self._reader = threading.Thread(target=self._copy, args=(out, lock), daemon=True)
        self._reader.start()

    def _copy(self, out, lock: threading.Lock) -> None:
        prefix = f"[{self.name}] ".encode()
        for line in iter(self.process.stdout.readline, b""):
            with lock:
                out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
                out.flush()

    @property
    def exit_code(self) -> int | None:
        code = self.process.poll()
        if code is None:
            return None
        return 128 - code if code < 0 else code  # killed by signal N -> 128 + N

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        self.process.wait()
        self._reader.join(5)


def _stop_all(tasks: list[_Task]) -> None:
    for task in tasks:
        task.stop()
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and any(t.process.poll() is None for t in tasks):
        time.sleep(0.05)
    for task in tasks:
        task.kill()
    for task in tasks:
        task.close()


def launch(command: Sequence[str], num_ps: int = 1, num_workers: int = 2,
           host: str = "127.0.0.1", out=None) -> int:
    """Run the cluster to its end; return the exit code (see the module docs)."""
    out = out if out is not None else sys.stdout.buffer
    lock = threading.Lock()
    plan = task_commands(command, num_ps, num_workers, host)
    with lock:
        out.write(f"[launch] {num_ps} ps + {num_workers} worker(s): "
                  f"{plan[-1][1][-2]} {plan[-1][1][-1]}\n".encode())
        out.flush()
    tasks: list[_Task] = []
    first_failure: tuple[str, int] | None = None
    # Ctrl-C / SIGTERM set a flag the loop reads: a KeyboardInterrupt raised at an arbitrary
    # point could leave a Popen's internal lock held and hang the clean-up's wait().
    interrupted = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, lambda *_: interrupted.set())
    try:
        for name, argv in plan:
            if interrupted.is_set():
                break
            tasks.append(_Task(name, argv, out, lock))
        workers = [t for t in tasks if t.name.startswith("worker")]
        while not interrupted.is_set():
            for task in tasks:
                code = task.exit_code
                if code and first_failure is None:
                    first_failure = (task.name, code)
                elif code == 0 and task not in workers and first_failure is None:
                    first_failure = (task.name, 1)  # a ps must serve until stopped
            if first_failure is not None or all(t.exit_code == 0 for t in workers):
                break
            interrupted.wait(0.1)
        if interrupted.is_set():
            first_failure = first_failure or ("launch (interrupted)", 130)
    finally:
        _stop_all(tasks)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if first_failure is None:
        message = "every worker finished; ps task(s) stopped"
        code = 0
    else:
        name, code = first_failure
        message = f"{name} failed with exit code {code}; stopped the other tasks"
    with lock:
        out.write(f"[launch] {message}\n".encode())
        out.flush()
    return code


def cmd_launch(args: argparse.Namespace) -> int:
    command = list(args.cmd)
    if command[:1] == ["--"]:
        command = command[1:]
    return launch(command, args.ps, args.workers, args.host)


def register(subparsers) -> argparse.ArgumentParser:
    """Register ``launch`` on the ``mox`` command's subparsers."""
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
                        help="address the tasks listen on (default 127.0.0.1)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                        help="the training command, e.g. -- python train.py --flag=value")
    parser.set_defaults(func=cmd_launch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mox_core.launch ...``: the same as ``mox launch ...``."""
    parser = argparse.ArgumentParser(prog="mox")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["launch", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"mox: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
