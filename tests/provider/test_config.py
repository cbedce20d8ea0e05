"""LMStudioConfig: defaults, checks, and the cascade environment > file > defaults."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pytest_lmstudio import (
    ConfigurationError,
    LMStudioConfig,
    LMStudioProvider,
    SyncLMStudioProvider,
)

TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"


def test_defaults() -> None:
    config = LMStudioConfig()
    assert config.endpoint == "http://localhost:1234"
    assert config.timeout_seconds == 30
    assert config.cache_ttl_minutes == 5
    assert config.cache_ttl_seconds == 300
    assert config.max_retries == 3
    assert config.api_token is None
    assert config.allowed_hosts == ()


def test_load_with_nothing_set_gives_the_defaults() -> None:
    assert LMStudioConfig.load(env={}) == LMStudioConfig()


def test_environment_over_file_over_defaults(tmp_path: Path) -> None:
    file = tmp_path / "lmstudio.json"
    file.write_text(
        json.dumps({"endpoint": "http://127.0.0.1:5000", "timeout_seconds": 12, "max_retries": 1})
    )
    env = {"LMSTUDIO_TIMEOUT": "7.5", "LMSTUDIO_API_TOKEN": TOKEN}
    config = LMStudioConfig.load(file, env=env)
    assert config.endpoint == "http://127.0.0.1:5000"  # file
    assert config.timeout_seconds == 7.5  # environment beats the file
    assert config.max_retries == 1  # file
    assert config.api_token == TOKEN  # environment
    assert config.cache_ttl_minutes == 5  # default


def test_every_environment_variable(tmp_path: Path) -> None:
    env = {
        "LMSTUDIO_ENDPOINT": "http://gpu.lan:1234",
        "LMSTUDIO_TIMEOUT": "60",
        "LMSTUDIO_CACHE_TTL": "0.5",
        "LMSTUDIO_MAX_RETRIES": "0",
        "LMSTUDIO_API_TOKEN": TOKEN,
        "LMSTUDIO_ALLOWED_HOSTS": "gpu.lan, other.lan",
    }
    config = LMStudioConfig.load(env=env)
    assert config == LMStudioConfig(
        endpoint="http://gpu.lan:1234",
        timeout_seconds=60,
        cache_ttl_minutes=0.5,
        max_retries=0,
        api_token=TOKEN,
        allowed_hosts=("gpu.lan", "other.lan"),
    )


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text('[lmstudio]\nendpoint = "http://127.0.0.1:4321"\ncache_ttl_minutes = 1\n')
    config = LMStudioConfig.load(env={"LMSTUDIO_CONFIG": str(file)})
    assert config.endpoint == "http://127.0.0.1:4321"
    assert config.cache_ttl_minutes == 1


def test_toml_top_level(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('endpoint = "http://10.1.2.3:1234"\nallowed_hosts = []\nmax_retries = 5\n')
    assert LMStudioConfig.load(file, env={}).max_retries == 5


def test_explicit_path_beats_the_environment_variable(tmp_path: Path) -> None:
    chosen = tmp_path / "a.json"
    chosen.write_text('{"max_retries": 9}')
    other = tmp_path / "b.json"
    other.write_text('{"max_retries": 2}')
    assert LMStudioConfig.load(chosen, env={"LMSTUDIO_CONFIG": str(other)}).max_retries == 9


def test_empty_environment_values_are_unset() -> None:
    assert LMStudioConfig.load(env={"LMSTUDIO_TIMEOUT": "", "LMSTUDIO_API_TOKEN": ""}) == (
        LMStudioConfig()
    )


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("LMSTUDIO_ENDPOINT", "ftp://localhost", "http or https"),
        ("LMSTUDIO_ENDPOINT", "http://example.com:1234", "allow-list"),
        ("LMSTUDIO_ENDPOINT", "http://u:p@localhost:1234", "credentials"),
        ("LMSTUDIO_TIMEOUT", "abc", "not a number"),
        ("LMSTUDIO_TIMEOUT", "0", "> 0"),
        ("LMSTUDIO_TIMEOUT", "-3", "> 0"),
        ("LMSTUDIO_TIMEOUT", "nan", "finite"),
        ("LMSTUDIO_TIMEOUT", "inf", "finite"),
        ("LMSTUDIO_CACHE_TTL", "-1", ">= 0"),
        ("LMSTUDIO_MAX_RETRIES", "2.5", "not an integer"),
        ("LMSTUDIO_MAX_RETRIES", "-1", ">= 0"),
        ("LMSTUDIO_API_TOKEN", "two words", "whitespace"),
        ("LMSTUDIO_API_TOKEN", "tok\nInjected: yes", "whitespace"),
    ],
)
def test_bad_environment_values(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        LMStudioConfig.load(env={variable: value})
    error = info.value
    assert error.source == "environment"
    assert error.key == variable
    assert words in str(error)
    assert variable in str(error)


@pytest.mark.parametrize(
    ("content", "key", "words"),
    [
        ({"timeout_seconds": "soon"}, "timeout_seconds", "expected a number"),
        ({"timeout_seconds": True}, "timeout_seconds", "expected a number"),
        ({"max_retries": 1.5}, "max_retries", "expected an integer"),
        ({"cache_ttl_minutes": -2}, "cache_ttl_minutes", ">= 0"),
        ({"endpoint": 1234}, "endpoint", "URL string"),
        ({"endpoint": "http://8.8.8.8"}, "endpoint", "allow-list"),
        ({"allowed_hosts": 3}, "allowed_hosts", "list of host names"),
        ({"max_response_bytes": 0}, "max_response_bytes", ">= 1"),
        ({"timout_seconds": 3}, "timout_seconds", "unknown setting"),
    ],
)
def test_bad_file_values(tmp_path: Path, content: dict[str, object], key: str, words: str) -> None:
    file = tmp_path / "config.json"
    file.write_text(json.dumps(content))
    with pytest.raises(ConfigurationError) as info:
        LMStudioConfig.load(file, env={})
    assert info.value.source == str(file)
    assert info.value.key == key
    assert words in str(info.value)


def test_bad_toml_value_names_the_file_and_key(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('max_retries = "many"\n')
    with pytest.raises(ConfigurationError) as info:
        LMStudioConfig.load(file, env={})
    assert (info.value.source, info.value.key) == (str(file), "max_retries")


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("broken.json", "{not json", "not valid JSON"),
        ("broken.toml", "endpoint = ", "not valid TOML"),
        ("list.json", "[1, 2]", "object at the top"),
    ],
)
def test_unparseable_files(tmp_path: Path, name: str, text: str, words: str) -> None:
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(ConfigurationError, match=words) as info:
        LMStudioConfig.load(file, env={})
    assert info.value.source == str(file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        LMStudioConfig.load(tmp_path / "absent.json", env={})


def test_allowed_hosts_from_the_file_apply_to_an_endpoint_from_the_environment(
    tmp_path: Path,
) -> None:
    file = tmp_path / "c.json"
    file.write_text('{"allowed_hosts": ["llm.internal"]}')
    config = LMStudioConfig.load(file, env={"LMSTUDIO_ENDPOINT": "http://llm.internal:1234"})
    assert config.endpoint == "http://llm.internal:1234"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"endpoint": "http://user@localhost"}, "endpoint"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"cache_ttl_minutes": -1}, "cache_ttl_minutes"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"api_token": "a b"}, "api_token"),
        ({"connect_timeout_seconds": -1}, "connect_timeout_seconds"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        LMStudioConfig(**kwargs)  # type: ignore[arg-type]
    assert (info.value.source, info.value.key) == ("argument", key)


def test_replace_revalidates() -> None:
    with pytest.raises(ConfigurationError):
        dataclasses.replace(LMStudioConfig(), endpoint="http://example.com")


def test_token_never_in_repr_or_errors() -> None:
    config = LMStudioConfig(api_token=TOKEN)
    assert TOKEN not in repr(config)
    assert "api_token='***'" in repr(config)
    assert "api_token=None" in repr(LMStudioConfig())
    with pytest.raises(ConfigurationError) as info:
        LMStudioConfig.load(env={"LMSTUDIO_API_TOKEN": TOKEN + " x"})
    assert TOKEN not in str(info.value)


def test_providers_without_arguments_load_the_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", "http://127.0.0.1:4999")
    monkeypatch.setenv("LMSTUDIO_MAX_RETRIES", "1")
    monkeypatch.delenv("LMSTUDIO_CONFIG", raising=False)
    provider = LMStudioProvider()
    assert provider.config.endpoint == "http://127.0.0.1:4999"
    assert provider.config.max_retries == 1
    with SyncLMStudioProvider() as sync:
        assert sync.config.endpoint == "http://127.0.0.1:4999"
    monkeypatch.setenv("LMSTUDIO_TIMEOUT", "never")
    with pytest.raises(ConfigurationError, match="LMSTUDIO_TIMEOUT"):
        LMStudioProvider()
