"""The provider under every fault the fake scripts: one table, run for ``complete`` and
``stream``, with the async provider (asyncio) and the blocking one.

Each row says what the caller gets (the error class, or success), how long it may take (the
configured timeout for each attempt that times out, asserted loosely: a lower bound, and a
generous margin above), how many requests reach the fake (retries included), the chunks a
stream hands out before it fails, and that no connection is left open: a connection the
provider found broken or gave up on is closed at once, every other one when the provider
is closed. Retries never sleep here: ``sleep`` is injected and records the waits.

The policy these rows pin down (the README's "Testing failure modes" has it for users):

- No usable answer head (refused, dropped, reset, garbage, no head within the timeout):
  retried; then ``NetworkError`` (``ProviderTimeoutError`` for a timeout).
- 429 / 502 / 503 / 504: retried after ``Retry-After``; then ``RateLimitError`` / ``ApiError``.
- An answer that breaks off after its head (truncated): ``NetworkError``, not retried; a whole
  answer slower than the timeout: ``ProviderTimeoutError``, not retried.
- An answer that is not LM Studio's (not JSON, an SSE ``event: error``, a 500): ``ApiError``,
  not retried: asking again gets the same answer.
- A stream is retried only before its first chunk. After it, it raises, and the stream's
  ``received`` keeps the chunks it handed out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import pytest

from fake_server import FakeLMStudio
from pytest_lmstudio import (
    ApiError,
    CompletionRequest,
    LMStudioConfig,
    LMStudioProvider,
    Message,
    NetworkError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StreamChunk,
    SyncLMStudioProvider,
)

TIMEOUT = 0.5
RETRIES = 2
ATTEMPTS = RETRIES + 1
#: Above each row's expected time: a busy machine is slow, never early.
MARGIN = 1.0
#: No row may take longer than this, whatever goes wrong.
HANG_LIMIT = 10.0
CHAT = "/v1/chat/completions"
MODEL = "qwen/qwen3-8b"
SLOW_MODEL = "acme/slow-1b"
CHUNKS = ["Hel", "lo", " wor", "ld"]
ERROR_MESSAGE = "Model crashed"


@dataclass(frozen=True)
class Expect:
    """What the caller gets: ``error`` (None: success) with ``attrs``, after ``requests``
    requests, in at least ``seconds`` (and less than ``seconds + MARGIN``); for a stream, the
    ``chunks`` handed out (an exact count, or at least one with ``some_chunks``)."""

    error: type[ProviderError] | None
    requests: int
    seconds: float = 0.0
    chunks: int | None = None
    some_chunks: bool = False
    content: str | None = None
    sleeps: tuple[float, ...] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def ok(requests: int = 1, seconds: float = 0.0, **kwargs: Any) -> Expect:
    return Expect(None, requests, seconds, **kwargs)


def fails(error: type[ProviderError], requests: int, seconds: float = 0.0, **kwargs: Any) -> Expect:
    return Expect(error, requests, seconds, **kwargs)


def timed_out(attempts: int, **kwargs: Any) -> Expect:
    """Each attempt waits the whole timeout."""
    return fails(ProviderTimeoutError, attempts, attempts * TIMEOUT, **kwargs)


BACKOFF = (0.5, 1.0)  # 0.5 s doubling, no jitter (random is injected as 0)
WHOLE = "".join(CHUNKS)


@dataclass(frozen=True)
class Row:
    line: str  # the line that scripts the fault, as a user writes it
    script: Callable[[FakeLMStudio], object]
    complete: Expect
    stream: Expect
    model: str = MODEL
    nap: float = 0.0  # the injected sleep really sleeps this long (a load finishing meanwhile)


def slow_model(load_seconds: float, while_loading: str = "wait") -> Callable[[FakeLMStudio], None]:
    def script(fake: FakeLMStudio) -> None:
        fake.add_model(SLOW_MODEL, loaded=False, load_seconds=load_seconds)
        fake.set_while_loading(while_loading)

    return script


ROWS = [
    Row("fake.chat.delay(0.1)", lambda f: f.chat.delay(0.1), ok(seconds=0.1), ok(seconds=0.1)),
    Row("fake.chat.delay(5)", lambda f: f.chat.delay(5), timed_out(ATTEMPTS), timed_out(ATTEMPTS)),
    Row("fake.chat.hang()", lambda f: f.chat.hang(), timed_out(ATTEMPTS), timed_out(ATTEMPTS)),
    Row(
        "fake.chat.drop()",
        lambda f: f.chat.drop(),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
    ),
    Row(
        "fake.chat.reset_connection()",
        lambda f: f.chat.reset_connection(),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
    ),
    Row(
        "fake.chat.garbage()",
        lambda f: f.chat.garbage(),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
        fails(NetworkError, ATTEMPTS, sleeps=BACKOFF),
    ),
    Row(
        "fake.chat.malformed()",
        lambda f: f.chat.malformed(),
        fails(ApiError, 1, attrs={"status_code": 200}),
        fails(ApiError, 1, chunks=0, attrs={"status_code": 200}),
    ),
    Row(
        "fake.chat.truncate(20)",
        lambda f: f.chat.truncate(20),
        fails(NetworkError, 1),  # after the head: not retried
        fails(NetworkError, ATTEMPTS, chunks=0),  # inside the first event: retried
    ),
    Row(
        "fake.chat.truncate(800)",
        lambda f: f.chat.truncate(800),
        ok(),  # the whole answer is shorter than 800 bytes
        fails(NetworkError, 1, some_chunks=True),
    ),
    Row("fake.chat.slow_body(100_000)", lambda f: f.chat.slow_body(100_000), ok(), ok()),
    Row(
        "fake.chat.slow_body(200)",
        lambda f: f.chat.slow_body(200),
        timed_out(1),  # bytes keep coming, but the whole answer is late: not retried
        timed_out(ATTEMPTS, chunks=0),  # no chunk within the timeout: retried
    ),
    Row(
        "fake.chat.fail(429, retry_after=1)",
        lambda f: f.chat.fail(429, retry_after=1),
        fails(RateLimitError, ATTEMPTS, sleeps=(1.0, 1.0), attrs={"retry_after": 1.0}),
        fails(RateLimitError, ATTEMPTS, sleeps=(1.0, 1.0), attrs={"retry_after": 1.0}),
    ),
    Row(
        "fake.chat.fail(503, retry_after=1)",
        lambda f: f.chat.fail(503, retry_after=1),
        fails(ApiError, ATTEMPTS, sleeps=(1.0, 1.0), attrs={"status_code": 503}),
        fails(ApiError, ATTEMPTS, sleeps=(1.0, 1.0), attrs={"status_code": 503}),
    ),
    Row(
        "fake.chat.fail(503, times=2)",
        lambda f: f.chat.fail(503, times=2),
        ok(ATTEMPTS, sleeps=BACKOFF),
        ok(ATTEMPTS, sleeps=BACKOFF),
    ),
    Row(
        "fake.chat.fail(500)",
        lambda f: f.chat.fail(500),
        fails(ApiError, 1, attrs={"status_code": 500}),
        fails(ApiError, 1, attrs={"status_code": 500}),
    ),
    Row(
        "fake.chat.drop(times=1)",
        lambda f: f.chat.drop(times=1),
        ok(2, sleeps=(0.5,)),
        ok(2, sleeps=(0.5,)),
    ),
    Row(
        "fake.chat.stream(chunks, drop_after=2)",
        lambda f: f.chat.stream(CHUNKS, drop_after=2),
        ok(content=WHOLE),  # a plain request gets the chunks joined
        fails(NetworkError, 1, chunks=2),
    ),
    Row(
        "fake.chat.stream(chunks, drop_after=0)",
        lambda f: f.chat.stream(CHUNKS, drop_after=0),
        ok(content=WHOLE),
        fails(NetworkError, ATTEMPTS, chunks=0, sleeps=BACKOFF),
    ),
    Row(
        "fake.chat.stream(chunks, stall_after=2)",
        lambda f: f.chat.stream(CHUNKS, stall_after=2),
        ok(content=WHOLE),
        timed_out(1, chunks=2),
    ),
    Row(
        "fake.chat.stream(chunks, stall_after=0)",
        lambda f: f.chat.stream(CHUNKS, stall_after=0),
        ok(content=WHOLE),
        timed_out(ATTEMPTS, chunks=0),
    ),
    Row(
        "fake.chat.stream(chunks, error_after=2)",
        lambda f: f.chat.stream(CHUNKS, error_after=2, error_message=ERROR_MESSAGE),
        ok(content=WHOLE),
        fails(ApiError, 1, chunks=2, attrs={"server_message": ERROR_MESSAGE}),
    ),
    Row(
        "fake.chat.stream(chunks, error_after=0)",
        lambda f: f.chat.stream(CHUNKS, error_after=0, error_message=ERROR_MESSAGE),
        ok(content=WHOLE),
        fails(ApiError, 1, chunks=0, attrs={"server_message": ERROR_MESSAGE}),
    ),
    Row(
        "fake.chat.stream(chunks, done=False)",
        lambda f: f.chat.stream(CHUNKS, done=False),
        ok(content=WHOLE),
        ok(content=WHOLE),
    ),
    Row(
        "fake.chat.stream(chunks, split_seed=3)",
        lambda f: f.chat.stream(CHUNKS, split_seed=3),
        ok(content=WHOLE),
        ok(content=WHOLE),
    ),
    Row(
        "fake.chat.stream(chunks, interval=0.02, jitter=0.05)",
        lambda f: f.chat.stream(CHUNKS, interval=0.02, jitter=0.05),
        ok(content=WHOLE),
        ok(seconds=0.06, content=WHOLE),
    ),
    Row(
        "fake.chat.stream(chunks, ttft=5)",
        lambda f: f.chat.stream(CHUNKS, ttft=5),
        ok(content=WHOLE),  # ttft and interval pace streams only
        timed_out(ATTEMPTS, chunks=0),
    ),
    Row(
        "fake.chat.stream(chunks, interval=5)",
        lambda f: f.chat.stream(CHUNKS, interval=5),
        ok(content=WHOLE),
        timed_out(1, chunks=1),
    ),
    Row(
        "fake.add_model(id, loaded=False, load_seconds=0.8)",
        slow_model(0.8),
        ok(2, seconds=0.8),  # the first attempt times out; the load goes on; the retry waits
        ok(2, seconds=0.8),
        model=SLOW_MODEL,
    ),
    Row(
        "fake.add_model(id, loaded=False, load_seconds=30)",
        slow_model(30),
        timed_out(ATTEMPTS),
        timed_out(ATTEMPTS),
        model=SLOW_MODEL,
    ),
    Row(
        'fake.set_while_loading("503"), load_seconds=0.2',
        slow_model(0.2, "503"),
        ok(2, sleeps=(1.0,)),
        ok(2, sleeps=(1.0,)),
        model=SLOW_MODEL,
        nap=0.3,
    ),
    Row(
        'fake.set_while_loading("503"), load_seconds=30',
        slow_model(30, "503"),
        fails(ApiError, ATTEMPTS, attrs={"status_code": 503, "code": "model_loading"}),
        fails(ApiError, ATTEMPTS, attrs={"status_code": 503, "code": "model_loading"}),
        model=SLOW_MODEL,
    ),
]


@dataclass
class Outcome:
    error: ProviderError | None = None
    seconds: float = 0.0
    content: str = ""
    chunks: list[StreamChunk] = field(default_factory=list)
    received: tuple[StreamChunk, ...] = ()
    sleeps: list[float] = field(default_factory=list)
    open_after_error: int = 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake(fake_module: FakeLMStudio) -> Iterator[FakeLMStudio]:
    fake_module.reset()
    yield fake_module
    fake_module.reset()  # releases anything still held (a hang, a stall)


def config(fake: FakeLMStudio) -> LMStudioConfig:
    return LMStudioConfig(endpoint=fake.url, timeout_seconds=TIMEOUT, max_retries=RETRIES)


def request(row: Row) -> CompletionRequest:
    return CompletionRequest(model=row.model, messages=[Message.user("Hi")])


def wait_closed(fake: FakeLMStudio, seconds: float = 3.0) -> int:
    """Open connections once they are all closed, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (count := fake.open_connections()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return count


def case_id(value: object) -> str:
    return value.line if isinstance(value, Row) else str(value)


async def run_async(fake: FakeLMStudio, row: Row, mode: str) -> Outcome:
    out = Outcome()

    async def sleep(seconds: float) -> None:
        out.sleeps.append(seconds)
        await anyio.sleep(row.nap)

    provider = LMStudioProvider(config(fake), sleep=sleep, random=lambda: 0.0)
    started = time.perf_counter()
    try:
        with anyio.fail_after(HANG_LIMIT):
            if mode == "complete":
                out.content = (await provider.complete(request(row))).content
            else:
                stream = provider.stream(request(row))
                try:
                    async for chunk in stream:
                        out.chunks.append(chunk)
                finally:
                    out.received = stream.received
                out.content = "".join(c.content for c in out.chunks)
    except ProviderError as error:
        out.error = error
    finally:
        out.seconds = time.perf_counter() - started
        if isinstance(out.error, NetworkError):  # the provider dropped that connection itself
            out.open_after_error = await anyio.to_thread.run_sync(wait_closed, fake)
        await provider.aclose()
    return out


def run_sync(fake: FakeLMStudio, row: Row, mode: str) -> Outcome:
    out = Outcome()

    def sleep(seconds: float) -> None:
        out.sleeps.append(seconds)
        time.sleep(row.nap)

    provider = SyncLMStudioProvider(config(fake), sleep=sleep, random=lambda: 0.0)
    started = time.perf_counter()
    try:
        if mode == "complete":
            out.content = provider.complete(request(row)).content
        else:
            stream = provider.stream(request(row))
            try:
                for chunk in stream:
                    out.chunks.append(chunk)
            finally:
                out.received = stream.received
            out.content = "".join(c.content for c in out.chunks)
    except ProviderError as error:
        out.error = error
    finally:
        out.seconds = time.perf_counter() - started
        if isinstance(out.error, NetworkError):
            out.open_after_error = wait_closed(fake)
        provider.close()
    return out


def check(fake: FakeLMStudio, row: Row, mode: str, out: Outcome) -> None:
    expect = row.complete if mode == "complete" else row.stream
    if expect.error is None:
        assert out.error is None, f"{row.line}: {out.error!r}"
        assert out.content
        if expect.content is not None:
            assert out.content == expect.content
    else:
        assert type(out.error) is expect.error, f"{row.line}: {out.error!r}"
        for name, value in expect.attrs.items():
            assert getattr(out.error, name) == value, name
        assert out.open_after_error == 0, "a broken connection was left open"
    requests = [e for e in fake.requests if e.path == CHAT]
    assert len(requests) == expect.requests, [e.summary() for e in requests]
    assert out.seconds >= 0.95 * expect.seconds
    assert out.seconds < expect.seconds + MARGIN, f"took {out.seconds:.2f} s"
    if expect.sleeps is not None:
        assert tuple(out.sleeps) == expect.sleeps
    if mode == "stream":
        assert out.received == tuple(out.chunks)  # what the caller got, kept on the stream
        if expect.chunks is not None:
            assert len([c for c in out.chunks if c.content]) == expect.chunks
        if expect.some_chunks:
            assert out.chunks
    assert wait_closed(fake) == 0, "a connection outlived the provider"
    assert fake.errors == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["complete", "stream"])
