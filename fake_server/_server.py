"""``FakeLMStudio``: the fake server as a plain class, running in its own thread and loop."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ._catalog import (
    DEFAULT_CONTEXT_LENGTH,
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_QUANTIZATION,
    Catalog,
    Model,
    ModelType,
    default_models,
    new_model,
)
from ._download_script import DownloadScript
from ._errors import FakeCheckError, FakeServerError, ScriptError
from ._journal import (
    DEFAULT_BODY_LIMIT,
    DEFAULT_JOURNAL_BYTES,
    DEFAULT_JOURNAL_LIMIT,
    DEFAULT_WAIT_SECONDS,
    Journal,
    RecordedRequest,
    wait_failure,
    wait_problem,
)
from ._scenario import apply_scenario
from ._scenario_file import read_scenario
from ._script import RouteScript
from ._script_checks import check_rule_model
from ._server_settings import FakeSettings
from ._settings import (
    NOT_GIVEN,
    NotGiven,
    check_extra_ports,
    check_listening,
    check_profile,
    check_reasoning_format,
    check_seed,
    check_token,
)
from .dialects import rule_problems
from .engine import Engine, Rule, State
from .transport import DEFAULT_BODY_TIMEOUT_SECONDS, LOOPBACK_HOSTS, ServerThread, ShellSettings

#: Larger bodies get a 413. Big enough for a few base64 images.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

DEFAULT_PROFILE = "lmstudio"
#: A test waiting longer than this for requests is a test that hangs.
MAX_WAIT_SECONDS = 600.0

__all__ = ["DEFAULT_MAX_BODY_BYTES", "NOT_GIVEN", "FakeLMStudio"]


class FakeLMStudio(FakeSettings):
    """A fake LM Studio server on 127.0.0.1, scriptable from the test's thread.

    ``with FakeLMStudio() as fake:`` starts it on a free port (``fake.url``) in a background
    thread with its own event loop; ``async with`` works too. ``reset()`` restores the state
    it was created with (catalog, settings) and forgets rules, journal and errors, without a
    restart. ``close()`` is idempotent and does not wait for requests still in flight.
    ``extra_ports`` serve the same doors too (the ports LM Studio's SDKs probe, for discovery).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | NotGiven = NOT_GIVEN,
        profile: str | NotGiven = NOT_GIVEN,
        jit: bool | NotGiven = NOT_GIVEN,
        api_token: str | NotGiven | None = NOT_GIVEN,
        models: Sequence[Model] | None = None,
        validate: bool = True,
        cors: bool = False,
        single_loaded_fallback: bool | NotGiven = NOT_GIVEN,
        auto_evict: bool | NotGiven = NOT_GIVEN,
        reasoning_format: str | NotGiven | None = NOT_GIVEN,
        clock: Callable[[], float] | None = None,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS,
        allow_remote: bool | Sequence[str] = False,
        scenario: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        on_request: Callable[[RecordedRequest], None] | None = None,
        extra_ports: Sequence[int] = (),
    ) -> None:
        check_listening(host, port, allow_remote, max_body_bytes, body_timeout)
        # "localhost" may resolve to 127.0.0.1 and ::1, which port 0 would bind on two ports.
        self._host = "127.0.0.1" if host == "localhost" else host
        self._port = port
        initial = State(
            catalog=Catalog(m.copy() for m in (default_models() if models is None else models)),
            profile=check_profile(DEFAULT_PROFILE if isinstance(profile, NotGiven) else profile),
            seed=check_seed(0 if isinstance(seed, NotGiven) else seed),
            jit=True if isinstance(jit, NotGiven) else bool(jit),
            api_token=None if isinstance(api_token, NotGiven) else check_token(api_token),
            validate=bool(validate),
            cors=bool(cors),
            single_loaded_fallback=single_loaded_fallback is True,
            auto_evict=auto_evict is not False,
            reasoning_format=None
            if isinstance(reasoning_format, NotGiven)
            else check_reasoning_format(reasoning_format),
            clock=clock or time.time,
        )
        journal = Journal(
            journal_limit,
            max_bytes=journal_bytes,
            body_limit=min(DEFAULT_BODY_LIMIT, journal_bytes),
        )
        self._engine = Engine(initial, journal, on_request)
        self._lock = self._engine.lock
        # The admin API answers requests addressed to these host names only (DNS rebinding).
        names = () if isinstance(allow_remote, bool) else tuple(allow_remote)
        remote = (self._host,) if allow_remote else ()
        settings = ShellSettings(
            max_body_bytes,
            float(body_timeout),
            LOOPBACK_HOSTS | {n.lower() for n in (*names, *remote)},
            check_extra_ports(extra_ports, port),
        )
        self._server = ServerThread(self._engine, self, self._host, port, settings)
        self.chat = RouteScript(self, "chat")
        self.completions = RouteScript(self, "completions")
        self.embeddings = RouteScript(self, "embeddings")
        self.models = RouteScript(self, "models")
        self.downloads = DownloadScript(self._engine)
        if scenario is not None:
            # Explicit arguments win over the scenario's settings (as flags over a file).
            self.load_scenario(scenario)
            overrides: dict[Callable[[Any], None], object] = {
                self.set_seed: seed,
                self.set_profile: profile,
                self.set_jit: jit,
                self.require_api_token: api_token,
                self.set_single_loaded_fallback: single_loaded_fallback,
                self.set_auto_evict: auto_evict,
                self.set_reasoning_format: reasoning_format,
            }
            for setter, value in overrides.items():
                if not isinstance(value, NotGiven):
                    setter(value)
            self._engine.initial = self._engine.state.copy()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeLMStudio:
        """Start serving (once; later calls do nothing). Returns the fake."""
        self._server.start()
        return self

    def close(self) -> None:
        """Stop serving. Idempotent; requests still in flight are cancelled, not awaited."""
        self._server.close()

    def __enter__(self) -> FakeLMStudio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> FakeLMStudio:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.close)

    def __repr__(self) -> str:
        serving = self._server.bound_port is not None and not self._server.closed
        where = self.url if serving else "not serving"
        return f"<FakeLMStudio {where} profile={self._state.profile.name} seed={self._state.seed}>"

    def open_connections(self) -> int:
        """How many client connections are open now (0 once every client has closed its own:
        how tests check that a client leaves nothing behind)."""
        return self._server.open_connections()

    # -- addresses ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        port = self._server.bound_port
        if port is None:
            raise FakeServerError("the fake is not started; use `with FakeLMStudio() as fake:`")
        return port

    @property
    def url(self) -> str:
        """The base URL, like ``http://127.0.0.1:54321`` (no ``/v1``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``<url>/v1``, for ``openai.OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the state the fake was created with: its catalog and settings, no rules,
        an empty journal, no recorded errors."""
        self._engine.reset()
        self._server.release_held()

    # -- models ---------------------------------------------------------------------------
    def add_model(
        self,
        id: str,
        type: ModelType = "llm",
        *,
        context_length: int = DEFAULT_CONTEXT_LENGTH,
        loaded: bool = True,
        capabilities: Sequence[str] | None = None,
        quantization: str = DEFAULT_QUANTIZATION,
        publisher: str | None = None,
        arch: str | None = None,
        compatibility_type: str = "gguf",
        loaded_context_length: int | None = None,
        load_seconds: float = 0.0,
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
        ttl: float | None = None,
        reasoning: bool = False,
    ) -> Model:
        """Add (or replace) a downloaded model. ``loaded=False`` makes JIT load it on the
        first request, taking ``load_seconds``; ``reasoning=True`` makes it a reasoning
        model (its default answers carry reasoning)."""
        try:
            model = new_model(
                id,
                type,
                context_length=context_length,
                loaded=loaded,
                capabilities=capabilities,
                quantization=quantization,
                publisher=publisher,
                arch=arch,
                compatibility_type=compatibility_type,
                loaded_context_length=loaded_context_length,
                load_seconds=load_seconds,
                embedding_dimensions=embedding_dimensions,
                ttl=ttl,
                reasoning=reasoning,
            )
        except ValueError as exc:
            raise ScriptError(f"add_model({id!r}): {exc}") from None
        if loaded:
            model.last_used = self._state.clock()
        with self._lock:
            self._state.catalog.add(model)
        return model

    def remove_model(self, id: str) -> None:
        with self._lock:
            try:
                self._state.catalog.remove(id)
            except KeyError as exc:
                raise ScriptError(str(exc.args[0])) from None

    def clear_models(self) -> None:
        """Empty the catalog (then every inference request gets LM Studio's model errors)."""
        with self._lock:
            self._state.catalog.clear()

    def load_model(self, id: str) -> None:
        """Mark a model loaded, as ``lms load`` would (not subject to JIT auto-evict)."""
        with self._lock:
            self._model(id).mark_loaded(jit=False)

    def unload_model(self, id: str) -> None:
        with self._lock:
            self._model(id).mark_unloaded()

    def _model(self, id: str) -> Model:
        model = self._state.catalog.get(id)
        if model is None:
            raise ScriptError(
                f"no model {id!r} in the fake's catalog; it has: {self._state.catalog.ids_text()}"
            )
        return model

    @property
    def catalog(self) -> list[Model]:
        """Copies of the models, in catalog order (changing them changes nothing)."""
        with self._lock:
            return [m.copy() for m in self._state.catalog.models()]

    # -- rules ----------------------------------------------------------------------------
    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._state.rules)

    def clear_rules(self) -> None:
        """Forget every scripted rule, those of a scenario given at start included (until
        ``reset()`` restores them); the catalog and the settings stay."""
        with self._lock:
            self._state.rules = []

    def _add_rule(self, rule: Rule) -> None:
        """Add a rule after checking what it would send with the encoders that will send it."""
        with self._lock:
            state = self._state
        check_rule_model(rule, state)
        problems = rule_problems(rule, state)
        if problems:
            raise ScriptError(
                f"{rule.describe()} would send an answer that breaks the API format: "
                f"{'; '.join(problems)}. Fix the scripted values, or send it on purpose with "
                "respond(..., validate=False) or raw(...)."
            )
        self._engine.add_rule(rule)

    # -- journal and checks ---------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """What the fake received, oldest first (the last ``journal_limit`` requests)."""
        return self._engine.journal.snapshot()

    def wait_for_requests(
        self, count: int, *, timeout: float = DEFAULT_WAIT_SECONDS
    ) -> list[RecordedRequest]:
        """Wait until the fake has received ``count`` requests since the last reset, then
        return ``requests``; ``FakeCheckError`` naming those that came after ``timeout`` s.

        A request is journaled the moment it arrives, but a client can give up (a timeout,
        its retries spent) before the fake has accepted the last request it sent: count after
        waiting, ``assert len(fake.wait_for_requests(2)) == 2``, never right after the call.
        """
        problem = wait_problem(count, timeout, MAX_WAIT_SECONDS)
        if problem is not None:
            raise ScriptError(f"wait_for_requests(): {problem}")
        journal = self._engine.journal
        if not journal.wait_for(count, timeout):
            raise FakeCheckError(wait_failure(journal, count, timeout))
        return journal.snapshot()

    @property
    def journal(self) -> Journal:
        return self._engine.journal

    @property
    def errors(self) -> list[str]:
        """Errors inside the server (a bug, or a scripted answer that broke at send time)."""
        return self._engine.errors

    def _record_error(self, text: str) -> None:
        self._engine.record_error(text)

    def unused_rules(self) -> list[Rule]:
        """Rules given ``times=n`` that answered fewer than n requests."""
        return self._engine.unused_rules()

    def check(self) -> None:
        """Raise ``FakeCheckError`` if a ``times=`` rule was not used up or the server failed."""
        unused = self.unused_rules()
        errors = self.errors
        if not unused and not errors:
            return
        lines = []
        if unused:
            lines.append(f"{len(unused)} scripted rule(s) not used as often as expected:")
            lines += [f"  #{r.id} {r.describe()}: used {r.calls} of {r.times}" for r in unused]
            seen = self.requests
            if seen:
                lines.append("requests the fake received:")
                lines += [f"  {e.summary()}" for e in seen[-10:]]
            else:
                lines.append("the fake received no request")
        if errors:
            dropped = self._engine.errors_dropped
            more = f" (and {dropped} more not kept)" if dropped else ""
            lines.append(f"{len(errors)} error(s) inside the fake server{more}:")
            lines += ["  " + e.strip().replace("\n", "\n  ") for e in errors]
        raise FakeCheckError("\n".join(lines))

    # -- scenarios ------------------------------------------------------------------------
    def load_scenario(
        self,
        scenario: str | os.PathLike[str] | Mapping[str, Any],
        *,
        source: str | None = None,
        replace: bool = False,
    ) -> None:
        """Apply a scenario (a JSON or TOML file, or its mapping): models, rules, settings.

        Its rules come after the fake's own, unless ``replace=True``: then they replace them
        (those of a scenario loaded at start too). All or nothing: a scenario that fails half
        way leaves the fake as it was. ``source`` names it in errors and in its rules' origin
        (default: the file's path).
        """
        if isinstance(scenario, Mapping):
            data, name = scenario, source or "<scenario>"
        else:
            path = Path(scenario)
            data, name = read_scenario(path), source or str(path)
        with self._lock:
            state = self._state
            saved = dataclasses.replace(
                state, catalog=state.catalog.copy(), rules=list(state.rules)
            )
        try:
            if replace:
                self.clear_rules()
            apply_scenario(self, data, name)
        except BaseException:
            with self._lock:
                self._engine.state = saved
            raise
