"""A seekable stream over one object, read with ranged GETs: ``mox.file.File(url, 'rb')``.

Memory stays bounded by the buffer (8 MiB by default) whatever the object's size, and a
``seek`` costs nothing until the next read.
"""

from __future__ import annotations

import io

from mox_datasets_obs.client import Connection
from mox_datasets_obs.urls import ObjectUrl

BUFFER_SIZE = 8 << 20


class RangeReader(io.RawIOBase):
    def __init__(self, connection: Connection, where: ObjectUrl, size: int) -> None:
        self._connection = connection
        self._where = where
        self._size = size
        self._position = 0
        self.name = where.url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def _fetch(self, start: int, end: int) -> bytes:
        from obs import GetObjectHeader

        where = self._where
        response = self._connection.call(
            "reading", where,
            lambda client: client.getObject(where.bucket, where.key, loadStreamInMemory=True,
                                            headers=GetObjectHeader(range=f"{start}-{end}")))
        return bytes(response.body.buffer or b"")

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._position >= self._size or len(buffer) == 0:
            return 0
        end = min(self._position + len(buffer), self._size) - 1
        data = self._fetch(self._position, end)
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        if self._position >= self._size:
            return b""
        data = self._fetch(self._position, self._size - 1)
        self._position += len(data)
        return data


def open_stream(connection: Connection, where: ObjectUrl, size: int) -> io.BufferedReader:
    return io.BufferedReader(RangeReader(connection, where, size), buffer_size=BUFFER_SIZE)
