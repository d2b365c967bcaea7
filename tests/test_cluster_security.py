"""The cluster's open ports are said, and ``mox launch`` keeps them off other hosts.

TensorFlow's gRPC servers run any graph op for anyone who connects, on every interface. Each
task says so when its server starts; ``mox launch`` runs its tasks in a private network
namespace where the OS allows it (checked here by connecting from the test's own network
namespace, which is the host's), and otherwise says plainly that their ports are open. These
tests pass both where namespaces work (root, or users allowed user namespaces) and where the
OS refuses them, but they demand the namespace where the process could certainly create one
(CAP_SYS_ADMIN, as CI's root has).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mox_core import launch

TRAIN_SCRIPT = Path(__file__).with_name("distributed_train_script.py")

# A stand-in for a training task: listens on its port on every interface, as TensorFlow's
# server does; the worker connects to the ps over loopback, says so, and waits for the test.
TASK = """
import socket, sys, time
from pathlib import Path
flags = dict(arg.lstrip("-").split("=", 1) for arg in sys.argv[1:])
hosts = flags[flags["job_name"] + "_hosts"].split(",")
port = int(hosts[int(flags["task_index"])].rpartition(":")[2])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", port))
server.listen()
if flags["job_name"] == "ps":
    time.sleep(600)
ps_port = int(flags["ps_hosts"].rpartition(":")[2])
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", ps_port), timeout=2).close()
        print("reached the ps over loopback", flush=True)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(5)
deadline = time.monotonic() + 120
while not Path(flags["done"]).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
"""

PRIVATE = ("[launch] the tasks run in a private network namespace: they reach each other over "
           "loopback, other hosts cannot reach their ports")


def must_isolate() -> bool:
    """Whether this process can certainly create a network namespace: Linux, nsenter, and
    CAP_SYS_ADMIN (bit 21 of the effective capabilities), as root has outside a restricted
    container. Elsewhere the launcher may fall back, and must then say so."""
    if not sys.platform.startswith("linux") or shutil.which("nsenter") is None:
        return False
    status = Path("/proc/self/status").read_text()
    caps = int(re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return bool(caps & (1 << 21))


def reachable(port: int) -> bool:
    """Whether ``127.0.0.1:port`` accepts a connection from this (the host's) network."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mox_core.launch", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


def read_until(process: subprocess.Popen, pattern: str, seen: list[str]) -> re.Match:
    """Read the launcher's output into ``seen`` up to a line matching ``pattern``."""
    for line in process.stdout:
        seen.append(line.rstrip("\n"))
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"the launcher ended before {pattern!r}:\n" + "\n".join(seen))


def ports_of(seen: list[str]) -> list[int]:
    first = next(line for line in seen if line.startswith("[launch] 1 ps"))
    return [int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", first)]


@pytest.mark.parametrize("share", [False, True], ids=["private", "share-network"])
def test_launched_tasks_are_unreachable_from_the_host_or_the_launcher_says_so(tmp_path, share):
    done = tmp_path / "done"
    script = tmp_path / "task.py"
    script.write_text(textwrap.dedent(TASK))
    argv = ["--ps", "1", "--workers", "1", *(["--share-network"] if share else []), "--",
            sys.executable, str(script), f"--done={done}"]
    process = start(argv)
    seen: list[str] = []
    try:
        read_until(process, r"^\[worker0\] reached the ps over loopback", seen)
        ports = ports_of(seen)
        open_ports = [port for port in ports if reachable(port)]
        done.touch()
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, "\n".join(seen) + rest
    network_lines = [line for line in seen if line.startswith("[launch] ") and "network" in line]
    assert len(network_lines) == 1, seen  # said once
    if not share and network_lines[0].startswith(PRIVATE):
        assert open_ports == []  # the tasks talked over loopback, but nothing here reaches them
        return
    assert not must_isolate() or share, f"no namespace although this process may create one: " \
                                        f"{network_lines[0]}"
    reason = "--share-network" if share else "the OS refused a private network namespace: "
    assert network_lines[0].startswith(
        f"[launch] WARNING: the tasks run in this machine's network ({reason}")
    assert network_lines[0].endswith(
        f"their unauthenticated TensorFlow servers listen on every interface, so other hosts "
        f"can reach ports {ports[0]}, {ports[1]}; run only on a trusted, firewalled network "
        f"(docs/distributed.md#security)")
    assert open_ports == ports


@pytest.mark.slow
def test_each_real_task_says_what_its_server_exposes_and_the_host_cannot_reach_it(tmp_path):
    process = start(["--ps", "1", "--workers", "1", "--", sys.executable, str(TRAIN_SCRIPT),
                     "--steps=30", "--pace=0.2", "--sync_replicas=false",
                     f"--train_url={tmp_path / 'logs'}"])
    seen: list[str] = []
    try:
        read_until(process, r"^\[worker0\] INFO:tensorflow:step: 1\b", seen)  # training now
        ports = ports_of(seen)
        open_ports = [port for port in ports if reachable(port)]
        rest = process.communicate(timeout=300)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    output = "\n".join(seen) + "\n" + rest
    assert process.returncode == 0, output[-3000:]
    private = PRIVATE in output
    assert private or not must_isolate(), output[-3000:]
    assert open_ports == ([] if private else ports)
    for job, port in (("ps", ports[0]), ("worker", ports[1])):
        what = (f"mox: the {job} task 0 serves TensorFlow's unauthenticated gRPC runtime on "
                f"{f'port {port} of the private network namespace' if private else 'every interface, port'}")
        lines = [line for line in output.splitlines()
                 if line.startswith(f"[{job}0] ") and what in line]
        assert len(lines) == 1, output[-3000:]


def test_the_startup_line_outside_mox_launch_warns_and_names_the_port(monkeypatch):
    from mox_core.executor.cluster import Cluster
    from mox_core.executor.distributed import exposure_notice

    monkeypatch.delenv(launch.LAUNCH_NETWORK_VARIABLE, raising=False)
    cluster = Cluster(("h0:2222",), ("h1:2222", "h2:2223"), "ps", 0, "flags")
    assert exposure_notice(cluster) == (
        "mox: the ps task 0 serves TensorFlow's unauthenticated gRPC runtime on every interface, "
        "port 2222; run clusters only on a trusted, firewalled network "
        "(docs/distributed.md#security)")


def test_help_tells_where_the_tasks_listen(capsys):
    with pytest.raises(SystemExit):
        launch.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("TensorFlow's servers listen on every interface whatever it is: a loopback host runs "
            "them in a private network namespace where the OS allows it") in text
    assert "--share-network" in text and "reachable from other hosts" in text
    assert "address the tasks listen on" not in text
