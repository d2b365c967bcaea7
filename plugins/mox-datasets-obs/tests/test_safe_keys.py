"""Object keys that name parent folders never make ``mox.file`` write outside the destination.

S3 and OBS store any key as it is: ``data/../../escape.txt`` and ``data//etc/x`` are legal and
a bucket that others can write to may hold them. SeaweedFS, the real server of these tests,
refuses keys with ``..`` or ``.`` segments (400 InvalidRequest) and stores ``data//etc/x`` as
``data/etc/x`` -- ``test_seaweedfs_refuses_the_hostile_keys`` pins that down -- so the hostile
listings come from :class:`KeyServer`: a minimal S3 endpoint on 127.0.0.1 that serves
ListObjects, HEAD and GET for exact keys, as AWS S3 and OBS do, and records every request.
The copies themselves run through the real client stack (the OBS SDK, signing, retries).
"""

from __future__ import annotations

import email.utils
import logging
import os
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
from conftest import admin_client

import mox_core as mox
from mox_core.datasets.cache import cache_files
from mox_core.file import dispatch
from mox_core.file.errors import MoxFileUnsafePathException

BUCKET = "hostile-bucket"
SAFE = {"data/ok.txt": b"ok", "data/sub/inner.txt": b"inner"}
DOUBLED = {"data//etc/x": b"doubled"}
TRAVERSAL = {
    "data/../../escape.txt": b"escaped 1",
    "data/sub/../../../escape2.txt": b"escaped 2",
    "data/..\\..\\win.txt": b"escaped 3",
    "data/C:/drive.txt": b"escaped 4",
}


class KeyServer:
    """ListObjects (v1, with prefix, marker, max-keys, delimiter), HEAD and GET of exact keys
    in one bucket. Signatures are not checked: the point is the names the client gets back."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)
        self.requests: list[tuple[str, str]] = []  # (method, exact key or "" for the bucket)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _target(self) -> tuple[str | None, dict[str, str]]:
                raw_path, _, query = self.path.partition("?")
                path = urllib.parse.unquote(raw_path)
                params = {k: v[0] for k, v in urllib.parse.parse_qs(
                    query, keep_blank_values=True).items()}
                if path in (f"/{BUCKET}", f"/{BUCKET}/"):
                    return "", params
                if path.startswith(f"/{BUCKET}/"):
                    return path[len(BUCKET) + 2:], params
                return None, params

            def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
                      head: bool = False) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _object(self, head: bool) -> None:
                key, params = self._target()
                server.requests.append((self.command, key or ""))
                if key is None:
                    self._send(404, head=head)
                elif key == "":
                    if head:
                        self._send(200, head=True)
                    else:
                        self._send(200, server.listing(params),
                                   {"Content-Type": "application/xml"})
                elif key in server.objects:
                    data = server.objects[key]
                    headers = {"ETag": '"0"', "Content-Type": "application/octet-stream",
                               "Last-Modified": email.utils.formatdate(usegmt=True)}
                    self._send(200, data, headers, head=head)
                else:
                    body = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                            b"<Message>no such key</Message></Error>")
                    self._send(404, b"" if head else body, {"Content-Type": "application/xml"},
                               head=head)

            def do_HEAD(self):  # noqa: N802 -- http.server's naming
                self._object(head=True)

            def do_GET(self):  # noqa: N802
                self._object(head=False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def listing(self, params: dict[str, str]) -> bytes:
        prefix, marker = params.get("prefix", ""), params.get("marker", "")
        delimiter, max_keys = params.get("delimiter", ""), int(params.get("max-keys", 1000))
        contents, prefixes = [], []
        for key in sorted(self.objects):
            if not key.startswith(prefix) or key <= marker:
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest[:rest.index(delimiter) + len(delimiter)]
                if common not in prefixes and common > marker:
                    prefixes.append(common)
            else:
                contents.append(key)
        items = sorted([(k, False) for k in contents] + [(p, True) for p in prefixes])
        truncated = len(items) > max_keys
        items = items[:max_keys]
        xml = ["<?xml version='1.0' encoding='UTF-8'?>",
               '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
               f"<Name>{BUCKET}</Name><Prefix>{escape(prefix)}</Prefix>",
               f"<Marker>{escape(marker)}</Marker><MaxKeys>{max_keys}</MaxKeys>",
               f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if truncated:
            xml.append(f"<NextMarker>{escape(items[-1][0])}</NextMarker>")
        for name, is_prefix in items:
            if is_prefix:
                xml.append(f"<CommonPrefixes><Prefix>{escape(name)}</Prefix></CommonPrefixes>")
            else:
                xml.append(f"<Contents><Key>{escape(name)}</Key>"
                           f"<LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                           f"<ETag>\"0\"</ETag><Size>{len(self.objects[name])}</Size>"
                           f"<StorageClass>STANDARD</StorageClass></Contents>")
        xml.append("</ListBucketResult>")
        return "".join(xml).encode("utf-8")

    def gets(self) -> set[str]:
        return {key for method, key in self.requests if method == "GET" and key}


@pytest.fixture
def key_server(monkeypatch):
    """The hostile bucket on a loopback S3 endpoint, configured as ``s3://``'s server."""
    instance = KeyServer({**SAFE, **DOUBLED, **TRAVERSAL})
    instance.thread.start()
    monkeypatch.setenv("S3_ENDPOINT", instance.endpoint)
    monkeypatch.setenv("ACCESS_KEY_ID", "LOOPBACKKEY")
    monkeypatch.setenv("SECRET_ACCESS_KEY", "loopback-secret")
    monkeypatch.setenv("S3_VERIFY_SSL", "0")
    dispatch.reset()
    mox.file.set_auth(retry=0)
    yield instance
    instance.httpd.shutdown()
    instance.httpd.server_close()


