"""Faults over real sockets: what a client sees for each one, scripted in Python and in
scenario files; hang and stall released by reset() and close(); seeded chaos; models that
load slowly (503 or wait) and unload when idle (TTL, with a fake clock).

Raw sockets where httpx hides the detail (no status line, a TCP reset, the bytes of garbage,
a body shorter than its Content-Length, the chunks of a split stream). Timing assertions are
lower bounds, plus a generous "did not hang" bound: the machine may be busy.
"""

from __future__ import annotations

import concurrent.futures
import errno
import itertools
import json
import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_server import FakeLMStudio, ScenarioError, ScriptError
from fake_server.transport._faults import split_points

MODEL = "qwen/qwen3-8b"
CHAT = "/v1/chat/completions"
BODY: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}
#: How long any single exchange may take before we call it a hang (a generous bound).
NO_HANG = 5.0
FIXED_CLOCK = 1_700_000_000.0


# -- raw clients --------------------------------------------------------------------------
def raw_request(path: str, body: Any = None, method: str = "POST") -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


@dataclass
class Exchange:
    """What a raw socket client received: every byte until EOF, or the error that ended it."""

    data: bytes
    error: OSError | None
    seconds: float

    @property
    def head(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[0]

    @property
    def body(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[2]

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    def header(self, name: str) -> str | None:
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def exchange(
    fake: FakeLMStudio, path: str = CHAT, body: Any = BODY, *, method: str = "POST"
) -> Exchange:
    started = time.perf_counter()
    data = b""
    error: OSError | None = None
    with socket.create_connection(("127.0.0.1", fake.port), timeout=NO_HANG) as sock:
        sock.sendall(raw_request(path, body, method))
        try:
            while part := sock.recv(65536):
                data += part
        except OSError as exc:
            error = exc
    return Exchange(data, error, time.perf_counter() - started)


def dechunk(body: bytes) -> tuple[list[bytes], bool]:
    """The chunks of a chunked body (each one write of the server), and whether it ended
    with the terminating zero chunk."""
    chunks: list[bytes] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return chunks, False
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return chunks, True
        start = end + 2
        if start + size > len(body):
            chunks.append(body[start:])
            return chunks, False
        chunks.append(body[start : start + size])
        pos = start + size + 2


def events(payload: bytes) -> list[str]:
    """The SSE events of a stream's payload (the text between blank lines)."""
    return [e for e in payload.decode().split("\n\n") if e]


def data_frames(payload: bytes) -> list[Any]:
    out: list[Any] = []
    for event in events(payload):
        assert event.startswith("data: "), event
        data = event[len("data: ") :]
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


def eventually(predicate: Callable[[], bool], seconds: float = NO_HANG) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def journal_settled(fake: FakeLMStudio, count: int = 1) -> bool:
    """The last ``count`` requests have finished (their duration is recorded)."""
    return eventually(
        lambda: (
            len(fake.requests) >= count
            and all(e.duration is not None for e in fake.requests[-count:])
        )
    )


@pytest.fixture
def pool() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture
def fake(fake_module: FakeLMStudio) -> Iterator[FakeLMStudio]:
    """The module's fake, reset; and no error inside it when the test is done."""
    fake_module.reset()
    yield fake_module
    assert fake_module.errors == []


# -- each fault, scripted in Python and in a scenario ------------------------------------
def expect_no_status_line(fake: FakeLMStudio) -> None:
    got = exchange(fake)
    assert got.data == b"" and got.error is None  # EOF before any byte
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG)


def expect_reset(fake: FakeLMStudio) -> None:
    got = exchange(fake)
    assert got.data == b""
    assert isinstance(got.error, ConnectionResetError) and got.error.errno == errno.ECONNRESET
    with pytest.raises(httpx.ReadError):
        httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG)


def expect_garbage(size: int) -> Callable[[FakeLMStudio], None]:
    def check(fake: FakeLMStudio) -> None:
        got = exchange(fake)
        assert len(got.data) == size and not got.data.startswith(b"HTTP/")
        assert got.error is None

    return check


def expect_malformed(fake: FakeLMStudio) -> None:
    got = exchange(fake)
    assert got.status == 200
    assert str(got.header("content-type")).startswith("application/json")
    assert int(got.header("content-length") or -1) == len(got.body) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(got.body)


def expect_truncated(after: int) -> Callable[[FakeLMStudio], None]:
    def check(fake: FakeLMStudio) -> None:
        got = exchange(fake)
        assert got.status == 200
        assert len(got.body) == after < int(got.header("content-length") or 0)
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
            httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG)

    return check


