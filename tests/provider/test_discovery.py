"""discover(): configured endpoint, LM Studio's server files, candidate ports, greeting check."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import LMStudioConfig, LMStudioProvider, ServiceNotFoundError, discover
from pytest_lmstudio.provider._discovery import lmstudio_home, server_file_endpoints

from .conftest import closed_port
from .servers import http_server, silent_server

TOKEN = "sk-lm-abcdefgh:abcdefghijklmnopqrst"


def header(headers: dict[str, str], name: str) -> str | None:
    return {key.lower(): value for key, value in headers.items()}.get(name)


def write_server_file(home: Path, name: str, data: object) -> None:
    internal = home / ".internal"
    internal.mkdir(parents=True, exist_ok=True)
    (internal / name).write_text(json.dumps(data))


def test_home_from_the_pointer_file(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / ".lmstudio-home-pointer").write_text(f"{target}\n")
    assert lmstudio_home(tmp_path) == target


def test_home_prefers_cache_dir_then_dot_lmstudio(tmp_path: Path) -> None:
    assert lmstudio_home(tmp_path) == tmp_path / ".lmstudio"
    (tmp_path / ".cache" / "lm-studio").mkdir(parents=True)
    assert lmstudio_home(tmp_path) == tmp_path / ".cache" / "lm-studio"
    (tmp_path / ".lmstudio-home-pointer").write_text("   ")
    assert lmstudio_home(tmp_path) == tmp_path / ".cache" / "lm-studio"


def test_server_files(tmp_path: Path) -> None:
    write_server_file(
        tmp_path, "http-server-config.json", {"port": 4321, "networkInterface": "0.0.0.0"}
    )
    write_server_file(tmp_path, "http-server.json", {"host": "127.0.0.1", "pid": 7, "port": 41343})
    found = server_file_endpoints(tmp_path, env={})
    assert [endpoint for endpoint, _ in found] == [
        "http://127.0.0.1:4321",
        "http://127.0.0.1:41343",
    ]


def test_server_info_path_override_and_bad_files(tmp_path: Path) -> None:
    write_server_file(tmp_path, "http-server-config.json", {"port": "1234"})
    info = tmp_path / "info.json"
    info.write_text(json.dumps({"host": "192.168.1.5", "port": 5555}))
    found = server_file_endpoints(tmp_path, env={"LMS_API_SERVER_INFO_PATH": str(info)})
    assert found[0][0] is None and "no valid port" in found[0][1]
    assert found[1][0] == "http://192.168.1.5:5555"
    info.write_text(json.dumps({"host": "203.0.113.7", "port": 5555}))
    found = server_file_endpoints(tmp_path, env={"LMS_API_SERVER_INFO_PATH": str(info)})
    assert found[1][0] is None and "allow-list" in found[1][1]
    info.write_text("{broken")
    found = server_file_endpoints(tmp_path, env={"LMS_API_SERVER_INFO_PATH": str(info)})
    assert found[1][0] is None and "unreadable" in found[1][1]
    assert "no such file" in server_file_endpoints(tmp_path / "none", env={})[0][1]


def test_configured_endpoint_first(fake: FakeLMStudio, tmp_path: Path) -> None:
    config = LMStudioConfig(endpoint=fake.url, api_token=TOKEN)
    found = discover(config, home=tmp_path, ports=[], refresh=True)
    assert found == dataclasses.replace(config, endpoint=fake.url)
    assert found.api_token == TOKEN
    [probe] = fake.requests
    assert (probe.method, probe.path) == ("GET", "/lmstudio-greeting")
    assert header(probe.headers, "authorization") == f"Bearer {TOKEN}"


def test_port_from_the_server_file(fake: FakeLMStudio, tmp_path: Path) -> None:
    write_server_file(
        tmp_path, "http-server-config.json", {"port": fake.port, "networkInterface": "127.0.0.1"}
    )
    config = LMStudioConfig(endpoint=f"http://127.0.0.1:{closed_port()}")
    assert discover(config, home=tmp_path, ports=[], refresh=True).endpoint == fake.url


def test_candidate_ports_are_confirmed_by_the_greeting(fake: FakeLMStudio, tmp_path: Path) -> None:
    config = LMStudioConfig(endpoint=f"http://127.0.0.1:{closed_port()}", api_token=TOKEN)
    with (
        http_server(404, b'{"detail": "Not Found"}') as other,
        http_server(200, b'{"lmstudio": false}') as impostor,
    ):
        ports = [closed_port(), other.port, impostor.port, fake.port]
        assert discover(config, home=tmp_path, ports=ports, refresh=True).endpoint == fake.url
    # The token goes to the configured endpoint only, never to a scanned port.
    assert all(header(r.headers, "authorization") is None for r in fake.requests)


def test_candidates_are_probed_concurrently(fake: FakeLMStudio, tmp_path: Path) -> None:
    config = LMStudioConfig(endpoint=f"http://127.0.0.1:{closed_port()}")
    with silent_server() as a, silent_server() as b, silent_server() as c:
        started = time.monotonic()
        found = discover(
            config,
            home=tmp_path,
            ports=[a.port, b.port, c.port, fake.port],
            probe_timeout=1.0,
            refresh=True,
        )
        elapsed = time.monotonic() - started
    assert found.endpoint == fake.url
    assert elapsed < 2.5  # three silent ports one after another would take 3 s


def test_nothing_found_says_what_was_tried(tmp_path: Path) -> None:
    write_server_file(tmp_path, "http-server.json", {"host": "127.0.0.1", "port": closed_port()})
    configured = f"http://127.0.0.1:{closed_port()}"
    with http_server(404, b"{}") as other, pytest.raises(ServiceNotFoundError) as info:
        discover(
            LMStudioConfig(endpoint=configured), home=tmp_path, ports=[other.port], refresh=True
        )
    error = info.value
    text = str(error)
    assert configured in text and "configured" in text and "cannot connect" in text
    assert "http-server-config.json: no such file" in text
    assert "http-server.json" in text
    assert f"127.0.0.1:{other.port} (candidate port): HTTP 404" in text
    assert len(error.tried) == 4
    assert "lms server start" in text


def test_result_is_cached(fake: FakeLMStudio, tmp_path: Path) -> None:
    config = LMStudioConfig(endpoint=fake.url)
    assert discover(config, home=tmp_path, ports=[], refresh=True).endpoint == fake.url
    assert discover(config, home=tmp_path, ports=[]).endpoint == fake.url
    assert len(fake.requests) == 1
    assert discover(config, home=tmp_path, ports=[], refresh=True).endpoint == fake.url
    assert len(fake.requests) == 2


def test_discover_reads_the_environment(
    fake: FakeLMStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", fake.url)
    assert discover(home=tmp_path, ports=[], refresh=True).endpoint == fake.url


@pytest.mark.anyio
async def test_from_async_code_through_a_thread(fake: FakeLMStudio, tmp_path: Path) -> None:
    config = LMStudioConfig(endpoint=fake.url)
    found = await anyio.to_thread.run_sync(
        lambda: discover(config, home=tmp_path, ports=[], refresh=True)
    )
    async with LMStudioProvider(found) as provider:
        assert await provider.supports_model("qwen/qwen3-8b")
