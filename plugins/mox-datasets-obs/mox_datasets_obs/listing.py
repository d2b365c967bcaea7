"""Paged object listings: the one place that knows the SDK's listing shapes."""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass

from mox_datasets_obs.client import Connection
from mox_datasets_obs.urls import ObjectUrl


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    mtime_nsec: int


def parse_time(value: object) -> int:
    """Nanoseconds since the epoch from an HTTP date or an ISO 8601 listing time (0 if none)."""
    if not value:
        return 0
    text = str(value)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1_000_000_000)


def pages(connection: Connection, where: ObjectUrl, prefix: str, delimiter: str | None,
          max_keys: int | None = None, limit: int | None = None
          ) -> Iterator[tuple[list[Entry], list[str]]]:
    """``(objects, common prefixes)`` page by page for ``prefix`` in ``where``'s bucket.

    ``limit`` stops after that many objects plus prefixes (``1`` answers "is there anything").
    """
    marker = None
    seen = 0
    page_size = min(max_keys or connection.settings.list_max_keys, limit or 1000)
    while True:
        response = connection.call(
            "listing", where,
            lambda client, m=marker: client.listObjects(where.bucket, prefix=prefix or None,
                                                        marker=m, max_keys=page_size,
                                                        delimiter=delimiter))
        body = response.body
        entries = [Entry(o.key, int(o.size or 0), parse_time(o.lastModified))
                   for o in (body.contents or [])]
        prefixes = [p.prefix for p in (body.commonPrefixs or [])]
        yield entries, prefixes
        seen += len(entries) + len(prefixes)
        if not body.is_truncated or (limit is not None and seen >= limit):
            return
        marker = body.next_marker or max(
            [e.key for e in entries] + prefixes, default=None)
        if marker is None:
            return
