"""``obs://bucket/key`` and ``s3://bucket/key``: splitting URLs into bucket and key."""

from __future__ import annotations

import dataclasses
import re

from mox_core.file.errors import MoxFileException

# S3 and OBS bucket names: 3-63 lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclasses.dataclass(frozen=True)
class ObjectUrl:
    scheme: str
    bucket: str
    key: str  # "" for the bucket itself; folders may end with "/"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.key}"

    @property
    def dir_prefix(self) -> str:
        """The key prefix of the folder this URL names ("" for the bucket root)."""
        return self.key.rstrip("/") + "/" if self.key.strip("/") else ""

    def child(self, key: str) -> ObjectUrl:
        return ObjectUrl(self.scheme, self.bucket, key)

    def where(self) -> str:
        """How messages name the object: bucket and key spelled out."""
        if not self.key:
            return f"bucket {self.bucket!r}"
        return f"bucket {self.bucket!r}, key {self.key!r}"


def parse_url(url: str) -> ObjectUrl:
    """Split ``scheme://bucket/key``; ``ValueError`` naming the URL when it has no valid bucket."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise MoxFileException(f"{url!r} is not an object storage URL (scheme://bucket/key)", url)
    bucket, _, key = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise MoxFileException(
            f"{url!r} does not start with a valid bucket name (3-63 characters: lower-case "
            f"letters, digits, '.' and '-')", url)
    return ObjectUrl(scheme.lower(), bucket, key)
