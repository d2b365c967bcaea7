"""One OBS SDK client per backend, and every call through it with retries and clear errors.

Huawei's ``esdk-obs-python`` (``ObsClient``) is the client: it speaks both OBS and the S3 API
(``signature='v4'``), takes MoXing's connection options as they are (``server``,
``is_secure``, ``ssl_verify``, ``long_conn_mode``, ``path_style``), and costs about a third of
boto3's client CPU per small GET (bench/obs_read.py). Its own retry loop is switched off
(``max_retry_count=0``): retries happen here, with exponential back-off, for connection failures
and 5xx answers alike.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from mox_datasets_obs import errors, retry
from mox_datasets_obs.config import Settings
from mox_datasets_obs.urls import ObjectUrl

logger = logging.getLogger("mox")


def make_client(settings: Settings) -> Any:
    from obs import ObsClient

    return ObsClient(
        access_key_id=settings.access_key,
        secret_access_key=settings.secret_key,
        security_token=settings.security_token or None,
        server=settings.server_url,
        signature=settings.signature,
        region=settings.region,
        path_style=settings.path_style,
        ssl_verify=settings.ssl_verify,
        long_conn_mode=settings.long_conn_mode,
        max_retry_count=0,
        timeout=settings.timeout,
    )


class Connection:
    """Settings plus the SDK client made from them (made on first use, thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:  # closing sockets of a dead server must not fail a caller
                    pass
                self._client = None

    def call(self, what: str, where: ObjectUrl, request: Callable[[Any], Any],
             accept: tuple[int, ...] = (), rewind: Callable[[], None] | None = None) -> Any:
        """``request(client)`` until it answers below 300 (or with a status in ``accept``).

        Transient failures are retried ``settings.retry`` times with back-off; ``rewind`` is
        called before each retry (e.g. to seek an upload stream back). Anything else raises the
        ``mox.file`` exception naming ``where``.
        """
        attempts = self.settings.retry + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = request(self.client)
            except Exception as exc:
                if last or not retry.is_transient_exception(exc):
                    raise errors.from_exception(exc, attempt + 1, what, where,
                                                self.settings) from None
                self._wait(attempt, what, where, type(exc).__name__)
                if rewind is not None:
                    rewind()
                continue
            status = int(response.status)
            if status < 300 or status in accept:
                return response
            if last or not retry.is_transient_status(status):
                raise errors.from_status(
                    status, getattr(response, "errorCode", None),
                    getattr(response, "errorMessage", None), getattr(response, "requestId", None),
                    what, where, self.settings) from None
            self._wait(attempt, what, where, f"HTTP {status}")
            if rewind is not None:
                rewind()
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, what: str, where: ObjectUrl, reason: str) -> None:
        delay = retry.backoff(attempt, self.settings.retry_wait)
        logger.warning("mox.file: %s %s failed (%s); retry %d of %d in %.1f s", what, where.url,
                       reason, attempt + 1, self.settings.retry, delay)
        time.sleep(delay)
