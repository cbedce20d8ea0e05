"""The pytest plugin: fixtures, the ``lmstudio`` marker, ``--lmstudio-*`` options, live mode.

Wiring only: everything a fixture does is a method of ``fake_server.FakeLMStudio`` or of the
provider. Loading this module imports nothing heavy; aiohttp, faker, jsonschema and httpx
load the first time a fixture needs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Fixtures defined in their own modules, registered by being names of this plugin module.
from ._client_fixtures import lmstudio_async_openai as lmstudio_async_openai
from ._client_fixtures import lmstudio_openai as lmstudio_openai
from ._env import CLIENT_VARIABLES, SDK_TOKEN, UNSET_VARIABLES, Where
from ._marker import LMStudioMarkerWarning, marker_kwargs, unused_marker
from ._options import PROFILES as PROFILES
from ._options import Settings, add_options, resolve_settings

if TYPE_CHECKING:
    import httpx
    import lmstudio

    from fake_server import FakeLMStudio
    from pytest_lmstudio.provider import LMStudioProvider, SyncLMStudioProvider

#: Idle connections of the shared sync pool close after this, before the fake's 5 s timeout.
SHARED_KEEPALIVE_SECONDS = 2.0
FIXTURES_USING_THE_FAKE = frozenset(
    {
        "lmstudio_fake",
        "lmstudio_fake_url",
        "lmstudio_provider",
        "lmstudio_sync_provider",
        "lmstudio_env",
        "lmstudio_sdk_client",
        "lmstudio_openai",
        "lmstudio_async_openai",
    }
)
MSG_NO_LMSTUDIO = (
    "lmstudio_sdk_client needs LM Studio's Python SDK: pip install 'lmstudio>=1.5' "
    "(its websocket API is served by the fake on the same port)"
)
MSG_SDK_TOKEN_FORM = (
    "lmstudio_sdk_client: the fake requires the API token {token!r}, which LM Studio's SDKs "
    "cannot send: they take tokens in LM Studio's form only, sk-lm- then 8 letters or digits, "
    "':' and 20 more (for example sk-lm-Abc12345:Zyx9876543210abcdefG); give the fake one"
)
MSG_SDK_CANNOT_SEND_TOKEN = (
    "lmstudio_sdk_client: the fake requires an API token, and lmstudio {version} cannot send "
    "one (api_token= came in lmstudio 1.6): upgrade it, or leave the fake open"
)
#: How long live mode waits for the server at ``--lmstudio-live=URL`` to answer at all.
LIVE_PROBE_SECONDS = 2.0
MARKER_HELP = (
    "lmstudio(models=None, scenario=None, seed=None, profile=None, strict=None): configure "
    "the lmstudio_fake fixture for this test (models: ids or add_model() dicts that replace "
    "the catalog; scenario: a JSON or TOML file, relative to the test file)"
)
LIVE_MARKER_HELP = (
    "lmstudio_live: with --lmstudio-live, run against a real LM Studio (skipped when none is "
    "found); without it, run against the fake"
)


@dataclass
class _Session:
    settings: Settings
    fake: FakeLMStudio | None = None
    live_url: str | None = None
    live_error: str | None = None
    live_checked: bool = False
    extra_fakes: list[FakeLMStudio] = field(default_factory=list)
    sync_transport: httpx.HTTPTransport | None = None

    def session_fake(self) -> FakeLMStudio:
        if self.fake is None:
            from fake_server import NOT_GIVEN, FakeLMStudio

            settings = self.settings
            self.fake = FakeLMStudio(
                seed=NOT_GIVEN if settings.seed is None else settings.seed,
                profile=NOT_GIVEN if settings.profile is None else settings.profile,
                scenario=settings.scenario,
            ).start()
        return self.fake

    def shared_sync_transport(self) -> httpx.HTTPTransport:
        """The connection pool of the session's ``lmstudio_sync_provider`` fixtures.

        Each test gets a new provider (its own model cache, the fake's token of the moment),
        but they all send through this pool, so the connection to the fake outlives a test:
        opening and closing one per test was most of a test's cost. Idle connections expire
        after 2 s, before the fake's keep-alive timeout (5 s) would close them under a request.
        """
        if self.sync_transport is None:
            import httpx

            from pytest_lmstudio.provider._core import shared_ssl_context

            self.sync_transport = httpx.HTTPTransport(
                verify=shared_ssl_context(),
                trust_env=False,
                limits=httpx.Limits(keepalive_expiry=SHARED_KEEPALIVE_SECONDS),
            )
        return self.sync_transport

    def close(self) -> None:
        if self.sync_transport is not None:
            self.sync_transport.close()
            self.sync_transport = None
        if self.fake is not None:
            self.fake.close()
            self.fake = None


SESSION_KEY = pytest.StashKey[_Session]()
FAKE_KEY = pytest.StashKey["FakeLMStudio"]()
STRICT_KEY = pytest.StashKey[bool]()
#: The test's call ran to its end (passed or failed, not skipped).
RAN_KEY = pytest.StashKey[bool]()

__all__ = ["LMStudioMarkerWarning"]


# -- options ------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", LIVE_MARKER_HELP)
    settings = resolve_settings(config)
    if settings.scenario is not None:
        _check_scenario_file(settings.scenario, settings.scenario_source)
    config.stash[SESSION_KEY] = _Session(settings)


def _check_scenario_file(path: Path, source: str) -> None:
    from fake_server import ScenarioError
    from fake_server._scenario_file import read_scenario, validate_scenario

    try:
        validate_scenario(read_scenario(path), str(path))
    except ScenarioError as exc:
        raise pytest.UsageError(f"{source}: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()


# -- reporting ----------------------------------------------------------------------------
def _uses_lmstudio(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return any(name in FIXTURES_USING_THE_FAKE for name in names)


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: Path, items: Sequence[pytest.Item]
) -> list[str]:
    session = config.stash.get(SESSION_KEY, None)
    if session is None or not any(_uses_lmstudio(item) for item in items):
        return []
    settings = session.settings
    lines = []
    if settings.live is not None:
        lines.append(f"lmstudio: live {settings.live} for tests marked lmstudio_live")
    fake = session.session_fake()
    lines.append(f"lmstudio: fake {fake.url} profile={fake.profile} seed={fake.seed}")
    return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    fake = item.stash.get(FAKE_KEY, None)
    if report.when == "call":
        item.stash[RAN_KEY] = not report.skipped
    if fake is None or report.when != "call":
        return
    if report.passed and item.stash.get(STRICT_KEY, True):
        try:
            fake.check()
        except AssertionError as exc:
            report.outcome = "failed"
            report.longrepr = (
                "lmstudio strict check (turn it off with @pytest.mark.lmstudio(strict=False) "
                f"or --no-lmstudio-strict):\n{exc}"
            )
    if report.failed:
        report.sections.append(("lmstudio fake", describe_journal(fake)))


def pytest_runtest_teardown(item: pytest.Item) -> None:
    # Warned here, in a phase of the test (so -W and filterwarnings apply to it), once the
    # test has run: a fixture requested from the test body counts too.
    if item.stash.get(RAN_KEY, False):
        warning = unused_marker(item, used_the_fake=FAKE_KEY in item.stash)
        if warning is not None:
            item.warn(warning)


def describe_journal(fake: FakeLMStudio) -> str:
    """What the fake received and which rules were never used: the failure report section."""
    requests = fake.requests
    lines = [f"{fake.url} profile={fake.profile} seed={fake.seed}"]
    chaos = fake.chaos_report()
    if chaos:
        lines.append(f"{chaos} (replay: fake.chaos(..., seed=<this seed>))")
    if requests:
        lines.append(f"requests received ({len(requests)}):")
        lines += [f"  {entry.summary()}" for entry in requests[-50:]]
    else:
        lines.append("no request received")
    unused = [rule for rule in fake.rules if rule.calls == 0]
    if unused:
        lines.append("rules never used:")
        lines += [f"  #{rule.id} {rule.describe()}" for rule in unused]
    for error in fake.errors:
        lines.append(f"error inside the fake: {error.strip()}")
    return "\n".join(lines)


# -- fixtures -----------------------------------------------------------------------------
def _live_url(request: pytest.FixtureRequest) -> str | None:
    """The real LM Studio to use for this test, or None for the fake (skips when missing)."""
    session = request.config.stash[SESSION_KEY]
    if session.settings.live is None or request.node.get_closest_marker("lmstudio_live") is None:
        return None
    if not session.live_checked:
        session.live_checked = True
        if session.settings.live == "auto":
            from pytest_lmstudio.provider import ProviderError, discover

            try:
                session.live_url = discover().endpoint
            except ProviderError as exc:
                session.live_error = f"--lmstudio-live: no LM Studio found ({exc})"
        else:
            session.live_error = _unreachable(session.settings.live)
            if session.live_error is None:
                session.live_url = session.settings.live
    if session.live_url is None:
        reason = session.live_error or "--lmstudio-live: no LM Studio found"
        if session.settings.live_required:
            pytest.fail(f"{reason} (--lmstudio-live-required)", pytrace=False)
        pytest.skip(reason)
    return session.live_url


def _unreachable(url: str) -> str | None:
    """Why nothing answers at ``url`` (the live mode's server), or None when something does."""
    import httpx

    try:
        with httpx.Client(timeout=LIVE_PROBE_SECONDS, trust_env=False) as client:
            client.get(url + "/lmstudio-greeting")
    except httpx.HTTPError as exc:
        return f"--lmstudio-live: no LM Studio at {url} ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture
def lmstudio_fake(request: pytest.FixtureRequest) -> FakeLMStudio:
    """The session's fake LM Studio, reset for this test and set up by its marker."""
    session = request.config.stash[SESSION_KEY]
    if _live_url(request) is not None:
        pytest.skip("lmstudio_fake scripts the fake, which --lmstudio-live replaces")
    fake = session.session_fake()
    fake.reset()
    options = marker_kwargs(request.node)
    strict = session.settings.strict
    try:
        # The scenario first: the marker's own keywords win over what it sets.
        if options.get("scenario") is not None:
            fake.load_scenario(_test_relative(request, options["scenario"]))
        if "models" in options:
            _apply_models(fake, options["models"])
        if "seed" in options:
            fake.set_seed(options["seed"])
        if "profile" in options:
            fake.set_profile(options["profile"])
        if options.get("strict") is not None:
            strict = bool(options["strict"])
    except (ValueError, TypeError) as exc:
        raise pytest.UsageError(f"{request.node.nodeid}: @pytest.mark.lmstudio: {exc}") from None
    request.node.stash[FAKE_KEY] = fake
    request.node.stash[STRICT_KEY] = strict
    return fake


def _apply_models(fake: FakeLMStudio, models: object) -> None:
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence):
        raise TypeError("models= takes a list of model ids or add_model() keyword dicts")
    fake.clear_models()
    for model in models:
        if isinstance(model, str):
            fake.add_model(model)
        elif isinstance(model, Mapping) and isinstance(model.get("id"), str):
            fake.add_model(**model)
        else:
            raise TypeError(f"models= entries are ids or dicts with an 'id'; got {model!r}")


def _test_relative(request: pytest.FixtureRequest, name: object) -> Path:
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"scenario= takes a file path, got {name!r}")
    path = Path(name)
    if not path.is_absolute():
        here = Path(str(request.node.path)).parent / path
        path = here if here.exists() else request.config.rootpath / path
    return path


