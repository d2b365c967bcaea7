"""A storage backend for ``memfs://bucket/key`` URLs: objects in a dict, folders as key
prefixes (or empty markers made by ``make_dirs``), as object stores have them."""

import io

from mox_core.file.backend import Backend, FileStat
from mox_core.file.errors import MoxFileDirectoryNotEmptyException, MoxFileNotExistsException


class MemoryBackend(Backend):
    def __init__(self, scheme):
        super().__init__(scheme)
        self.objects = {}  # key -> bytes
        self.folders = set()  # keys of folder markers

    def _key(self, url):
        return url.split("://", 1)[1].strip("/")

    def _below(self, key):
        """Every object and folder marker key strictly below folder ``key``."""
        prefix = key + "/"
        return [k for k in [*self.objects, *self.folders] if k.startswith(prefix)]

    def _missing(self, url):
        return MoxFileNotExistsException(f"{url!r} does not exist", url)

    def exists(self, url):
        return self._key(url) in self.objects or self.is_directory(url)

    def is_directory(self, url):
        key = self._key(url)
        return "/" not in key or key in self.folders or bool(self._below(key))

    def stat(self, url):
        key = self._key(url)
        if key in self.objects:
            return FileStat(len(self.objects[key]), 0, False)
        if self.is_directory(url):
            return FileStat(0, 0, True)
        raise self._missing(url)

    def list_directory(self, url, recursive=False):
        key = self._key(url)
        if not self.is_directory(url):
            raise self._missing(url)
        names = set()
        for below in self._below(key):
            parts = below[len(key) + 1:].split("/")
            if not recursive:
                names.add(parts[0])
                continue
            names.update("/".join(parts[:end]) for end in range(1, len(parts) + 1))
        return sorted(names)

    def make_dirs(self, url):
        self.folders.add(self._key(url))

    def mk_dir(self, url):
        key = self._key(url)
        if "/" in key and not self.is_directory(f"{self.scheme}://{key.rsplit('/', 1)[0]}"):
            raise self._missing(url)
        self.folders.add(key)

    def remove(self, url, recursive=False):
        key = self._key(url)
        if key in self.objects:
            del self.objects[key]
            return
        below = self._below(key)
        if key not in self.folders and not below:
            raise self._missing(url)
        if below and not recursive:
            raise MoxFileDirectoryNotEmptyException(f"{url!r} is not empty", url)
        for each in below:
            self.objects.pop(each, None)
            self.folders.discard(each)
        self.folders.discard(key)

    def read(self, url):
        try:
            return self.objects[self._key(url)]
        except KeyError:
            raise self._missing(url) from None

    def write(self, url, data):
        self.objects[self._key(url)] = bytes(data)

    def open_read(self, url):
        return io.BytesIO(self.read(url))

    def copy(self, src, dst):
        self.write(dst, self.read(src))

    def download(self, url, local_path):
        with open(local_path, "wb") as handle:
            handle.write(self.read(url))

    def upload(self, local_path, url):
        with open(local_path, "rb") as handle:
            self.write(url, handle.read())
