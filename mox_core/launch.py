"""``mox launch``: start every process of a ps/worker cluster on this machine.

    mox launch --ps 1 --workers 2 -- python train.py --data_url=... --train_url=...

Picks free loopback ports, starts each ps and worker task as the given command with
``--job_name``, ``--task_index``, ``--ps_hosts`` and ``--worker_hosts`` appended, prefixes each
output line with the task (``[worker1] ...``), stops the ps tasks once every worker has
finished, and on a failure (or Ctrl-C) stops the other tasks. The exit code is the first
failure's (128 + N for a task killed by signal N), 0 when every worker succeeded.

Useful for trying a distributed script on one machine; on several machines start each task
by hand with the same flags (see docs/distributed.md).

TensorFlow's gRPC servers accept unauthenticated connections that run any graph op, and they
listen on every interface whatever host the cluster spec names. So on Linux the tasks run in a
private network namespace holding only loopback: they reach each other on 127.0.0.1 and no
other host reaches them (nor do they reach other hosts: ``--share-network`` keeps this
machine's network for scripts that need it). Where the OS refuses a namespace (user namespaces
disabled, a container without the capability, not Linux) the launcher says so once, with the
ports other hosts can then reach.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from mox_core.commands import launch as launch_command

#: Set to ``private`` in the environment of tasks run in a private network namespace, so that
#: their start-up line says where their server is reachable (mox_core.executor.distributed).
LAUNCH_NETWORK_VARIABLE = "MOX_LAUNCH_NETWORK"

#: Seconds a task gets to exit after SIGTERM before it is killed.
GRACE_SECONDS = 5.0

#: Run by a fresh interpreter: it leaves the host's network for a new namespace, brings up its
#: loopback, prints ``ready net`` (or ``ready user``, when it needed a user namespace too, as an
#: unprivileged user does) and holds the namespace open until its stdin closes. A separate,
#: single-threaded process because ``unshare(CLONE_NEWUSER)`` refuses a threaded caller (the
#: launcher has its output threads) and the launcher itself must stay in the host's network.
_HOLDER = r"""
import ctypes, errno, fcntl, os, socket, struct, sys
NEWUSER, NEWNET = 0x10000000, 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
def unshare(flags):
    if libc.unshare(flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
uid, gid = os.geteuid(), os.getegid()
step = "unshare(CLONE_NEWNET)"
try:
    try:
        unshare(NEWNET)
        kind = "net"
    except PermissionError:
        step, kind = "unshare(CLONE_NEWUSER | CLONE_NEWNET)", "user"
        unshare(NEWUSER | NEWNET)
        for name, text in (("uid_map", f"{uid} {uid} 1"), ("setgroups", "deny"),
                           ("gid_map", f"{gid} {gid} 1")):
            step = f"writing /proc/self/{name}"
            with open(f"/proc/self/{name}", "w") as out:
                out.write(text + "\n")
    step = "bringing up the loopback interface"
    with socket.socket() as probe:
        flags = struct.unpack("16sH", fcntl.ioctl(probe, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(probe, 0x8914, struct.pack("16sH", b"lo", flags | 1))
except OSError as exc:
    hint = {errno.ENOSPC: " (a limit in /proc/sys/user/max_*_namespaces is 0 or reached)",
            errno.EPERM: " (user namespaces disabled, or a container without the capability)",
            }.get(exc.errno, "")
    print("failed", f"{step}: {exc.strerror or exc}{hint}", flush=True)
    sys.exit(1)
print("ready", kind, flush=True)
sys.stdin.read()
"""


class PrivateNetwork:
    """A Linux network namespace with only loopback, shared by every task of one launch.

    A small holder process creates it and keeps it open; each task enters it through
    ``nsenter`` (which ``exec``s the task, so its pid stays the one the launcher signals).
    Unprivileged users get it inside a user namespace mapping only their own uid and gid, so
    the tasks keep their identity and their files' ownership.
    """

    def __init__(self) -> None:
        self.holder: subprocess.Popen | None = None
        self.prefix: list[str] = []
        self.refusal = self._open()

    def _open(self) -> str:
        """Start the holder; return why there is no namespace ('' when there is one)."""
        if not sys.platform.startswith("linux"):
            return f"network namespaces are Linux-only (this is {sys.platform})"
        nsenter = shutil.which("nsenter")
        if nsenter is None:
            return "nsenter (util-linux) is not installed"
        try:
            self.holder = subprocess.Popen([sys.executable, "-c", _HOLDER],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True,
                                           start_new_session=True)
        except OSError as exc:
            return f"cannot start {sys.executable}: {exc.strerror}"
        answer = self.holder.stdout.readline().split(maxsplit=1)
        if answer[:1] != ["ready"]:
            self.holder.stdin.close()
            said = [" ".join(answer), *self.holder.stdout.read().splitlines()]
            self.holder.wait()
            self.holder.stdout.close()
            self.holder = None
            # "failed <reason>" from the holder, or the last line of its traceback
            reason = next((line.strip() for line in reversed(said) if line.strip()),
                          "the holder process said nothing")
            return f"the OS refused a private network namespace: {reason.removeprefix('failed ')}"
        ns = f"/proc/{self.holder.pid}/ns"
        if answer[1].strip() == "user":
            self.prefix = [nsenter, f"--user={ns}/user", f"--net={ns}/net",
                           "--preserve-credentials", "--"]
        else:
            self.prefix = [nsenter, f"--net={ns}/net", "--"]
        return ""

    def close(self) -> None:
        """End the holder; tasks inside keep the namespace alive until they exit."""
        if self.holder is not None:
            self.holder.stdin.close()
            try:
                self.holder.wait(5)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait()
            self.holder.stdout.close()
            self.holder = None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback (only then can a namespace serve it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    def __init__(self, name: str, argv: list[str], out, lock: threading.Lock,
                 network: PrivateNetwork | None = None) -> None:
        self.name = name
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if network is not None:
            # nsenter would start, then fail to exec: check the command here, as Popen would
            if shutil.which(argv[0]) is None:
                raise ValueError(f"mox launch cannot start {argv[0]!r} for {name}: not found "
                                 f"or not executable")
            argv = [*network.prefix, *argv]
            env[LAUNCH_NETWORK_VARIABLE] = "private"
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


def _network_line(network: PrivateNetwork | None, refusal: str, ports: list[int]) -> str:
    if network is not None:
        return ("[launch] the tasks run in a private network namespace: they reach each other "
                "over loopback, other hosts cannot reach their ports, and they cannot reach "
                "other hosts (--share-network if the script needs the network)")
    return (f"[launch] WARNING: the tasks run in this machine's network ({refusal}): their "
            f"unauthenticated TensorFlow servers listen on every interface, so other hosts can "
            f"reach ports {', '.join(map(str, ports))}; run only on a trusted, firewalled "
            f"network (docs/distributed.md#security)")


def launch(command: Sequence[str], num_ps: int = 1, num_workers: int = 2,
           host: str = "127.0.0.1", out=None, share_network: bool = False) -> int:
    """Run the cluster to its end; return the exit code (see the module docs)."""
    out = out if out is not None else sys.stdout.buffer
    lock = threading.Lock()
    plan = task_commands(command, num_ps, num_workers, host)
    network: PrivateNetwork | None = None
    if share_network:
        refusal = "--share-network"
    elif not is_loopback(host):
        refusal = f"--host {host} is not a loopback address"
    else:
        network = PrivateNetwork()
        refusal = network.refusal
        if refusal:
            network = None
    ports = [int(address.rpartition(":")[2]) for flag in plan[-1][1][-2:]
             for address in flag.partition("=")[2].split(",") if address]
    with lock:
        out.write(f"[launch] {num_ps} ps + {num_workers} worker(s): "
                  f"{plan[-1][1][-2]} {plan[-1][1][-1]}\n".encode())
        out.write(f"{_network_line(network, refusal, ports)}\n".encode())
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
            tasks.append(_Task(name, argv, out, lock, network))
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
        if network is not None:
            network.close()
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mox_core.launch ...``: the same as ``mox launch ...``."""
    parser = argparse.ArgumentParser(prog="mox")
    launch_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["launch", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"mox: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
