"""Which distributed cluster this process is part of, and its place in it.

The cluster comes, in this order of precedence, from the run flags (``ps_hosts``,
``worker_hosts``, ``job_name``, ``task_index``, which the run configuration reads), from ``TF_CONFIG`` (TensorFlow's JSON
convention), or from the ModelArts environment (``DLS_TASK_INDEX``, ``DLS_TASK_NUMBER``,
``BATCH_CUSTOM<i>_HOSTS``). A host list that does not fit the task index, malformed
``host:port`` entries and unknown jobs are errors at start, never a hang.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})$")


@dataclasses.dataclass(frozen=True)
class Cluster:
    """A ps/worker cluster and this process's role in it."""

    ps: tuple[str, ...]
    workers: tuple[str, ...]
    job_name: str  # 'ps' or 'worker'
    task_index: int
    source: str  # where the description came from, for messages

    @property
    def is_chief(self) -> bool:
        return self.job_name == "worker" and self.task_index == 0

    @property
    def num_workers(self) -> int:
        return len(self.workers)

    def spec(self) -> dict[str, list[str]]:
        jobs = {"worker": list(self.workers)}
        if self.ps:
            jobs["ps"] = list(self.ps)
        return jobs

    @property
    def address(self) -> str:
        hosts = self.ps if self.job_name == "ps" else self.workers
        return hosts[self.task_index]

    @property
    def port(self) -> int:
        """This task's port: TensorFlow's server binds it on every interface, whatever host
        ``address`` names, so the port (not the host) is what other machines can reach."""
        return int(self.address.rpartition(":")[2])


def parse_hosts(text: str, what: str) -> tuple[str, ...]:
    """``'h1:2222,h2:2222'`` -> ``('h1:2222', 'h2:2222')``; ``ValueError`` naming a bad entry."""
    hosts = tuple(part.strip() for part in (text or "").split(",") if part.strip())
    for host in hosts:
        match = _HOST_PORT.match(host)
        if match is None or not 0 < int(match.group(2)) < 65536:
            raise ValueError(f"{what}: {host!r} is not a host:port address (in {text!r})")
    if len(set(hosts)) != len(hosts):
        raise ValueError(f"{what} lists an address twice: {text!r}")
    return hosts


def _check(cluster: Cluster) -> Cluster:
    where = f"(cluster from {cluster.source})"
    if cluster.job_name not in ("ps", "worker"):
        raise ValueError(f"job_name must be 'ps' or 'worker' in a distributed run, got "
                         f"{cluster.job_name!r} {where}")
    if not cluster.workers:
        raise ValueError(f"a distributed run needs at least one worker address {where}")
    hosts = cluster.ps if cluster.job_name == "ps" else cluster.workers
    if not 0 <= cluster.task_index < len(hosts):
        raise ValueError(
            f"task_index {cluster.task_index} does not fit the {len(hosts)} "
            f"{cluster.job_name} address(es) {', '.join(hosts) or '(none)'} {where}"
        )
    overlap = set(cluster.ps) & set(cluster.workers)
    if overlap:
        raise ValueError(f"{', '.join(sorted(overlap))} is both a ps and a worker address "
                         f"{where}")
    return cluster


def _from_flags(ps_hosts: str, worker_hosts: str, job_name: str,
                task_index: int) -> Cluster | None:
    ps = parse_hosts(ps_hosts, "flag ps_hosts")
    workers = parse_hosts(worker_hosts, "flag worker_hosts")
    if not job_name and not ps and len(workers) <= 1:
        return None
    if not job_name:
        raise ValueError("flags ps_hosts / worker_hosts describe a cluster but job_name is "
                         "empty: set --job_name=ps or --job_name=worker")
    return _check(Cluster(ps, workers, job_name, int(task_index), "flags"))


def _from_tf_config() -> Cluster | None:
    text = os.environ.get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
        jobs = config.get("cluster", {})
        task = config.get("task", {})
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"TF_CONFIG is not the JSON TensorFlow expects "
                         f"({{'cluster': {{...}}, 'task': {{'type': ..., 'index': ...}}}}): "
                         f"{exc}") from None
    unknown = set(jobs) - {"ps", "worker", "chief"}
    if unknown:
        raise ValueError(f"TF_CONFIG cluster has job(s) {', '.join(sorted(unknown))}; mox runs "
                         f"ps / worker (/ chief) clusters")
    workers = tuple(jobs.get("chief", [])) + tuple(jobs.get("worker", []))
    kind = task.get("type", "")
    index = int(task.get("index", 0))
    if kind == "chief":
        kind, index = "worker", 0
    elif kind == "worker" and jobs.get("chief"):
        index += len(jobs["chief"])
    ps = tuple(jobs.get("ps", []))
    if len(workers) <= 1 and not ps:
        return None
    for what, hosts in (("TF_CONFIG ps", ps), ("TF_CONFIG worker", workers)):
        parse_hosts(",".join(hosts), what)
    return _check(Cluster(ps, workers, kind, index, "TF_CONFIG"))


def _from_modelarts() -> Cluster | None:
    number = os.environ.get("DLS_TASK_NUMBER")
    if not number:
        return None
    try:
        count = int(number)
        index = int(os.environ.get("DLS_TASK_INDEX", "0"))
    except ValueError:
        raise ValueError(f"DLS_TASK_NUMBER / DLS_TASK_INDEX must be integers, got "
                         f"{number!r} / {os.environ.get('DLS_TASK_INDEX')!r}") from None
    if count <= 1:
        return None
    hosts = []
    for i in range(count):
        value = os.environ.get(f"BATCH_CUSTOM{i}_HOSTS")
        if not value:
            raise ValueError(f"DLS_TASK_NUMBER is {count} but BATCH_CUSTOM{i}_HOSTS is not set")
        hosts.append(value.split(",")[0].strip())
    parse_hosts(",".join(hosts), "BATCH_CUSTOM<i>_HOSTS")
    # ModelArts starts one process per node, all workers: with no ps job, the parameters live
    # on worker 0 (see runner's device placement).
    return _check(Cluster((), tuple(hosts), "worker", index, "the ModelArts environment"))


def current_cluster(*, ps_hosts: str = "", worker_hosts: str = "", job_name: str = "",
                    task_index: int = 0) -> Cluster | None:
    """This process's cluster, or ``None`` for a single-process run: from the values of the
    cluster flags given, else from the environment."""
    return (_from_flags(ps_hosts, worker_hosts, job_name, task_index) or _from_tf_config()
            or _from_modelarts())
