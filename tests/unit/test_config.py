"""Configuration from the environment: defaults, the generated secret, errors that name the variable."""
import os
import stat

import pytest

from mediaserver.config import from_environment
from mediaserver.exceptions import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MEDIASERVER_") or name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)


def test_defaults_live_in_the_instance_folder(tmp_path):
    config = from_environment(str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'mediaserver.db'}"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert config["DATA_DIR"] == str(tmp_path / "data")
    assert config["LIBRARY_ROOTS"] == [] and config["TOKEN_TTL_S"] == 900


def test_secret_key_is_generated_once_with_mode_0600(tmp_path):
    first = from_environment(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert from_environment(str(tmp_path))["SECRET_KEY"] == first
    assert os.listdir(tmp_path) == ["secret_key"]


def test_an_empty_secret_key_file_is_refused(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(str(tmp_path))


def test_library_takes_several_folders(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    monkeypatch.setenv("MEDIASERVER_LIBRARY", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert from_environment(str(tmp_path))["LIBRARY_ROOTS"] == [str(tmp_path / "a"), str(tmp_path / "b")]


@pytest.mark.parametrize("name,value", [
    ("SECRET_KEY", "short"),
    ("DATABASE_URL", "mediaserver.db"),
    ("REDIS_URL", "http://localhost"),
    ("MEDIASERVER_LIBRARY", "/no/such/folder"),
    ("MEDIASERVER_TOKEN_TTL_S", "ten"),
    ("MEDIASERVER_TOKEN_TTL_S", "0"),
    ("MEDIASERVER_AUTO_TRANSCODE", "maybe"),
    ("MEDIASERVER_FFMPEG", "/no/such/ffmpeg"),
    ("MEDIASERVER_LOG_FORMAT", "yaml"),
    ("PROMETHEUS_MULTIPROC_DIR", "/no/such/folder"),
])
def test_bad_values_name_their_variable(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        from_environment(str(tmp_path))


@pytest.mark.parametrize("value,words", [
    ("/", "MEDIASERVER_LIBRARY: / cannot be a library folder"),
    ("/etc", "MEDIASERVER_LIBRARY: /etc cannot be a library folder: /etc is a system folder"),
    ("/proc/self", "/proc is a system folder"),
    ("media", "MEDIASERVER_LIBRARY: 'media' is a relative path: give a library folder as an absolute path"),
])
def test_system_folders_and_relative_paths_are_refused_as_the_library(tmp_path, monkeypatch, value, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "media").mkdir()  # a relative name is refused even where it exists
    monkeypatch.setenv("MEDIASERVER_LIBRARY", f"{tmp_path}{os.pathsep}{value}")
    with pytest.raises(ConfigError) as caught:
        from_environment(str(tmp_path))
    assert words in str(caught.value)
