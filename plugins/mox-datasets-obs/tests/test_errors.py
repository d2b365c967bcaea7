"""Refusals and failures: clear messages naming bucket and key, and never a credential."""

from __future__ import annotations

import logging
import traceback

import pytest

import moxing as mox
from mox_core.file import (
    MoxFileNotExistsException,
    MoxFilePermissionException,
    MoxFileReadException,
)


def _everything_said(error: BaseException, caplog) -> str:
    return "".join(traceback.format_exception(error)) + caplog.text + repr(error.__dict__)


def test_a_missing_key_names_bucket_and_key(bucket):
    with pytest.raises(MoxFileNotExistsException) as caught:
        mox.file.read(f"obs://{bucket}/no/such.txt")
    assert f"bucket {bucket!r}" in str(caught.value) and "'no/such.txt'" in str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.resp["status"] == 404


def test_a_missing_bucket_is_named(obs_env):
    with pytest.raises(MoxFileNotExistsException, match="bucket 'mox-never-made' does not exist"):
        mox.file.read("obs://mox-never-made/a.txt")
    assert not mox.file.exists("obs://mox-never-made/a.txt")


def test_a_wrong_secret_is_refused_and_never_shown(obs_env, bucket, caplog, monkeypatch):
    mox.file.write(f"obs://{bucket}/a.txt", "a")
    wrong = "Wr0ng-but-still-secret-Value"
    monkeypatch.setenv("SECRET_ACCESS_KEY", wrong)
    mox.file.set_auth(sk=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MoxFilePermissionException) as caught:
        mox.file.read(f"obs://{bucket}/a.txt")
    said = _everything_said(caught.value, caplog)
    assert "403" in said and f"bucket {bucket!r}, key 'a.txt'" in str(caught.value)
    assert wrong not in said and obs_env.secret not in said and "Signature=" not in said
    assert isinstance(caught.value, PermissionError)


def test_set_auth_gives_credentials_without_the_environment(obs_env, monkeypatch):
    bucket_name = "mox-set-auth-bucket"
    from conftest import make_bucket

    make_bucket(obs_env, bucket_name)
    for name in ("S3_ENDPOINT", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    from seaweed import ACCESS_KEY

    mox.file.set_auth(ak=ACCESS_KEY, sk=obs_env.secret, server=obs_env.endpoint)
    mox.file.write(f"s3://{bucket_name}/x", "x")
    assert mox.file.read(f"obs://{bucket_name}/x") == "x"


def test_an_unreachable_server_is_retried_then_named(obs_env, caplog):
    from seaweed import free_port_pairs

    (port,) = free_port_pairs(1)
    mox.file.set_auth(server=f"http://127.0.0.1:{port}", retry=2, retry_wait=0.01)
    with pytest.raises(MoxFileReadException) as caught:
        mox.file.read("obs://some-bucket/some/key.bin")
    text = str(caught.value)
    assert "bucket 'some-bucket', key 'some/key.bin'" in text and "3 attempts" in text
    assert f"127.0.0.1:{port}" in text
    assert caplog.text.count("retry") == 2
    assert obs_env.secret not in _everything_said(caught.value, caplog)