@pytest.fixture
def lmstudio_fake_url(request: pytest.FixtureRequest) -> str:
    """The URL to reach LM Studio: the fake's, or the real one in live mode."""
    live = _live_url(request)
    if live is not None:
        return live
    fake: FakeLMStudio = request.getfixturevalue("lmstudio_fake")
    return fake.url


def api_token_for(request: pytest.FixtureRequest) -> str | None:
    """The token a client wired by a fixture sends: the fake's, or in live mode
    ``LMSTUDIO_API_TOKEN`` from the environment (call after ``lmstudio_fake_url``)."""
    if _live_url(request) is None:
        token: str | None = request.node.stash[FAKE_KEY].api_token
        return token
    return os.environ.get("LMSTUDIO_API_TOKEN") or None


def _config_for(request: pytest.FixtureRequest, url: str) -> Any:
    from pytest_lmstudio.provider import LMStudioConfig

    return LMStudioConfig(endpoint=url, api_token=api_token_for(request))


@pytest.fixture
def lmstudio_sync_provider(
    request: pytest.FixtureRequest, lmstudio_fake_url: str
) -> Iterator[SyncLMStudioProvider]:
    """A ``SyncLMStudioProvider`` wired to the fake (or the live server); retries do not wait.

    A new provider for each test (a fresh model cache, the fake's token), closed at teardown;
    with the fake, its connections come from a pool the session keeps, so that a test does not
    pay for opening one.
    """
    from pytest_lmstudio.provider import SyncLMStudioProvider

    transport = None
    if _live_url(request) is None:
        transport = request.config.stash[SESSION_KEY].shared_sync_transport()
    provider = SyncLMStudioProvider(
        _config_for(request, lmstudio_fake_url), sleep=_no_wait, transport=transport
    )
    yield provider
    provider.close()


