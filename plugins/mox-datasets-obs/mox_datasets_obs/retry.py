"""Which failures are worth another try, and how long to wait before it.

Transient: the connection refused, reset or timed out (the server restarting, a load
balancer dropping an idle socket) and answers 500-599, 429 and 408. Everything else -- 403,
404, a malformed request -- fails at once: retrying cannot fix it and only hides it.
"""

from __future__ import annotations

import http.client
import random

from mox_core.file.errors import MoxFileException

RETRY_STATUSES = frozenset({408, 429})
MAX_WAIT = 8.0


def is_transient_status(status: int) -> bool:
    return status >= 500 or status in RETRY_STATUSES


def is_transient_exception(exc: BaseException) -> bool:
    if isinstance(exc, MoxFileException):
        return False
    if isinstance(exc, (OSError, http.client.HTTPException, TimeoutError)):
        return True
    name = type(exc).__name__
    return name in ("ServerDisconnectedError", "ClientPayloadError", "ClientConnectionError",
                    "ClientOSError", "ServerTimeoutError", "ClientConnectorError")


def backoff(attempt: int, first_wait: float) -> float:
    """Seconds before retry number ``attempt`` (0-based): exponential, capped, with jitter so
    many readers do not hit a recovering server in lock-step."""
    return min(first_wait * (2 ** attempt), MAX_WAIT) * random.uniform(0.5, 1.0)
