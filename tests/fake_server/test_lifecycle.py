"""Starting, closing and resetting the fake; sync and async use."""

from __future__ import annotations

import re
import socket
import threading
import time

import anyio
import httpx
import pytest

from fake_server import FakeLMStudio, FakeServerError


def test_url_is_loopback_with_a_free_port() -> None:
    with FakeLMStudio() as fake:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.url)
        assert fake.base_url == f"{fake.url}/v1"
        assert httpx.get(f"{fake.url}/lmstudio-greeting").json() == {"lmstudio": True}


def test_start_and_close_twice_are_harmless() -> None:
    fake = FakeLMStudio()
    assert fake.start() is fake
    url = fake.url
    fake.start()
    assert fake.url == url
    fake.close()
    fake.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/models")
    with pytest.raises(FakeServerError, match="closed"):
        fake.start()


def test_close_without_start() -> None:
    FakeLMStudio().close()


def test_url_before_start_says_how_to_start() -> None:
    with pytest.raises(FakeServerError, match="with FakeLMStudio"):
        _ = FakeLMStudio().url


def test_close_does_not_wait_for_a_request_in_flight() -> None:
    fake = FakeLMStudio().start()
    fake.chat.stream(["never"], ttft=60)
    errors: list[BaseException] = []

    def client() -> None:
        body = {
            "model": "qwen/qwen3-8b",
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
        }
        try:
            httpx.post(f"{fake.url}/v1/chat/completions", json=body, timeout=30).read()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.close()
    assert time.monotonic() - started < 5  # loose bound: the stream alone would take 60 s
    thread.join(10)
    assert not thread.is_alive()


def test_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        FakeLMStudio(host="0.0.0.0")


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fake = FakeLMStudio(port=port)
        with pytest.raises(FakeServerError, match=f"cannot listen on 127.0.0.1:{port}"):
            fake.start()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "azure"}, "lmstudio, openai"),
        ({"seed": -1}, "non-negative"),
        ({"port": 70000}, "0 to 65535"),
        ({"api_token": "has space"}, "without spaces"),
        ({"max_body_bytes": 10}, "at least 1024"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeLMStudio(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_with_under_asyncio_and_trio(backend: str) -> None:
    async def main() -> str:
        async with FakeLMStudio() as fake, httpx.AsyncClient(base_url=fake.url) as client:
            response = await client.get("/v1/models")
            return str(response.json()["object"])

    assert anyio.run(main, backend=backend) == "list"


def test_repr_says_where_it_serves() -> None:
    fake = FakeLMStudio(seed=3)
    assert "not serving" in repr(fake)
    with fake:
        assert fake.url in repr(fake) and "seed=3" in repr(fake)


def test_explicit_arguments_win_over_the_scenario_and_survive_reset() -> None:
    scenario = {"seed": 3, "api_token": "from-scenario", "jit": False, "profile": "openai"}
    with FakeLMStudio(scenario=scenario, seed=9, api_token=None) as fake:
        for _ in range(2):
            assert (fake.seed, fake.api_token, fake.jit, fake.profile) == (9, None, False, "openai")
            fake.reset()


def test_localhost_binds_one_loopback_address() -> None:
    with FakeLMStudio(host="localhost") as fake:
        assert fake.url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{fake.url}/lmstudio-greeting").status_code == 200


def test_open_connections_counts_client_connections() -> None:
    with FakeLMStudio() as fake:
        assert fake.open_connections() == 0
        client = httpx.Client(base_url=fake.url)
        client.get("/v1/models")
        assert fake.open_connections() == 1
        client.close()
        deadline = time.monotonic() + 5
        while fake.open_connections() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.open_connections() == 0