def expect_slow(rate: float) -> Callable[[FakeLMStudio], None]:
    def check(fake: FakeLMStudio) -> None:
        got = exchange(fake)
        length = int(got.header("content-length") or 0)
        assert got.status == 200 and len(got.body) == length
        json.loads(got.body)  # all of it, intact
        assert got.seconds >= 0.98 * length / rate
        assert got.seconds < NO_HANG

    return check


def expect_late(seconds: float, content: str | None = None) -> Callable[[FakeLMStudio], None]:
    def check(fake: FakeLMStudio) -> None:
        started = time.perf_counter()
        response = httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        if content is not None:
            assert response.json()["choices"][0]["message"]["content"] == content
        assert 0.98 * seconds <= elapsed < NO_HANG

    return check


def expect_client_timeout(fake: FakeLMStudio) -> None:
    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(fake.url + CHAT, json=BODY, timeout=0.3)
    assert 0.29 <= time.perf_counter() - started < NO_HANG
    assert eventually(lambda: fake.open_connections() == 0)  # the fake let the request go


def expect_stream(
    frames: int, *, done: bool, terminated: bool = True, error: bool = False
) -> Callable[[FakeLMStudio], None]:
    """``frames`` JSON data frames, then [DONE] or not, then the zero chunk or not."""

    def check(fake: FakeLMStudio) -> None:
        got = exchange(fake, body=STREAM_BODY)
        assert got.status == 200 and got.header("content-type") == "text/event-stream"
        chunks, ended = dechunk(got.body)
        assert ended is terminated
        payload = b"".join(chunks)
        if error:
            *payload_events, last = events(payload)
            assert last.startswith("event: error\ndata: ")
            payload = "".join(e + "\n\n" for e in payload_events).encode()
        parsed = data_frames(payload)
        assert (parsed[-1:] == ["[DONE]"]) is done
        assert len([f for f in parsed if f != "[DONE]"]) == frames

    return check


def expect_stall(fake: FakeLMStudio) -> None:
    with (
        httpx.stream("POST", fake.url + CHAT, json=STREAM_BODY, timeout=0.3) as response,
        pytest.raises(httpx.ReadTimeout),
    ):
        for _ in response.iter_lines():
            pass
    assert eventually(lambda: fake.open_connections() == 0)


@dataclass(frozen=True)
class Case:
    name: str
    script: Callable[[FakeLMStudio], object]
    rule: dict[str, Any]
    check: Callable[[FakeLMStudio], None]