@pytest.mark.parametrize("row", ROWS, ids=case_id)
async def test_async_provider_under_fault(fake: FakeLMStudio, row: Row, mode: str) -> None:
    row.script(fake)
    check(fake, row, mode, await run_async(fake, row, mode))


@pytest.mark.parametrize("mode", ["complete", "stream"])
@pytest.mark.parametrize("row", ROWS, ids=case_id)
def test_sync_provider_under_fault(fake: FakeLMStudio, row: Row, mode: str) -> None:
    row.script(fake)
    check(fake, row, mode, run_sync(fake, row, mode))


# -- beyond the table ---------------------------------------------------------------------
def test_the_chunks_before_an_error_stay_on_the_stream(fake: FakeLMStudio) -> None:
    fake.chat.stream(CHUNKS, drop_after=2)
    with SyncLMStudioProvider(config(fake), sleep=lambda _: None) as provider:
        stream = provider.stream(CompletionRequest(model=MODEL, messages=[Message.user("Hi")]))
        with pytest.raises(NetworkError, match="connection broke"):
            [chunk.content for chunk in stream]  # the list is lost with the exception...
        assert "".join(c.content for c in stream.received) == "Hello"  # ...not the chunks
        assert list(stream) == []  # and the stream is over


@pytest.mark.anyio
async def test_received_on_the_async_stream(fake: FakeLMStudio) -> None:
    fake.chat.stream(CHUNKS, error_after=3, error_message=ERROR_MESSAGE)
    async with LMStudioProvider(config(fake)) as provider:
        stream = provider.stream(CompletionRequest(model=MODEL, messages=[Message.user("Hi")]))
        assert stream.received == ()
        with pytest.raises(ApiError, match=ERROR_MESSAGE):
            async with stream:
                async for _ in stream:
                    pass
        assert [c.content for c in stream.received] == ["Hel", "lo", " wor"]


