"""Where the endpoint and credentials come from (no server needed)."""

from __future__ import annotations

import pytest
from mox_datasets_obs import config
from mox_datasets_obs.config import ObsConfigError


def test_endpoint_with_a_scheme_decides_http_or_https_itself():
    assert config.parse_endpoint("http://10.0.0.1:9000", use_https=True) == {
        "host": "10.0.0.1", "port": 9000, "is_secure": False}
    assert config.parse_endpoint("https://obs.example.com/") == {
        "host": "obs.example.com", "port": None, "is_secure": True}


def test_endpoint_without_a_scheme_is_https_unless_s3_use_https_is_0(monkeypatch):
    assert config.parse_endpoint("obs.example.com:443")["is_secure"]
    monkeypatch.setenv("S3_ENDPOINT", "127.0.0.1:8333")
    monkeypatch.setenv("S3_USE_HTTPS", "0")
    assert config.from_environment() == {"host": "127.0.0.1", "port": 8333, "is_secure": False}


def test_moxing_names_win_over_the_sdk_names(monkeypatch):
    monkeypatch.setenv("S3_ENDPOINT", "http://h:1")
    monkeypatch.setenv("OBS_ACCESS_KEY_ID", "sdk-ak")
    monkeypatch.setenv("OBS_SECRET_ACCESS_KEY", "sdk-sk")
    settings = config.resolve({})
    assert (settings.access_key, settings.secret_key) == ("sdk-ak", "sdk-sk")
    monkeypatch.setenv("ACCESS_KEY_ID", "mox-ak")
    monkeypatch.setenv("SECRET_ACCESS_KEY", "mox-sk")
    assert config.resolve({}).access_key == "mox-ak"


def test_config_file_then_environment_then_set_auth(monkeypatch, tmp_path):
    ini = tmp_path / "obs.ini"
    ini.write_text("[default]\nendpoint = file-host:7000\nuse_https = 0\n"
                   "access_key_id = file-ak\nsecret_access_key = file-sk\n")
    monkeypatch.setenv("MOX_OBS_CONFIG", str(ini))
    settings = config.resolve({})
    assert settings.server_url == "http://file-host:7000" and settings.access_key == "file-ak"
    monkeypatch.setenv("S3_ENDPOINT", "https://env-host")
    assert config.resolve({}).server_url == "https://env-host"
    overrides = config.from_set_auth({"ak": "code-ak", "sk": "code-sk",
                                      "server": "http://code-host:1", "retry": 2})
    settings = config.resolve(overrides)
    assert (settings.server_url, settings.access_key, settings.retry) == (
        "http://code-host:1", "code-ak", 2)


def test_the_default_config_file_is_read_from_home(monkeypatch, tmp_path):
    monkeypatch.delenv("MOX_OBS_CONFIG")
    (tmp_path / "home" / ".mox").mkdir(parents=True)
    (tmp_path / "home" / ".mox" / "obs.ini").write_text(
        "[default]\nendpoint=http://home-host:1\naccess_key_id=a\nsecret_access_key=b\n")
    assert config.resolve({}).host == "home-host"


def test_repr_and_errors_never_show_the_secret(monkeypatch):
    monkeypatch.setenv("S3_ENDPOINT", "http://h:1")
    monkeypatch.setenv("ACCESS_KEY_ID", "AK-visible-nowhere")
    monkeypatch.setenv("SECRET_ACCESS_KEY", "SK-top-secret")
    settings = config.resolve({})
    assert "SK-top-secret" not in repr(settings) and "AK-visible-nowhere" not in repr(settings)
    assert "credentials=set" in repr(settings)
    monkeypatch.delenv("ACCESS_KEY_ID")
    with pytest.raises(ObsConfigError, match="ACCESS_KEY_ID") as caught:
        config.resolve({})
    assert "SK-top-secret" not in str(caught.value)


def test_missing_endpoint_and_bad_flags_are_clear(monkeypatch):
    with pytest.raises(ObsConfigError, match="S3_ENDPOINT"):
        config.resolve({"access_key": "a", "secret_key": "b"})
    monkeypatch.setenv("S3_USE_HTTPS", "maybe")
    with pytest.raises(ObsConfigError, match="S3_USE_HTTPS"):
        config.from_environment()
    with pytest.raises(TypeError, match="colour"):
        config.from_set_auth({"colour": "blue"})