CHUNKS = ["Hel", "lo", " world"]
CASES = [
    Case("drop", lambda f: f.chat.drop(), {"drop": {}}, expect_no_status_line),
    Case(
        "reset_connection",
        lambda f: f.chat.reset_connection(),
        {"reset_connection": {}},
        expect_reset,
    ),
    Case("garbage", lambda f: f.chat.garbage(16), {"garbage": {"size": 16}}, expect_garbage(16)),
    Case("garbage default size", lambda f: f.chat.garbage(), {"garbage": {}}, expect_garbage(64)),
    Case("malformed", lambda f: f.chat.malformed(), {"malformed": {}}, expect_malformed),
    Case(
        "truncate",
        lambda f: f.chat.truncate(10),
        {"truncate": {"after_bytes": 10}},
        expect_truncated(10),
    ),
    Case(
        "slow_body",
        lambda f: f.chat.slow_body(4000),
        {"slow_body": {"bytes_per_second": 4000}},
        expect_slow(4000),
    ),
    Case("delay", lambda f: f.chat.delay(0.15), {"delay": 0.15}, expect_late(0.15)),
    Case(
        "reply delay",
        lambda f: f.chat.reply("late", delay=0.15),
        {"reply": {"content": "late"}, "delay": 0.15},
        expect_late(0.15, "late"),
    ),
    Case("hang", lambda f: f.chat.hang(), {"hang": {}}, expect_client_timeout),
    Case(
        "stream drop_after",
        lambda f: f.chat.stream(CHUNKS, drop_after=2),
        {"stream": {"chunks": CHUNKS, "drop_after": 2}},
        expect_stream(2, done=False, terminated=False),
    ),
    Case(
        "stream stall_after",
        lambda f: f.chat.stream(CHUNKS, stall_after=1),
        {"stream": {"chunks": CHUNKS, "stall_after": 1}},
        expect_stall,
    ),
    Case(
        "stream error_after",
        lambda f: f.chat.stream(CHUNKS, error_after=2),
        {"stream": {"chunks": CHUNKS, "error_after": 2}},
        expect_stream(2, done=False, error=True),
    ),
    Case(
        "stream done=False",
        lambda f: f.chat.stream(CHUNKS, done=False),
        {"stream": {"chunks": CHUNKS, "done": False}},
        expect_stream(len(CHUNKS) + 1, done=False),  # the pieces and the finish chunk
    ),
    Case(
        "stream split_seed",
        lambda f: f.chat.stream(CHUNKS, split_seed=5),
        {"stream": {"chunks": CHUNKS, "split_seed": 5}},
        expect_stream(len(CHUNKS) + 1, done=True),
    ),
    Case(
        "stream jitter",
        lambda f: f.chat.stream(CHUNKS, jitter=0.02),
        {"stream": {"chunks": CHUNKS, "jitter": 0.02}},
        expect_stream(len(CHUNKS) + 1, done=True),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fault_scripted_in_python(fake: FakeLMStudio, case: Case) -> None:
    case.script(fake)
    case.check(fake)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fault_scripted_in_a_scenario(fake: FakeLMStudio, case: Case) -> None:
    fake.load_scenario({"rules": [{"route": "chat", **case.rule}]})
    (rule,) = fake.rules
    assert rule.origin == "<scenario> $.rules[0]"
    case.check(fake)


def test_faults_in_a_toml_scenario_file(tmp_path: Path) -> None:
    file = tmp_path / "faults.toml"
    file.write_text(
        'while_loading = "503"\n'
        '[chaos]\nrate = 0.5\nseed = 3\nfaults = ["drop"]\nroutes = ["embeddings"]\n'
        '[[models]]\nid = "acme/tiny-1b"\nloaded = false\nload_seconds = 0.2\nttl = 60\n'
        '[[rules]]\nroute = "chat"\ntimes = 1\n[rules.truncate]\nafter_bytes = 7\n'
        '[[rules]]\nroute = "chat"\n[rules.stream]\nchunks = ["a", "b"]\ndrop_after = 1\n'
    )
    with FakeLMStudio(scenario=file) as fake:
        assert fake.chaos_report() == "chaos rate=0.5 seed=3 faults=drop injected=0"
        assert [r.describe().split(" (scripted")[0] for r in fake.rules] == [
            "fake.chat.truncate(7) times=1",
            "fake.chat.stream(['a', 'b'], drop_after=1)",
        ]
        truncated = exchange(fake)
        assert len(truncated.body) == 7 < int(truncated.header("content-length") or 0)
        model = next(m for m in fake.catalog if m.id == "acme/tiny-1b")
        assert (model.ttl, model.load_seconds, model.loaded) == (60.0, 0.2, False)
        got = httpx.post(fake.url + CHAT, json={**BODY, "model": "acme/tiny-1b"}, timeout=NO_HANG)
        assert got.status_code == 503 and got.headers["retry-after"] == "1"


def test_a_fault_rule_takes_no_delay_in_a_scenario(fake: FakeLMStudio) -> None:
    with pytest.raises(ScenarioError, match="delay goes with"):
        fake.load_scenario({"rules": [{"route": "chat", "drop": {}, "delay": 1}]})
    assert fake.rules == []


# -- details of each fault ---------------------------------------------------------------
def test_faults_are_noted_in_the_journal_when_the_client_sees_them(fake: FakeLMStudio) -> None:
    """The note is recorded before the connection goes, so no polling is needed."""
    notes: list[tuple[int | None, str | None]] = []
    for script in (
        lambda: fake.chat.drop(),
        lambda: fake.chat.reset_connection(),
        lambda: fake.chat.garbage(8),
        lambda: fake.chat.malformed(),
        lambda: fake.chat.truncate(5),
    ):
        fake.reset()
        script()
        exchange(fake)
        (entry,) = fake.requests
        notes.append((entry.status, entry.fault))
    assert re.fullmatch(r"truncate: 5 of \d+ bytes", str(notes.pop()[1]))
    assert notes == [
        (None, "drop: closed before the status line"),
        (None, "reset_connection: TCP reset"),
        (None, "garbage: 8 random bytes"),
        (200, "malformed: 200 with a body that is not JSON"),
    ]


def test_garbage_is_seeded_by_the_fake_and_the_request() -> None:
    def garbage(seed: int, text: str) -> bytes:
        with FakeLMStudio(seed=seed) as fake:
            fake.chat.garbage(32)
            body = {**BODY, "messages": [{"role": "user", "content": text}]}
            return exchange(fake, body=body).data

    first = garbage(1, "a")
    assert garbage(1, "a") == first
    assert garbage(2, "a") != first
    assert garbage(1, "b") != first


def test_truncate_cuts_a_streamed_answer_after_that_many_bytes(fake: FakeLMStudio) -> None:
    fake.chat.truncate(300)
    got = exchange(fake, body=STREAM_BODY)
    assert got.status == 200 and got.header("transfer-encoding") == "chunked"
    chunks, ended = dechunk(got.body)
    assert not ended and len(b"".join(chunks)) == 300
    assert b"".join(chunks).startswith(b"data: {")
    with (
        httpx.stream("POST", fake.url + CHAT, json=STREAM_BODY, timeout=NO_HANG) as response,
        pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
    ):
        response.read()
    assert fake.requests[-1].fault == "truncate: the stream cut after 300 bytes"


def test_malformed_on_a_streamed_request_sends_an_event_that_is_not_json(
    fake: FakeLMStudio,
) -> None:
    fake.chat.malformed()
    got = exchange(fake, body=STREAM_BODY)
    assert got.status == 200 and got.header("content-type") == "text/event-stream"
    chunks, ended = dechunk(got.body)
    (event,) = events(b"".join(chunks))
    assert ended and event.startswith("data: {")
    with pytest.raises(json.JSONDecodeError):
        json.loads(event[len("data: ") :])
    assert fake.requests[-1].fault == "malformed: a stream event that is not JSON"


def test_slow_body_paces_a_stream_too(fake: FakeLMStudio) -> None:
    fake.chat.slow_body(20_000)
    got = exchange(fake, body=STREAM_BODY)
    chunks, ended = dechunk(got.body)
    payload = b"".join(chunks)
    assert ended and data_frames(payload)[-1] == "[DONE]"
    assert 0.98 * len(payload) / 20_000 <= got.seconds < NO_HANG
    assert journal_settled(fake)
    assert fake.requests[-1].fault == "slow_body: 20000 bytes/s"


def test_slow_body_never_runs_ahead_of_its_rate(fake: FakeLMStudio) -> None:
    """Each byte arrives no earlier than its place in the body at that rate allows."""
    fake.chat.slow_body(2000)
    arrivals: list[tuple[float, int]] = []
    with socket.create_connection(("127.0.0.1", fake.port), timeout=NO_HANG) as sock:
        started = time.perf_counter()  # before the server can have started pacing
        sock.sendall(raw_request(CHAT, BODY))
        received = b""
        while part := sock.recv(65536):
            received += part
            arrivals.append((time.perf_counter() - started, len(received)))
    head_size = received.index(b"\r\n\r\n") + 4
    for seconds, size in arrivals:
        assert seconds >= 0.98 * (size - head_size) / 2000 - 0.002


@pytest.mark.parametrize(
    "script",
    [
        lambda f: f.chat.fail(503, delay=0.15),
        lambda f: f.chat.respond({"ok": True}, validate=False, delay=0.15),
        lambda f: f.chat.raw(b"late", delay=0.15),
        lambda f: f.chat.stream(["late"], delay=0.15),
    ],
    ids=["fail", "respond", "raw", "stream"],
)
def test_every_action_takes_a_delay(fake: FakeLMStudio, script: Callable[[Any], Any]) -> None:
    rule = script(fake)
    assert rule.describe().split(" (scripted")[0].endswith("delay=0.15)")
    started = time.perf_counter()
    response = httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG)
    assert 0.147 <= time.perf_counter() - started < NO_HANG
    assert response.status_code in (200, 503)


def test_stream_jitter_is_seeded_and_each_chunk_comes_no_earlier(fake: FakeLMStudio) -> None:
    jitter = 0.08
    fake.chat.stream(["a", "b", "c", "d"], jitter=jitter)
    rng = random.Random(fake.seed)
    due = [rng.uniform(0.0, jitter) for _ in range(4)]  # the fake's seed drives the jitter
    started = time.perf_counter()
    arrivals = []
    with httpx.stream("POST", fake.url + CHAT, json=STREAM_BODY, timeout=NO_HANG) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 5  # four pieces and the finish chunk
    for index in range(4):  # sent in order: no earlier than the latest due time so far
        assert arrivals[index] >= max(due[: index + 1]) - 0.002
    assert arrivals[-1] < NO_HANG


def test_split_stream_reassembles_and_the_seed_fixes_the_splits() -> None:
    def chunks(split_seed: int | None) -> list[bytes]:
        with FakeLMStudio(clock=lambda: FIXED_CLOCK) as fake:
            fake.chat.stream(CHUNKS, split_seed=split_seed)
            got = exchange(fake, body=STREAM_BODY)
        parts, ended = dechunk(got.body)
        assert ended
        return parts

    whole = chunks(None)
    assert len(whole) == len(CHUNKS) + 2  # one write per frame, then [DONE]
    split = chunks(7)
    assert b"".join(split) == b"".join(whole)  # the same bytes, so the same frames
    assert len(split) > len(whole)
    assert chunks(7) == split
    assert [len(p) for p in chunks(8)] != [len(p) for p in split]
    # The cuts are the seed's: each frame cut where split_points(seed) says.
    rng = random.Random(7)
    expected = []
    for frame in whole:
        points = [0, *split_points(len(frame), rng), len(frame)]
        expected += [frame[a:b] for a, b in itertools.pairwise(points)]
    assert split == expected


def test_a_stall_holds_the_stream_until_reset(
    fake: FakeLMStudio, pool: concurrent.futures.ThreadPoolExecutor
) -> None:
    fake.chat.stream(CHUNKS, stall_after=2)
    received: list[str] = []

    def read() -> BaseException | None:
        try:
            with httpx.stream("POST", fake.url + CHAT, json=STREAM_BODY, timeout=30) as response:
                for line in response.iter_lines():
                    if line:
                        received.append(line)
        except httpx.HTTPError as exc:
            return exc
        return None

    future = pool.submit(read)
    assert eventually(lambda: len(received) == 2)
    time.sleep(0.2)
    assert not future.done() and len(received) == 2  # open, and nothing more comes
    assert fake.requests[-1].fault == "stream stalled after 2 chunks"
    started = time.perf_counter()
    fake.reset()
    error = future.result(timeout=3)
    assert time.perf_counter() - started < 3
    assert isinstance(error, httpx.RemoteProtocolError)


# -- hang: released at once by reset() and close() ---------------------------------------
def hanging(fake: FakeLMStudio) -> bool:
    """A request is held by a hang (picked, noted, and waiting), not merely received."""
    return any(
        (e.fault or "").endswith("hang: waiting for reset() or close()") for e in fake.requests
    )


def hung_request(
    fake: FakeLMStudio, pool: concurrent.futures.ThreadPoolExecutor, body: Any = BODY
) -> concurrent.futures.Future[BaseException | None]:
    def post() -> BaseException | None:
        try:
            httpx.post(fake.url + CHAT, json=body, timeout=30)
        except httpx.HTTPError as exc:
            return exc
        return None

    future = pool.submit(post)
    assert eventually(lambda: hanging(fake))
    time.sleep(0.1)
    assert not future.done()
    return future


@pytest.mark.parametrize("body", [BODY, STREAM_BODY], ids=["plain", "stream"])
def test_reset_releases_a_hung_request_at_once(
    fake: FakeLMStudio, pool: concurrent.futures.ThreadPoolExecutor, body: Any
) -> None:
    fake.chat.hang()
    future = hung_request(fake, pool, body)
    assert fake.requests[-1].fault == "hang: waiting for reset() or close()"
    started = time.perf_counter()
    fake.reset()
    assert time.perf_counter() - started < 3
    error = future.result(timeout=3)
    assert time.perf_counter() - started < 3
    assert isinstance(error, httpx.RemoteProtocolError)  # disconnected, no answer
    assert eventually(lambda: fake.open_connections() == 0)
    assert httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG).status_code == 200


