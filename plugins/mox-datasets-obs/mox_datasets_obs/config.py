"""Where the endpoint and credentials come from, and keeping the secret out of sight.

Resolution, later sources winning: a config file, then environment variables, then
``mox.file.set_auth(...)``. Nothing is read at import; the environment is read when a client is
first needed, so a script may set ``os.environ`` before its first ``mox.file`` call.

Environment variables (MoXing's and TensorFlow's names first, then the SDKs' own):

* endpoint: ``S3_ENDPOINT`` (``http://host:port``, ``https://host``, or ``host:port`` --
  TensorFlow's form, HTTPS unless ``S3_USE_HTTPS=0``), ``OBS_ENDPOINT``, ``AWS_ENDPOINT_URL``
* access key: ``ACCESS_KEY_ID``, ``OBS_ACCESS_KEY_ID``, ``AWS_ACCESS_KEY_ID``
* secret: ``SECRET_ACCESS_KEY``, ``OBS_SECRET_ACCESS_KEY``, ``AWS_SECRET_ACCESS_KEY``
* session token: ``SECURITY_TOKEN``, ``OBS_SECURITY_TOKEN``, ``AWS_SESSION_TOKEN``
* ``S3_USE_HTTPS`` and ``S3_VERIFY_SSL`` (``0``/``1``, default ``1``), ``S3_REGION`` or
  ``AWS_REGION``, ``MOX_OBS_PATH_STYLE`` (``0`` for virtual-host URLs on the public cloud;
  default ``1``, path-style, which private clouds and S3-compatible servers need),
  ``MOX_OBS_SIGNATURE`` (``v4``, the default, ``v2`` or ``obs``)

Config file: ``$MOX_OBS_CONFIG``, else ``~/.mox/obs.ini``; an INI file whose ``[default]``
section may hold ``endpoint``, ``access_key_id``, ``secret_access_key``, ``security_token``,
``use_https``, ``verify_ssl``, ``region``, ``path_style``.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mox_core.file.errors import MoxFileException

_ENDPOINT_VARS = ("S3_ENDPOINT", "OBS_ENDPOINT", "AWS_ENDPOINT_URL")
_AK_VARS = ("ACCESS_KEY_ID", "OBS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
_SK_VARS = ("SECRET_ACCESS_KEY", "OBS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
_TOKEN_VARS = ("SECURITY_TOKEN", "OBS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
CONFIG_VARIABLE = "MOX_OBS_CONFIG"
DEFAULT_CONFIG = os.path.join("~", ".mox", "obs.ini")


class ObsConfigError(MoxFileException):
    """The endpoint or the credentials are missing or malformed."""


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ObsConfigError(f"{name} must be 0 or 1 (or true/false), got {value!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a client needs. ``repr`` shows whether a secret is set, never its value."""

    host: str = ""
    port: int | None = None
    is_secure: bool = True
    ssl_verify: bool = True
    access_key: str = dataclasses.field(default="", repr=False)
    secret_key: str = dataclasses.field(default="", repr=False)
    security_token: str = dataclasses.field(default="", repr=False)
    region: str = "us-east-1"
    signature: str = "v4"  # the OBS SDK's signing: "v4" (S3-compatible), "v2" or "obs"
    path_style: bool = True
    long_conn_mode: bool = True
    retry: int = 8  # attempts after the first, on transient errors
    retry_wait: float = 0.25  # first back-off in seconds; doubles per attempt, capped at 8 s
    timeout: float = 60.0
    list_max_keys: int = 1000

    @property
    def server_url(self) -> str:
        scheme = "https" if self.is_secure else "http"
        return f"{scheme}://{self.host}" + (f":{self.port}" if self.port else "")

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_key and self.secret_key)

    def __repr__(self) -> str:
        return (f"Settings(server={self.server_url!r}, ssl_verify={self.ssl_verify}, "
                f"path_style={self.path_style}, region={self.region!r}, "
                f"credentials={'set' if self.has_credentials else 'missing'})")


def parse_endpoint(endpoint: str, use_https: bool | None = None) -> dict[str, Any]:
    """``http://h:p`` / ``https://h`` / ``h:p`` -> host, port, is_secure. A scheme in the endpoint
    wins; without one HTTPS is used unless ``use_https`` is False."""
    endpoint = endpoint.strip().rstrip("/")
    if "://" not in endpoint:
        secure = True if use_https is None else use_https
        endpoint = ("https://" if secure else "http://") + endpoint
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ObsConfigError(
            f"the storage endpoint must look like http://host:port, https://host or host:port; "
            f"got {endpoint!r}")
    try:
        port = parts.port
    except ValueError:
        raise ObsConfigError(f"the storage endpoint {endpoint!r} has an invalid port") from None
    return {"host": parts.hostname, "port": port, "is_secure": parts.scheme == "https"}


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


