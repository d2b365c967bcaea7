"""Storage answers and failures as ``mox.file`` exceptions naming bucket and key.

The OBS SDK reports HTTP errors in the response (``status``, ``errorCode``) and raises on
connection failures; both end here as one exception family. Texts that reach a message are
scrubbed of the credentials in force and of anything shaped like a signature, so neither logs
nor tracebacks carry a secret.
"""

from __future__ import annotations

import re
from typing import Any

from mox_core.file.errors import (
    MoxFileNotExistsException,
    MoxFilePermissionException,
    MoxFileReadException,
    MoxFileRespException,
)
from mox_datasets_obs.config import Settings
from mox_datasets_obs.urls import ObjectUrl

_SIGNATURE = re.compile(
    r"(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|"
    r"AccessKeyId|Authorization|x-obs-security-token)([=:]\s*)[^&\s\"',;]+", re.IGNORECASE)

AUTH_HINT = ("check the access key and secret (ACCESS_KEY_ID / SECRET_ACCESS_KEY, the config file "
             "or mox.file.set_auth) and the bucket's permissions")


def scrub(text: Any, settings: Settings | None) -> str:
    """``text`` without the credentials in ``settings`` and without signature-like fields."""
    text = _SIGNATURE.sub(r"\1\2***", str(text))
    if settings is not None:
        for secret in (settings.secret_key, settings.security_token, settings.access_key):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
    return text


def from_status(status: int, code: str | None, message: str | None, request_id: str | None,
                what: str, where: ObjectUrl, settings: Settings | None) -> MoxFileRespException:
    """The exception for an HTTP error answer (status >= 300)."""
    code = scrub(code, settings) if code else ""
    message = scrub(message, settings) if message else ""
    resp = {"status": status, "code": code, "message": message, "request_id": request_id,
            "bucket": where.bucket, "key": where.key}
    detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 404:
        if code == "NoSuchBucket":
            text = f"{where.url}: bucket {where.bucket!r} does not exist ({detail})"
        elif not where.key:
            text = f"bucket {where.bucket!r} does not exist ({detail})"
        else:
            text = (f"{where.url} does not exist: no key {where.key!r} in bucket "
                    f"{where.bucket!r} ({detail})")
        error = MoxFileNotExistsException(text, where.url)
        error.resp = resp  # type: ignore[attr-defined]
        return error
    if status == 403:
        return MoxFilePermissionException(
            f"{what} {where.url} was refused ({where.where()}; {detail}): {AUTH_HINT}",
            where.url, resp)
    suffix = f" (request id {request_id})" if request_id else ""
    return MoxFileRespException(f"{what} {where.url} failed ({where.where()}; {detail}){suffix}",
                                where.url, resp)


def from_exception(exc: BaseException, attempts: int, what: str, where: ObjectUrl,
                   settings: Settings | None) -> MoxFileReadException:
    """The exception for a request that never got an answer, after ``attempts`` tries."""
    server = settings.server_url if settings is not None else "the storage service"
    reason = scrub(f"{type(exc).__name__}: {exc}", settings)
    return MoxFileReadException(
        f"{what} {where.url} failed ({where.where()}): no answer from {server} after "
        f"{attempts} attempt{'s' if attempts != 1 else ''} ({reason})", where.url)