def test_a_slow_caller_is_not_a_slow_server(fake: FakeLMStudio) -> None:
    """The stream's timeout counts the time spent waiting on the server, not the time the
    caller takes between two chunks."""
    fake.chat.stream(CHUNKS, interval=0.05)
    with SyncLMStudioProvider(config(fake)) as provider:
        got = []
        for chunk in provider.stream(request(ROWS[0])):
            got.append(chunk.content)
            if len(got) == 1:
                time.sleep(TIMEOUT + 0.2)
    assert "".join(got) == WHOLE


@pytest.mark.parametrize(
    ("script", "call", "error", "requests"),
    [
        (lambda f: f.models.drop(), "list_models", NetworkError, ATTEMPTS),
        (lambda f: f.models.malformed(), "list_models", ApiError, 1),
        (lambda f: f.models.fail(503, retry_after=1, times=1), "list_models", None, 2),
        (lambda f: f.embeddings.truncate(5), "embed", NetworkError, 1),
        (lambda f: f.embeddings.reset_connection(times=2), "embed", None, ATTEMPTS),
        (lambda f: f.embeddings.garbage(), "embed", NetworkError, ATTEMPTS),
    ],
    ids=[
        "models.drop",
        "models.malformed",
        "models.fail(503) once",
        "embeddings.truncate",
        "embeddings.reset_connection twice",
        "embeddings.garbage",
    ],
)
def test_faults_on_models_and_embeddings(
    fake: FakeLMStudio,
    script: Callable[[FakeLMStudio], object],
    call: str,
    error: type[ProviderError] | None,
    requests: int,
) -> None:
    script(fake)
    path = "/v1/models" if call == "list_models" else "/v1/embeddings"
    with SyncLMStudioProvider(config(fake), sleep=lambda _: None) as provider:
        try:
            if call == "list_models":
                provider.list_models()
            else:
                provider.embed("text-embedding-nomic-embed-text-v1.5", ["a", "b"])
        except ProviderError as exc:
            assert type(exc) is error
        else:
            assert error is None
    assert len([e for e in fake.requests if e.path == path]) == requests
    assert wait_closed(fake) == 0


def test_chaos_replays_the_same_provider_outcomes(fake: FakeLMStudio) -> None:
    """A seeded chaos run is the same run again: outcomes and retries."""

    def run() -> list[str]:
        outcomes = []
        with SyncLMStudioProvider(config(fake), sleep=lambda _: None) as provider:
            for _ in range(15):
                try:
                    provider.complete(request(ROWS[0]))
                    outcomes.append("ok")
                except ProviderError as exc:
                    outcomes.append(type(exc).__name__)
        outcomes.append(str(len(fake.requests)))
        return outcomes

    fake.chaos(0.4, ["drop", "malformed", "503", "truncate"], seed=5)
    first = run()
    fake.reset()
    fake.chaos(0.4, ["drop", "malformed", "503", "truncate"], seed=5)
    assert run() == first
    assert "ok" in first and len(set(first)) > 2