def from_file(path: str | None = None) -> dict[str, Any]:
    """Settings in the config file (``{}`` when there is none)."""
    path = os.path.expanduser(path or os.environ.get(CONFIG_VARIABLE) or DEFAULT_CONFIG)
    if not os.path.isfile(path):
        if os.environ.get(CONFIG_VARIABLE):
            raise ObsConfigError(f"${CONFIG_VARIABLE} names {path!r}, which is not a file")
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ObsConfigError(f"config file {path!r} is not a valid INI file "
                             f"({type(exc).__name__})") from None
    section = parser["default"] if parser.has_section("default") else {}
    found: dict[str, Any] = {}
    use_https = (_flag(section["use_https"], f"use_https in {path}")
                 if "use_https" in section else None)
    if section.get("endpoint"):
        found.update(parse_endpoint(section["endpoint"], use_https))
    for key, field in (("access_key_id", "access_key"), ("secret_access_key", "secret_key"),
                       ("security_token", "security_token"), ("region", "region")):
        if section.get(key):
            found[field] = section[key]
    if "verify_ssl" in section:
        found["ssl_verify"] = _flag(section["verify_ssl"], f"verify_ssl in {path}")
    if "path_style" in section:
        found["path_style"] = _flag(section["path_style"], f"path_style in {path}")
    return found


def from_environment(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings in the environment variables."""
    env = os.environ if env is None else env
    found: dict[str, Any] = {}
    use_https = _flag(env["S3_USE_HTTPS"], "S3_USE_HTTPS") if env.get("S3_USE_HTTPS") else None
    endpoint = _first(env, _ENDPOINT_VARS)
    if endpoint:
        found.update(parse_endpoint(endpoint, use_https))
    for names, field in ((_AK_VARS, "access_key"), (_SK_VARS, "secret_key"),
                         (_TOKEN_VARS, "security_token"), (("S3_REGION", "AWS_REGION"), "region")):
        value = _first(env, names)
        if value:
            found[field] = value
    if env.get("S3_VERIFY_SSL"):
        found["ssl_verify"] = _flag(env["S3_VERIFY_SSL"], "S3_VERIFY_SSL")
    if env.get("MOX_OBS_SIGNATURE"):
        found["signature"] = env["MOX_OBS_SIGNATURE"].strip().lower()
    if env.get("MOX_OBS_PATH_STYLE"):
        found["path_style"] = _flag(env["MOX_OBS_PATH_STYLE"], "MOX_OBS_PATH_STYLE")
    return found


def from_set_auth(options: Mapping[str, Any]) -> dict[str, Any]:
    """``mox.file.set_auth`` arguments (MoXing's names) as settings."""
    found: dict[str, Any] = {}
    if options.get("server"):
        found.update(parse_endpoint(options["server"], options.get("is_secure")))
    elif "is_secure" in options:
        found["is_secure"] = bool(options["is_secure"])
    if options.get("port"):
        found["port"] = int(options["port"])
    renames = {"ak": "access_key", "sk": "secret_key", "security_token": "security_token",
               "ssl_verify": "ssl_verify", "path_style": "path_style", "region": "region",
               "long_conn_mode": "long_conn_mode", "retry": "retry", "retry_wait": "retry_wait",
               "client_timeout": "timeout", "list_max_keys": "list_max_keys",
               "signature": "signature"}
    unknown = set(options) - set(renames) - {"server", "is_secure", "port"}
    if unknown:
        raise TypeError(f"set_auth got unknown arguments: {', '.join(sorted(unknown))}")
    for option, field in renames.items():
        if options.get(option) is not None:
            found[field] = options[option]
    return found


def resolve(overrides: Mapping[str, Any]) -> Settings:
    """The settings in force: config file < environment < ``set_auth`` overrides."""
    merged: dict[str, Any] = {}
    merged.update(from_file())
    merged.update(from_environment())
    merged.update(overrides)
    if not merged.get("host"):
        raise ObsConfigError(
            "no storage endpoint is configured for obs:// and s3://: set S3_ENDPOINT (e.g. "
            "http://127.0.0.1:8333 or obs.cn-north-4.myhuaweicloud.com), write it to the config "
            f"file (${CONFIG_VARIABLE} or {DEFAULT_CONFIG}), or call mox.file.set_auth(server=...)")
    settings = Settings(**merged)
    if settings.signature not in ("v4", "v2", "obs"):
        raise ObsConfigError(f"signature must be 'v4', 'v2' or 'obs', got {settings.signature!r}")
    if not settings.has_credentials:
        raise ObsConfigError(
            "no credentials are configured for obs:// and s3://: set ACCESS_KEY_ID and "
            "SECRET_ACCESS_KEY, write them to the config file, or call "
            "mox.file.set_auth(ak=..., sk=...)")
    return settings