def test_close_releases_a_hung_request_at_once(
    pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    fake = FakeLMStudio().start()
    try:
        fake.chat.hang()
        future = hung_request(fake, pool)
        started = time.perf_counter()
        fake.close()
        assert time.perf_counter() - started < 3
        error = future.result(timeout=3)
        assert isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError))
        assert fake.errors == []
    finally:
        fake.close()


def test_close_with_several_requests_hung(
    pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as many:
        fake = FakeLMStudio().start()
        try:
            fake.chat.hang()
            fake.models.hang()
            fake.chat.stream(CHUNKS, stall_after=1)  # after hang: never reached

            def get(path: str) -> BaseException | None:
                try:
                    httpx.get(fake.url + path, timeout=30)
                except httpx.HTTPError as exc:
                    return exc
                return None

            futures = [many.submit(get, "/v1/models") for _ in range(2)]
            futures.append(hung_request(fake, pool))
            assert eventually(lambda: fake.open_connections() == 3)
            started = time.perf_counter()
            fake.close()
            assert time.perf_counter() - started < 3
            for future in futures:
                assert isinstance(future.result(timeout=3), httpx.HTTPError)
        finally:
            fake.close()


@pytest.mark.anyio
async def test_reset_and_close_from_async_code_with_a_hung_request() -> None:
    import anyio
    import anyio.to_thread

    async with FakeLMStudio() as fake, httpx.AsyncClient(base_url=fake.url, timeout=30) as client:
        fake.chat.hang()
        errors: list[BaseException] = []

        async def post() -> None:
            try:
                await client.post(CHAT, json=BODY)
            except httpx.HTTPError as exc:
                errors.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(post)
                await anyio.to_thread.run_sync(eventually, lambda: hanging(fake))
                fake.reset()
            assert len(errors) == 1
            fake.chat.hang()
            async with anyio.create_task_group() as group:
                group.start_soon(post)
                await anyio.to_thread.run_sync(eventually, lambda: hanging(fake))
                await anyio.to_thread.run_sync(fake.close)
            assert len(errors) == 2


# -- times= and when() -------------------------------------------------------------------
def test_a_fault_with_times_then_the_default_answer(fake: FakeLMStudio) -> None:
    rule = fake.chat.drop(times=2)
    assert [exchange(fake).data == b"" for _ in range(3)] == [True, True, False]
    assert rule.calls == 2
    fake.check()


def test_an_unused_fault_is_reported_by_check(fake: FakeLMStudio) -> None:
    fake.chat.reset_connection(times=2)
    exchange(fake)
    with pytest.raises(AssertionError, match=r"fake\.chat\.reset_connection\(\) times=2"):
        fake.check()


def test_when_narrows_a_fault(fake: FakeLMStudio) -> None:
    fake.chat.when(contains="boom").reset_connection()
    fake.chat.when(stream=True).malformed()
    boom = {**BODY, "messages": [{"role": "user", "content": "boom"}]}
    assert isinstance(exchange(fake, body=boom).error, ConnectionResetError)
    assert exchange(fake).status == 200
    json.loads(exchange(fake).body)
    streamed = exchange(fake, body=STREAM_BODY)
    assert b"chatcmpl-malformed" in streamed.body
    assert [e.fault for e in fake.requests] == [
        "reset_connection: TCP reset",
        None,
        None,
        "malformed: a stream event that is not JSON",
    ]


# -- faults on the other routes ----------------------------------------------------------
EMBED = {"model": "text-embedding-nomic-embed-text-v1.5", "input": "hello"}
COMPLETE = {"model": MODEL, "prompt": "Once"}


def test_faults_on_the_models_route(fake: FakeLMStudio) -> None:
    fake.models.drop(times=1)
    fake.models.malformed(times=1)
    fake.models.delay(0.1, times=1)
    assert exchange(fake, "/v1/models", method="GET").data == b""
    malformed = exchange(fake, "/api/v0/models", method="GET")
    assert malformed.status == 200 and malformed.body.startswith(b'{"id":"chatcmpl-malformed"')
    late = exchange(fake, "/v1/models", method="GET")
    assert late.status == 200 and late.seconds >= 0.098
    assert json.loads(late.body)["object"] == "list"


def test_faults_on_the_embeddings_route(fake: FakeLMStudio) -> None:
    fake.embeddings.garbage(10, times=1)
    fake.embeddings.truncate(20, times=1)
    fake.embeddings.reply(embeddings=[[0.5, 0.5]], delay=0.1, times=1)
    assert len(exchange(fake, "/v1/embeddings", EMBED).data) == 10
    short = exchange(fake, "/v1/embeddings", EMBED)
    assert len(short.body) == 20 < int(short.header("content-length") or 0)
    late = exchange(fake, "/v1/embeddings", EMBED)
    assert json.loads(late.body)["data"][0]["embedding"] == [0.5, 0.5]
    assert late.seconds >= 0.098


def test_faults_on_the_completions_route(fake: FakeLMStudio) -> None:
    fake.completions.reset_connection(times=1)
    fake.completions.stream(["Once", " upon"], drop_after=1, times=1)
    fake.completions.stream(["Once", " upon"], error_after=1, times=1)
    assert isinstance(exchange(fake, "/v1/completions", COMPLETE).error, ConnectionResetError)
    streamed = {**COMPLETE, "stream": True}
    dropped = exchange(fake, "/v1/completions", streamed)
    chunks, ended = dechunk(dropped.body)
    assert not ended
    (frame,) = data_frames(b"".join(chunks))
    assert frame["choices"][0]["text"] == "Once"
    errored = exchange(fake, "/v1/completions", streamed)
    chunks, ended = dechunk(errored.body)
    assert ended and events(b"".join(chunks))[-1].startswith("event: error\ndata: ")


def test_stream_faults_only_on_streaming_routes(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="does not stream"):
        fake.embeddings.stream(["x"], drop_after=1)
    with pytest.raises(ScriptError, match="at least 1 byte"):
        fake.chat.garbage(0)
    with pytest.raises(ScriptError, match="above 0"):
        fake.chat.slow_body(0)
    with pytest.raises(ScriptError, match="non-negative integer"):
        fake.chat.stream(["x"], stall_after=-1)


def test_the_error_frame_is_lm_studios(fake: FakeLMStudio) -> None:
    fake.chat.stream(CHUNKS, error_after=1, error_message="Model crashed")
    got = exchange(fake, body=STREAM_BODY)
    chunks, _ = dechunk(got.body)
    last = events(b"".join(chunks))[-1]
    assert last == (
        'event: error\ndata: {"error":{"message":"Model crashed"},"message":"Model crashed"}'
    )


# -- chaos -------------------------------------------------------------------------------
def outcome(client: httpx.Client, path: str = CHAT, body: Any = BODY) -> str:
    try:
        response = client.post(path, json=body) if body is not None else client.get(path)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    try:
        response.json()
    except ValueError:
        return f"{response.status_code} not JSON"
    return str(response.status_code)


def chaos_run(fake: FakeLMStudio, count: int = 30) -> tuple[list[str], list[str | None]]:
    fake.journal.clear()
    limits = httpx.Limits(max_keepalive_connections=0)  # a fault never spoils the next one
    with httpx.Client(base_url=fake.url, timeout=NO_HANG, limits=limits) as client:
        outcomes = [outcome(client) for _ in range(count)]
    assert journal_settled(fake, count)
    return outcomes, [e.fault for e in fake.requests]


def test_chaos_with_the_same_seed_replays_the_same_outcomes(fake: FakeLMStudio) -> None:
    fake.chaos(0.5, seed=11)
    first, notes = chaos_run(fake)
    fake.chaos(0.5, seed=11)
    assert chaos_run(fake) == (first, notes)
    injected = [n for n in notes if n is not None]
    assert 0 < len(injected) < 30
    assert all(n.startswith("chaos (seed=11): ") for n in injected)
    assert len(set(first)) > 2  # several kinds of outcome
    assert fake.chaos_report() == (
        "chaos rate=0.5 seed=11 faults=drop,reset_connection,garbage,malformed,truncate,"
        f"delay,429,500,503 injected={len(injected)}"
    )
    fake.chaos(0.5, seed=12)
    assert chaos_run(fake)[0] != first


def test_chaos_at_rate_zero_injects_nothing(fake: FakeLMStudio) -> None:
    fake.chaos(0.7, seed=1)
    fake.chaos(0)
    assert fake.chaos_report() is None
    outcomes, notes = chaos_run(fake)
    assert set(outcomes) == {"200"} and set(notes) == {None}


def test_chaos_notes_each_fault_in_the_journal(fake: FakeLMStudio) -> None:
    fake.chaos(1.0, ["503", "truncate", "drop"], seed=4)
    outcomes, notes = chaos_run(fake, 12)
    for got, note in zip(outcomes, notes, strict=True):
        assert note is not None and note.startswith("chaos (seed=4): ")
        kind = note.split(": ")[1]
        assert kind in ("503", "truncate", "drop")
        expected = {"503": "503", "truncate": "RemoteProtocolError", "drop": "RemoteProtocolError"}
        assert got == expected[kind]
    assert {n.split(": ")[1] for n in notes if n} == {"503", "truncate", "drop"}
    late = [e for e in fake.requests if e.status == 503]
    assert late and all(e.fault == "chaos (seed=4): 503" for e in late)


def test_chaos_retry_after_and_routes(fake: FakeLMStudio) -> None:
    fake.chaos(1.0, ["429"], routes=["models"])
    assert httpx.post(fake.url + CHAT, json=BODY, timeout=NO_HANG).status_code == 200
    response = httpx.get(fake.url + "/v1/models", timeout=NO_HANG)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"


def test_chaos_spares_requests_a_rule_answers(fake: FakeLMStudio) -> None:
    fake.chaos(1.0, ["drop"])
    fake.chat.reply("scripted", times=1)
    with httpx.Client(base_url=fake.url, timeout=NO_HANG) as client:
        assert outcome(client) == "200"
        assert outcome(client) == "RemoteProtocolError"


def test_reset_restores_the_chaos_of_the_start_state() -> None:
    scenario = {"chaos": {"rate": 0.5, "seed": 21, "faults": ["500", "drop", "malformed"]}}
    with FakeLMStudio(scenario=scenario) as fake:
        first = chaos_run(fake)
        fake.reset()
        assert fake.chaos_report() == "chaos rate=0.5 seed=21 faults=500,drop,malformed injected=0"
        assert chaos_run(fake) == first
        fake.chaos(1.0, ["drop"], seed=99)  # set in a test: forgotten by reset()
        fake.reset()
        assert chaos_run(fake) == first


def test_chaos_arguments_are_checked(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError, match="from 0 to 1"):
        fake.chaos(1.5)
    with pytest.raises(ScriptError, match="non-empty list"):
        fake.chaos(0.5, ["explode"])
    with pytest.raises(ScriptError, match="chaos routes"):
        fake.chaos(0.5, routes=["greeting"])
    assert fake.chaos_report() is None


def test_chaos_hang_is_released_by_reset(
    fake: FakeLMStudio, pool: concurrent.futures.ThreadPoolExecutor
) -> None:
    fake.chaos(1.0, ["hang"], seed=2)
    future = hung_request(fake, pool)
    assert fake.requests[-1].fault == "chaos (seed=2): hang: waiting for reset() or close()"
    fake.reset()
    assert isinstance(future.result(timeout=3), httpx.RemoteProtocolError)


# -- models that load slowly, and unload when idle ---------------------------------------
def native_state(fake: FakeLMStudio, model: str) -> str:
    response = httpx.get(f"{fake.url}/api/v0/models/{model}", timeout=NO_HANG)
    return str(response.json()["state"])


def test_while_loading_503_answers_with_retry_after_then_200(fake: FakeLMStudio) -> None:
    # A second of load: room for the state check even on a busy machine.
    fake.add_model("acme/slow-1b", loaded=False, load_seconds=1.0)
    fake.set_while_loading("503")
    body = {**BODY, "model": "acme/slow-1b"}
    started = time.perf_counter()
    first = httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG)
    assert first.status_code == 503 and first.headers["retry-after"] == "1"
    assert first.json()["error"]["code"] == "model_loading"
    assert native_state(fake, "acme/slow-1b") == "loading"
    statuses = [first.status_code]
    while statuses[-1] == 503 and time.perf_counter() - started < NO_HANG:
        time.sleep(0.05)
        statuses.append(httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG).status_code)
    assert statuses[-1] == 200 and set(statuses[:-1]) == {503}
    assert time.perf_counter() - started >= 0.99
    assert native_state(fake, "acme/slow-1b") == "loaded"


