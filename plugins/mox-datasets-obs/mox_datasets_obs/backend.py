"""The ``obs://`` and ``s3://`` backend of ``mox.file``, on the OBS SDK.

Folders are key prefixes: ``obs://b/data`` is a folder when any key starts with ``data/`` or an
empty marker object ``data/`` exists (``make_dirs`` writes one, as OBS Console does). Each
scheme gets its own instance, and so its own settings: ``set_auth`` reaches both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import IO, Any

from mox_core.file.backend import Backend, FileStat
from mox_core.file.errors import (
    MoxFileDirectoryNotEmptyException,
    MoxFileIsDirectoryException,
    MoxFileNotDirectoryException,
    MoxFileNotExistsException,
    MoxFileRespException,
)
from mox_core.file.workers import run_each
from mox_datasets_obs import config, listing
from mox_datasets_obs.client import Connection
from mox_datasets_obs.reader_stream import open_stream
from mox_datasets_obs.urls import ObjectUrl, parse_url

DELETE_BATCH = 1000


class ObsBackend(Backend):
    """``mox.file`` on OBS or any S3-compatible service (``obs://bucket/key``, ``s3://...``)."""

    def __init__(self, scheme: str) -> None:
        super().__init__(scheme)
        self._overrides: dict[str, Any] = {}
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    # -- settings --------------------------------------------------------------------------
    @property
    def connection(self) -> Connection:
        with self._lock:
            if self._connection is None:
                self._connection = Connection(config.resolve(self._overrides))
            return self._connection

    def set_auth(self, **settings: Any) -> None:
        overrides = {**self._overrides, **config.from_set_auth(settings)}
        with self._lock:
            self._overrides = overrides
            if self._connection is not None:
                self._connection.close()
            self._connection = None

    def reload(self) -> None:
        """Forget the client, so the next call reads the environment and config file again."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None

    # -- queries ---------------------------------------------------------------------------
    def _head(self, where: ObjectUrl) -> Any | None:
        """The object's metadata response, or ``None`` when there is no such key."""
        response = self.connection.call(
            "reading metadata of", where,
            lambda client: client.getObjectMetadata(where.bucket, where.key), accept=(404,))
        return None if response.status == 404 else response

    def _bucket_exists(self, where: ObjectUrl) -> bool:
        response = self.connection.call(
            "checking", where.child(""), lambda client: client.headBucket(where.bucket),
            accept=(404,))
        return response.status != 404

    def _has_children(self, where: ObjectUrl) -> bool:
        try:
            for entries, prefixes in listing.pages(self.connection, where, where.dir_prefix,
                                                   "/", limit=1):
                return bool(entries or prefixes)
        except MoxFileNotExistsException:  # no such bucket
            return False
        return False

    def exists(self, url: str) -> bool:
        where = parse_url(url)
        if not where.key:
            return self._bucket_exists(where)
        if not where.key.endswith("/") and self._head(where) is not None:
            return True
        return self._has_children(where)

    def is_directory(self, url: str) -> bool:
        where = parse_url(url)
        if not where.key.strip("/"):
            return self._bucket_exists(where)
        return self._has_children(where)

    def stat(self, url: str) -> FileStat:
        where = parse_url(url)
        if where.key and not where.key.endswith("/"):
            head = self._head(where)
            if head is not None:
                return FileStat(int(head.body.contentLength or 0),
                                listing.parse_time(head.body.lastModified), False)
        if self.is_directory(url):
            return FileStat(0, 0, True)
        raise MoxFileNotExistsException(f"{url} does not exist ({where.where()})", url)

    def _missing_folder(self, url: str, where: ObjectUrl) -> Exception:
        if where.key and self._head(where) is not None:
            return MoxFileNotDirectoryException(f"{url} is a file, not a folder", url)
        if not self._bucket_exists(where):
            return MoxFileNotExistsException(
                f"{url}: bucket {where.bucket!r} does not exist", url)
        return MoxFileNotExistsException(
            f"folder {url} does not exist: no key in bucket {where.bucket!r} starts with "
            f"{where.dir_prefix!r}", url)

    def list_directory(self, url: str, recursive: bool = False) -> list[str]:
        where = parse_url(url)
        prefix = where.dir_prefix
        names: set[str] = set()
        marker_seen = False
        for entries, prefixes in listing.pages(self.connection, where, prefix,
                                               None if recursive else "/"):
            for entry in entries:
                rel = entry.key[len(prefix):]
                if not rel:
                    marker_seen = True
                    continue
                parts = rel.rstrip("/").split("/")
                if recursive:  # every folder on the way is an entry too
                    names.update("/".join(parts[:i]) for i in range(1, len(parts)))
                names.add(rel.rstrip("/"))
            names.update(p[len(prefix):].rstrip("/") for p in prefixes)
        names.discard("")
        if not names and not marker_seen and where.key.strip("/"):
            raise self._missing_folder(url, where)
        return sorted(names)

    def scan(self, url: str) -> tuple[list[str], list[str]]:
        where = parse_url(url)
        prefix = where.dir_prefix
        dirs, files = [], []
        for entries, prefixes in listing.pages(self.connection, where, prefix, "/"):
            for entry in entries:
                rel = entry.key[len(prefix):]
                if rel.endswith("/"):
                    if rel.rstrip("/"):
                        dirs.append(rel.rstrip("/"))
                elif rel:
                    files.append(rel)
            dirs.extend(p[len(prefix):].rstrip("/") for p in prefixes)
        return sorted(set(dirs)), sorted(files)

    def _keys_below(self, where: ObjectUrl) -> Iterator[listing.Entry]:
        for entries, _ in listing.pages(self.connection, where, where.dir_prefix, None):
            yield from entries

    def list_files(self, url: str) -> list[str]:
        where = parse_url(url)
        prefix = where.dir_prefix
        return sorted(e.key[len(prefix):] for e in self._keys_below(where)
                      if not e.key.endswith("/"))

    # -- changes ---------------------------------------------------------------------------
    def _put(self, where: ObjectUrl, content: Any, rewind: Any = None) -> None:
        self.connection.call(
            "writing", where,
            lambda client: client.putContent(where.bucket, where.key, content, autoClose=False),
            rewind=rewind)

    def make_dirs(self, url: str) -> None:
        where = parse_url(url)
        if not where.key.strip("/"):
            if not self._bucket_exists(where):
                raise MoxFileNotExistsException(
                    f"{url}: bucket {where.bucket!r} does not exist (mox.file makes folders, "
                    f"not buckets)", url)
            return
        if self.exists(url) and not self.is_directory(url):
            raise MoxFileNotDirectoryException(f"cannot make folder {url}: it is a file", url)
        self._put(where.child(where.dir_prefix), b"")

    def mk_dir(self, url: str) -> None:
        where = parse_url(url)
        parent_key = where.key.rstrip("/").rpartition("/")[0]
        parent = f"{where.scheme}://{where.bucket}/{parent_key}"
        if not self.is_directory(parent):
            raise MoxFileNotExistsException(
                f"cannot make folder {url}: its parent {parent} does not exist (make_dirs makes "
                f"the parents too)", url)
        self.make_dirs(url)

    def _delete_keys(self, where: ObjectUrl, keys: list[str]) -> None:
        from obs import DeleteObjectsRequest, Object

        def delete_batch(batch: list[str]) -> None:
            request = DeleteObjectsRequest(quiet=True, objects=[Object(key=k) for k in batch])
            response = self.connection.call(
                "removing keys under", where,
                lambda client: client.deleteObjects(where.bucket, request))
            failed = [e.key for e in (getattr(response.body, "error", None) or [])]
            if failed:
                raise MoxFileRespException(
                    f"could not remove {len(failed)} keys under {where.url} (first: "
                    f"{failed[0]!r})", where.url)

        batches = [keys[i:i + DELETE_BATCH] for i in range(0, len(keys), DELETE_BATCH)]
        run_each(delete_batch, batches, threads=4)  # one by one during interpreter shutdown

    def remove(self, url: str, recursive: bool = False) -> None:
        where = parse_url(url)
        if not where.key.strip("/"):
            raise MoxFileIsDirectoryException(
                f"{url} is a bucket; mox.file does not remove buckets", url)
        if not where.key.endswith("/") and self._head(where) is not None:
            self.connection.call("removing", where,
                                 lambda client: client.deleteObject(where.bucket, where.key))
            return
        keys = [e.key for e in self._keys_below(where)]
        if not keys:
            raise MoxFileNotExistsException(f"cannot remove {url}: it does not exist "
                                            f"({where.where()})", url)
        children = [k for k in keys if k != where.dir_prefix]
        if children and not recursive:
            raise MoxFileDirectoryNotEmptyException(
                f"folder {url} is not empty ({len(children)} keys below it): pass "
                f"recursive=True to remove it with everything inside", url)
        self._delete_keys(where, [k for k in keys if not k.endswith("/")])
        self._delete_folder_entries(where, keys)

    def _delete_folder_entries(self, where: ObjectUrl, keys: list[str]) -> None:
        """Remove folder markers and the folder entries left behind, deepest first, after the
        files. Plain S3 has only the markers (a prefix vanishes with its last key) and answers
        204 for the rest; file-system backed servers (SeaweedFS, MinIO) keep empty folders until
        they are deleted as ``folder/`` keys, and refuse to delete one that is not empty yet."""
        folders = {where.dir_prefix} | {k for k in keys if k.endswith("/")}
        for key in keys:
            parts = key[len(where.dir_prefix):].rstrip("/").split("/")[:-1]
            folders.update(where.dir_prefix + "/".join(parts[:i]) + "/"
                           for i in range(1, len(parts) + 1))
        for folder in sorted(folders, key=lambda f: (-f.count("/"), f)):
            self.connection.call("removing", where.child(folder),
                                 lambda client, k=folder: client.deleteObject(where.bucket, k),
                                 accept=(404,))

    def read(self, url: str) -> bytes:
        where = parse_url(url)
        self._check_file_key(url, where)
        response = self.connection.call(
            "reading", where,
            lambda client: client.getObject(where.bucket, where.key, loadStreamInMemory=True))
        return bytes(response.body.buffer or b"")

    def _check_file_key(self, url: str, where: ObjectUrl) -> None:
        if not where.key or where.key.endswith("/"):
            raise MoxFileIsDirectoryException(f"{url} names a folder, not a file", url)

    def write(self, url: str, data: bytes) -> None:
        where = parse_url(url)
        self._check_file_key(url, where)
        self._put(where, bytes(data))

    def write_stream(self, url: str, stream: IO[bytes]) -> None:
        where = parse_url(url)
        self._check_file_key(url, where)
        start = stream.tell()
        self._put(where, stream, rewind=lambda: stream.seek(start))

    def open_read(self, url: str) -> IO[bytes]:
        where = parse_url(url)
        self._check_file_key(url, where)
        head = self._head(where)
        if head is None:
            if self._has_children(where):
                raise MoxFileIsDirectoryException(f"{url} is a folder, not a file", url)
            raise MoxFileNotExistsException(
                f"{url} does not exist: no key {where.key!r} in bucket {where.bucket!r}", url)
        return open_stream(self.connection, where, int(head.body.contentLength or 0))

    def copy(self, src: str, dst: str) -> None:
        source, target = parse_url(src), parse_url(dst)
        self._check_file_key(dst, target)
        self.connection.call(
            "copying", source,
            lambda client: client.copyObject(source.bucket, source.key, target.bucket,
                                             target.key))

    def download(self, url: str, local_path: str) -> None:
        where = parse_url(url)
        self._check_file_key(url, where)
        partial = f"{local_path}.mox-partial"
        self.connection.call(
            "downloading", where,
            lambda client: client.getObject(where.bucket, where.key, downloadPath=partial))
        os.replace(partial, local_path)

    def upload(self, local_path: str, url: str) -> None:
        where = parse_url(url)
        self._check_file_key(url, where)
        with open(local_path, "rb") as handle:
            self.write_stream(url, handle)