def _no_wait(seconds: float) -> None:
    return None


async def _no_wait_async(seconds: float) -> None:
    return None


@pytest.fixture
def lmstudio_provider(
    request: pytest.FixtureRequest, lmstudio_fake_url: str
) -> Iterator[LMStudioProvider]:
    """An async ``LMStudioProvider`` wired to the fake (or the live server).

    A plain fixture, so it works under pytest-asyncio (strict or auto) and anyio alike: the
    provider keeps no connection alive between requests, so nothing needs an event loop to
    close it afterwards. Retries do not wait.
    """
    from pytest_lmstudio.provider import LMStudioProvider

    provider = LMStudioProvider(
        _config_for(request, lmstudio_fake_url), sleep=_no_wait_async, keepalive=False
    )
    yield provider
    provider.close_idle()


@pytest.fixture
def lmstudio_env(
    monkeypatch: pytest.MonkeyPatch, lmstudio_fake_url: str, request: pytest.FixtureRequest
) -> dict[str, str]:
    """Point the variables that LM Studio's clients read (``pytest_lmstudio._env``: ours, the
    openai and anthropic SDKs', LiteLLM's, llm-lmstudio's) at the fake for the test, for code
    that builds its client from the environment and for subprocesses. Returns those set."""
    where = Where(lmstudio_fake_url, api_token_for(request))
    env: dict[str, str] = {}
    for row in CLIENT_VARIABLES:
        value = row.value(where)
        if value is None:
            monkeypatch.delenv(row.name, raising=False)
        else:
            monkeypatch.setenv(row.name, value)
            env[row.name] = value
    for name, _ in UNSET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture
