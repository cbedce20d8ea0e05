"""``lmstudio-fake --sdk-port``: the fake also listens where LM Studio's SDKs look when they
are given no host (the five fixed ports they probe with ``GET /lmstudio-greeting``).

Other test runs on the same machine may hold some of those ports: a test takes the first one
that is free, and checks what it gets, never a port number written in advance.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import lmstudio as lms
import pytest

from fake_server import FakeLMStudio, FakeServerError
from fake_server.__main__ import SDK_DEFAULT_PORTS, main
from tests.cli.conftest import DEFAULT_IDS, get_json  # and the `run` fixture

ALSO = re.compile(r"lmstudio-fake also listening on port (\d+), where LM Studio's SDKs look")


def free_sdk_port() -> Iterator[socket.socket]:
    """A listening socket on one of the SDKs' ports this machine has free: the last one, as
    far as can be from the first free one, which ``--sdk-port`` takes in a parallel test and
    where the SDK's discovery must not meet a socket that never answers."""
    for port in reversed(SDK_DEFAULT_PORTS):
        busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            busy.bind(("127.0.0.1", port))
        except OSError:
            busy.close()
            continue
        busy.listen()
        yield busy
        busy.close()
        return
    pytest.skip(f"every port the SDKs probe is taken on this machine: {SDK_DEFAULT_PORTS}")


def test_sdk_port_taken_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    for busy in free_sdk_port():
        port = busy.getsockname()[1]
        # In this process: main() returns before it would wait for a signal.
        assert main(["--port", "0", "--sdk-port", str(port)]) == 2
        err = capsys.readouterr().err
        assert f"cannot listen on 127.0.0.1:{port}" in err
        assert "--sdk-port: LM Studio, or another fake, may be there" in err


def test_a_taken_extra_port_leaves_no_port_bound() -> None:
    for busy in free_sdk_port():
        port = busy.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            main_port = probe.getsockname()[1]
        fake = FakeLMStudio(port=main_port, extra_ports=[port])
        with pytest.raises(FakeServerError, match=f"cannot listen on 127.0.0.1:{port}: "):
            fake.start()
        with socket.socket() as again:  # the main port was let go when the extra one failed
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", main_port))


@pytest.mark.parametrize(
    ("ports", "fragment"),
    [
        ([0], "port numbers from 1 to 65535, got 0"),
        (["41343"], "port numbers from 1 to 65535, got '41343'"),
        ([41343, 41343], "lists a port twice"),
        (41343, "takes a list of port numbers"),
    ],
)
def test_extra_ports_are_checked(ports: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        FakeLMStudio(extra_ports=ports)


@pytest.mark.parametrize("value", ["1234", "0", "sdk"])
def test_sdk_port_takes_only_the_ports_the_sdks_probe(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process: the arguments are refused before anything starts.
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--sdk-port", value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--sdk-port must be one of 41343, 52993, 16141, 39414, 22931" in err
    assert "--port takes any other port" in err


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sdk_port_serves_the_fake_where_the_sdks_default_client_finds_it(run: Any) -> None:
    """``lmstudio.Client()`` with no host probes the fixed ports one after another and takes
    the first that answers the greeting: with ``--sdk-port``, the fake (the same one as on
    ``--port``: what one port receives, the other's journal shows)."""
    server = run("--port", "0", "--sdk-port")
    url = server.wait_ready()
    match = ALSO.match(server.stdout.get(timeout=10) or "")
    assert match is not None, "no second line naming the SDK port"
    port = int(match.group(1))
    assert port in SDK_DEFAULT_PORTS
    get_json(f"http://127.0.0.1:{port}", "/v1/models")
    # The SDK takes the first port whose greeting answers, and fails on one that accepts the
    # connection and never answers: with anything on an earlier port, it is not the fake's test.
    earlier = [p for p in SDK_DEFAULT_PORTS[: SDK_DEFAULT_PORTS.index(port)] if listening(p)]
    if earlier:
        server.stop()
        pytest.skip(f"something listens on 127.0.0.1:{earlier[0]}, which the SDK tries first")
    with lms.Client() as client:  # no host: the SDK's discovery
        assert [m.model_key for m in client.list_downloaded_models()] == DEFAULT_IDS
    journal = get_json(url, "/__fake__/requests")["requests"]
    assert [e["path"] for e in journal][:3] == ["/v1/models", "/lmstudio-greeting", "/system"]
    code, _, err = server.stop()
    assert code == 0, err