def test_while_loading_wait_blocks_the_requests_until_loaded(
    fake: FakeLMStudio, pool: concurrent.futures.ThreadPoolExecutor
) -> None:
    fake.add_model("acme/slow-1b", loaded=False, load_seconds=0.3)
    fake.set_while_loading("wait")
    body = {**BODY, "model": "acme/slow-1b"}
    started = time.perf_counter()
    futures = [
        pool.submit(httpx.post, fake.url + CHAT, json=body, timeout=NO_HANG) for _ in range(2)
    ]
    assert [f.result(timeout=NO_HANG).status_code for f in futures] == [200, 200]
    assert 0.29 <= time.perf_counter() - started < NO_HANG
    assert native_state(fake, "acme/slow-1b") == "loaded"


def test_a_load_goes_on_when_the_client_gives_up(fake: FakeLMStudio) -> None:
    """As in LM Studio: a client timeout does not cancel the load, so a retry finds the model
    loading (or loaded), not a load started over."""
    fake.add_model("acme/slow-1b", loaded=False, load_seconds=0.4)
    body = {**BODY, "model": "acme/slow-1b"}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(fake.url + CHAT, json=body, timeout=0.1)
    assert native_state(fake, "acme/slow-1b") == "loading"
    assert eventually(lambda: native_state(fake, "acme/slow-1b") == "loaded")
    assert [e.path for e in fake.requests].count(CHAT) == 1  # loaded without another request


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_CLOCK

    def __call__(self) -> float:
        return self.now