def files_under(folder) -> dict[str, bytes]:
    """Every file below ``folder`` as relative path -> content."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = open(path, "rb").read()
    return found


@pytest.fixture
def sandbox(tmp_path):
    """``tmp_path/sandbox/a/b/dst`` as the destination: ``..`` twice or three times from it
    stays in ``sandbox``, where the test can see anything that escaped (``tmp_path/home`` is
    the tests' HOME, where TensorFlow writes its own files)."""
    root = tmp_path / "sandbox"
    destination = root / "a" / "b" / "dst"
    destination.parent.mkdir(parents=True)
    return root, destination


def assert_nothing_escaped(root, destination) -> None:
    for key in TRAVERSAL:  # where a naive join would have put each hostile key
        naive = os.path.normpath(os.path.join(str(destination), key[len("data/"):]))
        assert not os.path.exists(naive), naive
    outside = {rel: data for rel, data in files_under(root).items()
               if not os.path.join(str(root), rel).startswith(str(destination) + os.sep)}
    assert outside == {}, f"files written outside {destination}: {sorted(outside)}"


def assert_refused_every_traversal(caught, caplog) -> None:
    refused = set(caught.value.refused)
    assert refused == {key[len("data/"):] for key in TRAVERSAL}
    message = str(caught.value)
    for key in TRAVERSAL:
        assert repr(f"s3://{BUCKET}/{key}") in message
        assert any(repr(f"s3://{BUCKET}/{key}") in r.getMessage()
                   for r in caplog.records if r.levelno == logging.WARNING), key


def assert_safe_part_copied(destination) -> None:
    assert files_under(destination) == {"ok.txt": b"ok", os.path.join("sub", "inner.txt"):
                                        b"inner", os.path.join("etc", "x"): b"doubled"}


def test_copy_parallel_refuses_traversal_keys_and_copies_the_rest(key_server, sandbox, caplog):
    root, destination = sandbox
    with caplog.at_level(logging.WARNING, logger="mox"), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        mox.file.copy_parallel(f"s3://{BUCKET}/data/", str(destination), threads=4)
    assert_refused_every_traversal(caught, caplog)
    assert isinstance(caught.value, mox.file.MoxFileException)
    assert_nothing_escaped(root, destination)
    assert_safe_part_copied(destination)
    # the doubled-slash key was read by its exact name; no hostile key was read at all
    assert "data//etc/x" in key_server.gets()
    assert not key_server.gets() & set(TRAVERSAL)


def test_copy_parallel_during_shutdown_path_refuses_too(key_server, sandbox, caplog):
    """One thread (the path taken in ``atexit`` handlers) applies the same rule."""
    root, destination = sandbox
    with caplog.at_level(logging.WARNING, logger="mox"), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        mox.file.copy_parallel(f"s3://{BUCKET}/data", str(destination), threads=1)
    assert_refused_every_traversal(caught, caplog)
    assert_nothing_escaped(root, destination)
    assert_safe_part_copied(destination)


def test_file_list_entries_with_parent_segments_are_never_read(key_server, sandbox, caplog):
    root, destination = sandbox
    with caplog.at_level(logging.WARNING, logger="mox"), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        mox.file.copy_parallel(f"s3://{BUCKET}/data", str(destination),
                               file_list=["ok.txt", "../../escape.txt", "/etc/x"])
    assert caught.value.refused == ["../../escape.txt"]
    assert files_under(destination) == {"ok.txt": b"ok", os.path.join("etc", "x"): b"doubled"}
    assert_nothing_escaped(root, destination)
    assert key_server.gets() == {"data/ok.txt", "data//etc/x"}


def test_copytree_through_shift_refuses_traversal_keys(key_server, sandbox, caplog):
    root, destination = sandbox
    mox.file.shift("os", "mox")
    try:
        with caplog.at_level(logging.WARNING, logger="mox"), \
                pytest.raises(MoxFileUnsafePathException) as caught:
            shutil.copytree(f"s3://{BUCKET}/data", str(destination))
    finally:
        mox.file.shift("mox", "os")
    assert_refused_every_traversal(caught, caplog)
    assert_nothing_escaped(root, destination)
    assert_safe_part_copied(destination)


def test_rename_of_a_hostile_folder_keeps_the_source(key_server, sandbox):
    """``rename`` to a local folder copies first and removes the source only when the whole
    copy succeeded: with refused keys nothing is removed (no DELETE request is made)."""
    root, destination = sandbox
    with pytest.raises(MoxFileUnsafePathException):
        mox.file.rename(f"s3://{BUCKET}/data", str(destination))
    assert_nothing_escaped(root, destination)
    assert not [r for r in key_server.requests if r[0] in ("DELETE", "POST")]


def test_dataset_cache_refuses_names_that_leave_it(key_server, sandbox, caplog):
    root, destination = sandbox
    relative = ["ok.txt", "../../escape.txt", "sub/../../../escape2.txt", "sub/inner.txt"]
    with caplog.at_level(logging.WARNING), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        cache_files(f"s3://{BUCKET}/data", relative, str(destination), remove_on_finish=False)
    assert caught.value.refused == ["../../escape.txt", "sub/../../../escape2.txt"]
    assert "'../../escape.txt'" in str(caught.value)
    assert any("escape2.txt" in r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING)
    assert_nothing_escaped(root, destination)
    (cache_root,) = os.listdir(destination)
    assert files_under(destination / cache_root) == {
        "ok.txt": b"ok", os.path.join("sub", "inner.txt"): b"inner"}
    assert not key_server.gets() & set(TRAVERSAL)


def test_seaweedfs_refuses_the_hostile_keys(bucket, obs_env, tmp_path):
    """Why the loopback server: the real server of these tests does not store such keys. A
    plain folder copy from it still works unchanged."""
    client = admin_client(obs_env)
    for key in TRAVERSAL:
        if "C:" in key:
            continue
        assert client.putContent(bucket, key, b"x").status == 400, key
    assert client.putContent(bucket, "data//etc/x", b"doubled").status < 300
    assert client.putContent(bucket, "data/ok.txt", b"ok").status < 300
    destination = tmp_path / "dst"
    mox.file.copy_parallel(f"s3://{bucket}/data", str(destination))
    assert files_under(destination) == {"ok.txt": b"ok", os.path.join("etc", "x"): b"doubled"}