def lmstudio_sdk_client(
    request: pytest.FixtureRequest, lmstudio_fake_url: str
) -> Iterator[lmstudio.Client]:
    """An ``lmstudio.Client`` (LM Studio's own Python SDK, websockets on the fake's port)
    connected to the fake (or the live server), with the fake's API token when auth is on;
    closed at teardown. Skips, saying why, when ``lmstudio`` is not installed."""
    try:
        import lmstudio
    except ImportError:
        pytest.skip(MSG_NO_LMSTUDIO)
    if _live_url(request) is None:
        token = request.node.stash[FAKE_KEY].api_token
    else:
        token = os.environ.get("LMSTUDIO_API_TOKEN") or None
    options: dict[str, Any] = {}
    if token is not None:
        import inspect

        if "api_token" not in inspect.signature(lmstudio.Client).parameters:
            pytest.fail(MSG_SDK_CANNOT_SEND_TOKEN.format(version=lmstudio.__version__))
        if _live_url(request) is None and not SDK_TOKEN.fullmatch(token):
            pytest.fail(MSG_SDK_TOKEN_FORM.format(token=token))
        options["api_token"] = token
    # The SDK takes "host:port", no scheme; entering checks /lmstudio-greeting as the SDK does.
    client = lmstudio.Client(lmstudio_fake_url.split("://", 1)[-1].rstrip("/"), **options)
    try:
        client.__enter__()
    except BaseException:
        client.close()
        raise
    yield client
    client.close()


@pytest.fixture
def lmstudio_fake_factory() -> Iterator[Callable[..., FakeLMStudio]]:
    """Start extra, independent fakes: ``lmstudio_fake_factory(profile="openai", ...)`` takes
    ``FakeLMStudio``'s arguments; each is closed at the end of the test."""
    from fake_server import FakeLMStudio

    started: list[FakeLMStudio] = []

    def factory(**kwargs: Any) -> FakeLMStudio:
        fake = FakeLMStudio(**kwargs).start()
        started.append(fake)
        return fake

    yield factory
    for fake in started:
        fake.close()