def test_idle_ttl_unloads_a_model_on_the_fake_clock() -> None:
    clock = Clock()
    with FakeLMStudio(clock=clock, jit=False) as fake:
        fake.clear_models()
        fake.add_model("acme/tiny-1b", ttl=60)
        body = {**BODY, "model": "acme/tiny-1b"}
        clock.now += 59
        assert native_state(fake, "acme/tiny-1b") == "loaded"
        assert httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG).status_code == 200
        clock.now += 59  # the request restarted the idle time
        assert native_state(fake, "acme/tiny-1b") == "loaded"
        clock.now += 2
        assert native_state(fake, "acme/tiny-1b") == "not-loaded"
        refused = httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG)
        assert refused.status_code == 400
        assert refused.json()["error"].startswith("No models loaded")
        fake.set_jit(True)  # JIT loads it again on request
        assert httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG).status_code == 200
        assert native_state(fake, "acme/tiny-1b") == "loaded"


def test_a_jit_load_takes_the_requests_ttl_or_an_hour() -> None:
    clock = Clock()
    with FakeLMStudio(clock=clock) as fake:
        fake.add_model("acme/a-1b", loaded=False)
        body = {**BODY, "model": "acme/a-1b", "ttl": 30}
        assert httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG).status_code == 200
        clock.now += 31
        assert native_state(fake, "acme/a-1b") == "not-loaded"
        body = {**BODY, "model": "acme/a-1b"}
        assert httpx.post(fake.url + CHAT, json=body, timeout=NO_HANG).status_code == 200
        clock.now += 3599  # a JIT load without a ttl: LM Studio's hour
        assert native_state(fake, "acme/a-1b") == "loaded"
        clock.now += 2
        assert native_state(fake, "acme/a-1b") == "not-loaded"
