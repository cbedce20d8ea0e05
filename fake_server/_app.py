"""The aiohttp application: LM Studio's routes, its checks and error bodies, and the
answers (scripted or default) shaped by the active profile."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import math
import random
import time
import traceback
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._catalog import Model, Purpose
from ._content import (
    ContentSource,
    count_tokens,
    embedding_vector,
    encode_base64,
    prompt_tokens_for_chat,
    prompt_tokens_for_completion,
    split_tokens,
)
from ._faults import (
    CONNECTION_FAULTS,
    MALFORMED_BODY,
    Handled,
    cut,
    deliver_body,
    fault_rng,
    paced_write,
    replace_answer,
    settle,
    split_points,
)
from ._journal import RecordedRequest
from ._profiles import LMSTUDIO_VERSION, ChatMessage, Profile, dumps, error_object
from ._schemas import SchemaViolation, part_validator, shallow_validator, validator
from ._script import Action, Fail, Fault, Raw, Reply, Respond, RouteName, Rule, Stream

if TYPE_CHECKING:
    from ._server import FakeLMStudio, _State

JSON_TYPE = "application/json; charset=utf-8"
ALLOWED_ROLES = ("user", "assistant", "system", "tool", "developer")

MSG_MESSAGES_REQUIRED = "'messages' field is required"
MSG_BAD_ROLE = (
    "'messages' array must only contain objects with a 'role' field that is in "
    "[user, assistant, system, tool]. Got '{role}'"
)
MSG_INVALID_MESSAGES = (
    "Invalid 'messages' in payload. Please check the structure of your 'messages' and try again"
)
MSG_RESPONSE_FORMAT = "'response_format.type' must be 'json_schema' or 'text'"
MSG_NO_MODELS = (
    "No models loaded. Please load a model in the developer page or use the 'lms load' command."
)
MSG_UNKNOWN_MODEL = (
    'Invalid model identifier "{model}". Please specify a valid downloaded model (e.g., {valid}).'
)
MSG_AUTH_MISSING = (
    "An LM Studio API token is required to make requests to this server, but none was provided "
    "using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer "
    "$LM_API_TOKEN'). Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)
MSG_AUTH_INVALID = (
    "The LM Studio API token provided in the Authorization header is not valid for this server. "
    "Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)

REQUEST_SCHEMAS: dict[str, str] = {
    "chat": "openai/chat-completion-request.schema.json",
    "completions": "openai/completion-request.schema.json",
    "embeddings": "openai/embedding-request.schema.json",
}
REQUIRED_FIELD = {"chat": "messages", "completions": "prompt", "embeddings": "input"}
PURPOSE: dict[str, Purpose] = {
    "chat": "chat",
    "completions": "completions",
    "embeddings": "embeddings",
}


def response_schema(route: RouteName, native: bool) -> str:
    if route == "chat":
        return (
            "lmstudio/chat-completion.schema.json"
            if native
            else "openai/chat-completion.schema.json"
        )
    if route == "completions":
        return "lmstudio/completion.schema.json" if native else "openai/completion.schema.json"
    if route == "embeddings":
        return "openai/embedding-list.schema.json"
    return "lmstudio/model-list.schema.json" if native else "openai/model-list.schema.json"


COMMON_SCHEMA = "openai/common.schema.json"
CHUNK_SCHEMAS = {
    "chat": "openai/chat-completion-chunk.schema.json",
    "completions": "openai/completion-chunk.schema.json",
}
ERROR_SCHEMA = "lmstudio/error.schema.json"
STREAM_ERROR_SCHEMA = "lmstudio/stream-error.schema.json"


def etag(data: bytes) -> str:
    """Express's weak ETag: ``W/"<length hex>-<base64 sha1, 27 chars>"``."""
    digest = base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")[:27]
    return f'W/"{len(data):x}-{digest}"'


class ApiAnswer(Exception):
    """Raised inside a handler to answer at once with ``status`` and ``document``."""

    def __init__(self, status: int, document: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.document = document
        self.headers = dict(headers or {})


class FakeApp:
    """Builds the aiohttp application and answers its requests for one ``FakeLMStudio``."""

    def __init__(self, server: FakeLMStudio) -> None:
        self.server = server
        self._loads: dict[int, asyncio.Event] = {}
        self._load_ends: dict[int, float] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._valid_shapes: set[tuple[Any, ...]] = set()
        self._release: asyncio.Event | None = None

    # -- hang and stall: held until reset() or close() ------------------------------------
    async def wait_released(self) -> None:
        if self._release is None:
            self._release = asyncio.Event()
        await self._release.wait()

    def release_all(self) -> None:
        """Let every hung or stalled request go (runs in the server's loop)."""
        if self._release is not None:
            self._release.set()
            self._release = None

    # -- application ----------------------------------------------------------------------
    def build(self, max_body_bytes: int) -> web.Application:
        app = web.Application(
            client_max_size=max_body_bytes, handler_args={"max_field_size": 65536}
        )
        add = app.router.add_route

        def inference(
            route: RouteName, native: bool
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await self.handle(request, route, native)

            return handler

        for prefix, native in (("/v1", False), ("/api/v0", True)):
            add("POST", f"{prefix}/chat/completions", inference("chat", native))
            add("OPTIONS", f"{prefix}/chat/completions", inference("chat", native))
            add("POST", f"{prefix}/completions", inference("completions", native))
            add("POST", f"{prefix}/embeddings", inference("embeddings", native))
        add("GET", "/v1/models", self.handle_models)
        add("GET", "/api/v0/models", self.handle_models)
        add("GET", "/api/v0/models/{model_id:.+}", self.handle_model)
        add("GET", "/lmstudio-greeting", self.handle_greeting)
        add("GET", "/lms-status", self.handle_status)
        from ._admin import add_admin_routes

        add_admin_routes(app, self.server)
        add("*", "/{tail:.*}", self.handle_unexpected)
        return app

    # -- helpers --------------------------------------------------------------------------
    def json_response(
        self, status: int, document: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        data = dumps(document).encode("utf-8")
        out = {
            "X-Powered-By": "Express",
            "Content-Type": JSON_TYPE,
            "ETag": etag(data),
            "Keep-Alive": "timeout=5",
        }
        if self.server._state.cors:
            out["Access-Control-Allow-Origin"] = "*"
            out["Access-Control-Allow-Headers"] = "*"
        if headers:
            out.update(headers)
        return web.Response(status=status, body=data, headers=out)

    def _start_entry(self, request: web.Request) -> RecordedRequest:
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=request.headers,  # immutable, ignores case: no copy needed
            body=b"",
            time=time.time(),
        )
        self.server._journal.append(entry)
        return entry

    def _auth(self, request: web.Request, state: _State) -> None:
        token = state.api_token
        if token is None:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        message = None
        if not header or scheme.lower() != "bearer" or not given.strip():
            message = MSG_AUTH_MISSING
        elif given.strip() != token:
            message = MSG_AUTH_INVALID
        if message is not None:
            body = {
                "error": {"type": "invalid_request", "code": "invalid_api_key", "message": message}
            }
            if state.profile.strict_openai:
                body = error_object(message, "invalid_request_error", None, "invalid_api_key")
            raise ApiAnswer(401, body)

    async def _read_json(
        self, request: web.Request, entry: RecordedRequest, profile: Profile
    ) -> Any:
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            limit = request.app._client_max_size
            size = request.content_length
            got = f"{size} bytes" if size is not None else "more than that"
            raise ApiAnswer(
                413,
                profile.error_string(
                    f"Request body too large: {got}, the fake's limit is {limit} bytes. "
                    "Send a smaller body, or start the fake with a larger max_body_bytes."
                ),
            ) from exc
        entry.body = data
        if not data:
            return None
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            raise ApiAnswer(400, profile.error_string("Request body is not valid UTF-8")) from None
        except json.JSONDecodeError as exc:
            raise ApiAnswer(
                400,
                profile.error_string(
                    f"{exc.msg} in JSON at position {exc.pos} "
                    f"(line {exc.lineno} column {exc.colno})"
                ),
            ) from None

    # -- inference routes -----------------------------------------------------------------
    async def handle(
        self, request: web.Request, route: RouteName, native: bool
    ) -> web.StreamResponse:
        async def answer(entry: RecordedRequest, state: _State) -> web.StreamResponse:
            return await self._handle(request, entry, state, route, native)

        return await self._run(request, answer, auth=False)

    async def _run(
        self,
        request: web.Request,
        answer: Callable[[RecordedRequest, _State], Awaitable[web.StreamResponse]],
        *,
        auth: bool,
        picked: list[Rule] | None = None,
    ) -> web.StreamResponse:
        """Journal the request, answer it, and turn failures into answers: LM Studio's own
        errors as they are, anything else as a 500 recorded for ``check()``."""
        entry = self._start_entry(request)
        started = time.perf_counter()
        state = self.server._state
        try:
            if auth:
                self._auth(request, state)
            response = await answer(entry, state)
        except ApiAnswer as exc:
            response = self.json_response(exc.status, exc.document, exc.headers)
        except Handled as handled:
            entry.fault = handled.note
            entry.status = handled.status
            entry.duration = time.perf_counter() - started
            self.server._request_done(entry)
            return web.Response()  # never reaches the client: its connection is closed
        except asyncio.CancelledError:
            entry.error = "cancelled: the client went away or the fake was closed"
            raise
        except Exception as exc:  # a bug or a bad scripted answer: report it to the test
            response = self._internal_error(request, exc)
        finally:
            if picked:
                entry.rule = picked[0]
            entry.duration = time.perf_counter() - started
            if entry.error is not None:
                self.server._request_done(entry)
        entry.status = response.status
        self.server._request_done(entry)
        return response

    def _internal_error(self, request: web.Request, exc: BaseException) -> web.Response:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.server._record_error(f"{request.method} {request.path}: {exc}\n{text}")
        return self.json_response(
            500, {"error": f"pytest-lmstudio fake: error inside the server: {exc}"}
        )

    async def _handle(
        self,
        request: web.Request,
        entry: RecordedRequest,
        state: _State,
        route: RouteName,
        native: bool,
    ) -> web.StreamResponse:
        profile = state.profile
        self._auth(request, state)
        body = await self._read_json(request, entry, profile)
        entry.json = body
        self._check_request(route, body, state)
        assert isinstance(body, dict)
        entry.stream = bool(body.get("stream")) and route != "embeddings"
        requested = body.get("model")
        with self.server._lock:
            state.catalog.expire(state.clock())
            resolution = state.catalog.resolve(
                requested,
                PURPOSE[route],
                jit=state.jit,
                single_loaded_fallback=state.single_loaded_fallback,
            )
        model = self._resolved_model(resolution, requested, route, profile)
        entry.model = model.id
        if resolution.needs_load:
            if state.while_loading == "503":
                self._answer_503_while_loading(model, state, body.get("ttl"))
            await self._jit_load(model, state, body.get("ttl"))
        with self.server._lock:
            model.last_used = state.clock()
        rule = self.server._pick_rule(route, body, model.id)
        entry.rule = rule
        action, fault = await self._prepare(request, entry, route, rule)
        response: web.StreamResponse
        if isinstance(action, (Fail, Respond, Raw)):
            response = self.scripted_response(action, route, native, state)
        elif route == "embeddings":
            response = self._embeddings(body, model, state, action)
        else:
            ask = _Ask(
                request, entry, body, model, state, native, action, fault,
                ContentSource(state.seed, body), int(state.clock()),
            )  # fmt: skip
            answer = self._chat if route == "chat" else self._completions
            response = await answer(ask)
        return await self._finish(request, entry, response, fault)

    async def _prepare(
        self, request: web.Request, entry: RecordedRequest, route: RouteName, rule: Rule | None
    ) -> tuple[Action | None, Fault | None]:
        """The action and fault for this request (a rule's, else chaos's, else none), after
        the rule's delay; faults that replace the answer happen here."""
        action, fault, delay = (rule.action, rule.fault, rule.delay) if rule else (None, None, 0.0)
        chaos = self.server._state.chaos
        if rule is None and chaos is not None:
            with self.server._lock:
                picked = chaos.pick(route)
            if picked is not None:
                action, fault, delay, entry.fault = picked
        if delay:
            await asyncio.sleep(delay)
        if fault is not None and fault.kind in CONNECTION_FAULTS:
            rng = fault_rng(self.server._state.seed, fault.kind, request.path, entry.body)
            await replace_answer(request, entry, fault, rng, self.wait_released)
        return action, fault

    async def _finish(
        self,
        request: web.Request,
        entry: RecordedRequest,
        response: web.StreamResponse,
        fault: Fault | None,
    ) -> web.StreamResponse:
        """Deliver a whole answer badly when a body fault asks for it."""
        if fault is None or response.prepared:
            return response
        if fault.kind == "malformed":
            settle(entry, 200, "malformed: 200 with a body that is not JSON")
            return web.Response(
                status=200, body=MALFORMED_BODY, headers={"Content-Type": JSON_TYPE}
            )
        if fault.kind in ("truncate", "slow_body") and isinstance(response, web.Response):
            await deliver_body(request, entry, response, fault)
        return response

    def _check_request(self, route: RouteName, body: Any, state: _State) -> None:
        """LM Studio's own checks first (its exact messages), then the JSON Schema."""
        profile = state.profile
        required = REQUIRED_FIELD[route]
        if not isinstance(body, dict) or required not in body:
            raise ApiAnswer(
                400, profile.error_string(f"'{required}' field is required", param=required)
            )
        if route == "chat":
            messages = body["messages"]
            if not isinstance(messages, list):
                raise ApiAnswer(400, profile.error_string(MSG_INVALID_MESSAGES, param="messages"))
            for message in messages:
                role = message.get("role") if isinstance(message, dict) else None
                if role not in ALLOWED_ROLES:
                    raise ApiAnswer(
                        400, profile.error_string(MSG_BAD_ROLE.format(role=role), param="messages")
                    )
            response_format = body.get("response_format")
            if isinstance(response_format, dict) and response_format.get("type") == "json_object":
                raise ApiAnswer(
                    400, profile.error_string(MSG_RESPONSE_FORMAT, param="response_format")
                )
        if not state.validate:
            return
        check = validator(REQUEST_SCHEMAS[route])
        if route == "chat" and chat_request_is_valid(body):
            return
        if route != "chat" and check.is_valid(body):
            return
        error = check.first_error(body) or SchemaViolation(
            REQUEST_SCHEMAS[route], "invalid request", ""
        )
        field = (
            error.path[2:].split(".", 1)[0].split("[", 1)[0] if error.path.startswith("$.") else ""
        )
        if field == "messages":
            message = f"{MSG_INVALID_MESSAGES} ({error.message} at {error.path[2:]})"
        elif field:
            message = f"Invalid '{field}' in payload: {error.message}"
        else:
            message = f"Invalid request payload: {error.message}"
        raise ApiAnswer(400, profile.error_string(message, param=field or None))

    def _resolved_model(
        self, resolution: Any, requested: Any, route: RouteName, profile: Profile
    ) -> Model:
        if resolution.outcome == "ok":
            model: Model = resolution.model
            return model
        if resolution.outcome == "no_models_loaded":
            raise ApiAnswer(400, profile.error_string(MSG_NO_MODELS, param="model"))
        if resolution.outcome == "wrong_type":
            kind = (
                "an embedding model"
                if resolution.model.type == "embeddings"
                else "not an embedding model"
            )
            use = {
                "chat": "chat completions",
                "completions": "completions",
                "embeddings": "embeddings",
            }[route]
            raise ApiAnswer(
                400,
                profile.error_string(
                    f'Model "{resolution.model.id}" is {kind} and cannot be used for {use}.',
                    param="model",
                ),
            )
        valid = ", ".join(resolution.valid) or "none downloaded"
        message = MSG_UNKNOWN_MODEL.format(model=requested, valid=valid)
        raise ApiAnswer(
            400, error_object(message, "invalid_request_error", "model", "model_not_found")
        )

    async def _jit_load(self, model: Model, state: _State, ttl: Any) -> None:
        """JIT: the request blocks while the model loads; concurrent requests share the load."""
        event = self._start_load(model, state, ttl)
        if event is not None:
            await event.wait()

    def _start_load(self, model: Model, state: _State, ttl: Any) -> asyncio.Event | None:
        """Start loading ``model`` unless it is loaded or loading; the event is set when the
        load ends. The load is a task of its own: as in LM Studio, it goes on when the request
        that started it goes away (a client timeout), so a retry finds it further along."""
        loop = asyncio.get_running_loop()
        key = id(model)  # per model object: a reset() catalog's model is another model
        with self.server._lock:
            if model.loaded:
                return None
            event = self._loads.get(key)
            if event is None:
                event = self._loads[key] = asyncio.Event()
                model.loading = True
                self._load_ends[key] = loop.time() + model.load_seconds
                task = loop.create_task(self._load(model, state, ttl, event, key))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        return event

    async def _load(
        self, model: Model, state: _State, ttl: Any, event: asyncio.Event, key: int
    ) -> None:
        try:
            if model.load_seconds > 0:
                await asyncio.sleep(model.load_seconds)
            with self.server._lock:
                model.mark_loaded(jit=True)
                if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > 0:
                    model.load_ttl = float(ttl)  # the request's ttl applies to this load
                model.last_used = state.clock()
                state.catalog.evict_jit_models(keep=model)
        finally:
            with self.server._lock:
                model.loading = False
                self._loads.pop(key, None)
                self._load_ends.pop(key, None)
            event.set()

    def _answer_503_while_loading(self, model: Model, state: _State, ttl: Any) -> None:
        """``while_loading="503"``: start the load in the background and answer 503 with
        ``Retry-After`` (the seconds left) instead of holding the request."""
        loop = asyncio.get_running_loop()
        self._start_load(model, state, ttl)
        with self.server._lock:
            left = max(self._load_ends.get(id(model), loop.time()) - loop.time(), 0.0)
        raise ApiAnswer(
            503,
            error_object(
                f'Model "{model.id}" is loading. Try again in {math.ceil(left)} seconds.',
                "server_error",
                "model",
                "model_loading",
            ),
            {"Retry-After": str(max(1, math.ceil(left)))},
        )

    # -- scripted answers -----------------------------------------------------------------
    def scripted_response(
        self, action: Fail | Respond | Raw, route: RouteName, native: bool, state: _State
    ) -> web.Response:
        if isinstance(action, Raw):
            headers = {"Content-Type": action.content_type, **action.headers}
            return web.Response(status=action.status, body=action.body, headers=headers)
        if isinstance(action, Respond):
            return self.json_response(action.status, action.json, action.headers)
        return self.json_response(
            action.status, fail_body(action, state.profile), fail_headers(action)
        )

    # -- chat -----------------------------------------------------------------------------
    async def _chat(self, ask: _Ask) -> web.StreamResponse:
        body, action, state, native = ask.body, ask.action, ask.state, ask.native
        message, finish, pieces = self._chat_answer(body, action, ask.src)
        usage = self._usage(action, prompt_tokens_for_chat(body), message, pieces)
        completion_id = ask.src.completion_id("chatcmpl-")
        if body.get("stream"):
            prefix = state.profile.chunk_prefix(completion_id, ask.created, ask.model.id)
            wanted = include_usage(body)
            frames, shapes = chat_frames_and_shapes(
                state.profile, prefix, message, finish, pieces, usage if wanted else None
            )
            if state.validate:
                check_frames(frames, "chat", shapes)
            return await self._send_sse(ask, frames, len(frames) - (2 if wanted else 1))
        document = state.profile.chat_completion(
            completion_id=completion_id,
            created=ask.created,
            model=ask.model,
            message=message,
            finish_reason=finish,
            usage=usage,
            native=native,
        )
        shape = (
            "chat", native, state.profile.name, finish, message.content is None,
            bool(message.tool_calls), message.reasoning is None,
        )  # fmt: skip
        return self._checked(document, response_schema("chat", native), state, shape=shape)

    def _chat_answer(
        self, body: dict[str, Any], action: Action | None, src: ContentSource
    ) -> tuple[ChatMessage, str, list[str]]:
        """The answer's message, finish reason, and its content cut into stream pieces."""
        if isinstance(action, Reply):
            calls = tuple(wire_tool_call(c, src) for c in action.tool_calls)
            finish = action.finish_reason or ("tool_calls" if calls else "stop")
            pieces = split_tokens(action.content) if action.content else []
            return ChatMessage(action.content, calls, action.reasoning), finish, pieces
        if isinstance(action, Stream):
            calls = tuple(wire_tool_call(c, src) for c in action.tool_calls)
            content = "".join(action.chunks) if action.chunks else None
            finish = action.finish_reason or ("tool_calls" if calls else "stop")
            return ChatMessage(content, calls), finish, list(action.chunks)
        tool = forced_tool(body)
        if tool is not None:
            function = tool.get("function") or {}
            arguments = src.arguments_for(function.get("parameters"))
            call = {
                "id": src.tool_call_id(),
                "type": "function",
                "function": {"name": function.get("name", ""), "arguments": dumps(arguments)},
            }
            return ChatMessage(None, (call,)), "tool_calls", []
        pieces, cut = limited_pieces(src.sentences(), token_limit(body))
        return ChatMessage("".join(pieces)), "length" if cut else "stop", pieces

    @staticmethod
    def _usage(
        action: Action | None, prompt: int, message: ChatMessage, pieces: list[str]
    ) -> dict[str, int]:
        content = message.content or ""
        # The pieces of a reply or a default answer are its tokens; a scripted stream's are not.
        tokens = count_tokens(content) if isinstance(action, Stream) else len(pieces)
        if content.isspace():
            tokens = 0
        completion = tokens + sum(
            count_tokens(c["function"]["arguments"]) for c in message.tool_calls
        )
        given = getattr(action, "usage", None) or {}
        prompt = given.get("prompt_tokens", prompt)
        completion = given.get("completion_tokens", completion)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _checked(
        self, document: Any, schema: str, state: _State, *, shape: tuple[Any, ...] | None = None
    ) -> web.Response:
        """Check an answer before it is sent (a broken one is an error inside the server).

        ``shape`` names what decides an answer's structure (route, profile, finish reason,
        content or tool calls...); answers of one shape differ only in values the code makes
        with fixed types (text, ids, counts, vectors), so each shape is checked once, like
        stream frames. Without ``shape``, every answer is checked."""
        if state.validate:
            key = None if shape is None else (schema, shape)
            if key is None or key not in self._valid_shapes:
                validator(schema).check(document)
                if key is not None:
                    self._valid_shapes.add(key)
        return self.json_response(200, document)

    async def _send_sse(
        self, ask: _Ask, frames: list[str], timed_frames: int
    ) -> web.StreamResponse:
        """Write ``data:`` frames then ``[DONE]``, with a stream rule's timing and faults.

        The first ``timed_frames`` frames are due at ``ttft + i * interval`` (plus seeded
        jitter) measured from the start, so a long stream does not drift; the closing frames
        follow at once.
        """
        request, entry, fault, seed = ask.request, ask.entry, ask.fault, ask.state.seed
        response = web.StreamResponse(
            status=200,
            headers={
                "X-Powered-By": "Express",
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
                **(
                    {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}
                    if self.server._state.cors
                    else {}
                ),
            },
        )
        await response.prepare(request)
        entry.status = response.status  # sent: a test reading the journal at [DONE] sees it
        plan = ask.plan or Stream(chunks=())
        rng = random.Random(plan.split_seed if plan.split_seed is not None else seed)
        split = rng if plan.split_seed is not None else None
        wire = _SseWire(request, entry, response, fault, split)
        if fault is not None and fault.kind == "malformed":
            handled = settle(entry, 200, "malformed: a stream event that is not JSON")
            await wire.send(b"data: " + MALFORMED_BODY + b"\n\n")
            await response.write_eof()
            raise handled
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, frame in enumerate(frames):
            if index == plan.drop_after:
                handled = settle(entry, 200, f"stream dropped after {index} chunks")
                cut(request)
                raise handled
            if index == plan.stall_after:
                settle(entry, 200, f"stream stalled after {index} chunks")
                await self.wait_released()
                handled = settle(entry, 200, f"stream stalled after {index} chunks, released")
                cut(request)
                raise handled
            if index == plan.error_after:
                error = {"error": {"message": plan.error_message}, "message": plan.error_message}
                if self.server._state.validate:
                    validator(STREAM_ERROR_SCHEMA).check(error)
                handled = settle(entry, 200, f"stream error event after {index} chunks")
                await wire.send(f"event: error\ndata: {dumps(error)}\n\n".encode())
                await response.write_eof()
                raise handled
            if index < timed_frames and (plan.ttft or plan.interval or plan.jitter):
                due = start + plan.ttft + index * plan.interval
                if plan.jitter:
                    due += rng.uniform(0.0, plan.jitter)
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            await wire.send(f"data: {frame}\n\n".encode())
        if plan.done:
            await wire.send(b"data: [DONE]\n\n")
        await response.write_eof()
        if wire.note:
            raise Handled(200, wire.note)
        return response

    # -- completions ----------------------------------------------------------------------
    async def _completions(self, ask: _Ask) -> web.StreamResponse:
        body, action, state, native = ask.body, ask.action, ask.state, ask.native
        if isinstance(action, Reply):
            text = action.content or ""
            finish = action.finish_reason or "stop"
            pieces = split_tokens(text)
        elif isinstance(action, Stream):
            text = "".join(action.chunks)
            finish = action.finish_reason or "stop"
            pieces = list(action.chunks)
        else:
            pieces, cut = limited_pieces(ask.src.sentences(), token_limit(body))
            text = "".join(pieces)
            finish = "length" if cut else "stop"
        usage = self._usage(action, prompt_tokens_for_completion(body), ChatMessage(text), pieces)
        completion_id = ask.src.completion_id("cmpl-")
        profile = state.profile
        if body.get("stream"):
            prefix = profile.completion_chunk_prefix(completion_id, ask.created, ask.model.id)
            frames = [profile.completion_chunk(prefix, p, None) for p in pieces or [""]]
            timed = len(frames)
            shapes: list[Hashable] = ["text"] * timed
            frames.append(profile.completion_chunk(prefix, "", finish))
            shapes.append("finish")
            if include_usage(body):
                frames.append(profile.usage_chunk(prefix, usage))
                shapes.append("usage")
            if state.validate:
                check_frames(frames, "completions", shapes)
            return await self._send_sse(ask, frames, timed)
        document = profile.completion(
            completion_id=completion_id,
            created=ask.created,
            model=ask.model,
            text=text,
            finish_reason=finish,
            usage=usage,
            native=native,
        )
        shape = ("completions", native, profile.name, finish)
        return self._checked(document, response_schema("completions", native), state, shape=shape)

    # -- embeddings -----------------------------------------------------------------------
    def _embeddings(
        self, body: dict[str, Any], model: Model, state: _State, action: Action | None
    ) -> web.Response:
        raw_input = body["input"]
        if isinstance(raw_input, str):
            texts = [raw_input]
        elif (
            isinstance(raw_input, list) and raw_input and all(isinstance(x, int) for x in raw_input)
        ):
            texts = [" ".join(map(str, raw_input))]
        else:
            texts = [x if isinstance(x, str) else " ".join(map(str, x)) for x in raw_input]
        if isinstance(action, Reply) and action.embeddings is not None:
            vectors: list[list[float]] = [list(v) for v in action.embeddings]
        else:
            dims = body.get("dimensions")
            size = (
                dims
                if isinstance(dims, int) and 0 < dims < model.embedding_dimensions
                else model.embedding_dimensions
            )
            vectors = [embedding_vector(state.seed, model.id, t, size) for t in texts]
        encoded: list[list[float] | str] = (
            [encode_base64(v) for v in vectors]
            if body.get("encoding_format") == "base64"
            else list(vectors)
        )
        prompt = sum(count_tokens(t) for t in texts)
        document = state.profile.embeddings(model, encoded, prompt)
        shape = ("embeddings", state.profile.name, body.get("encoding_format") == "base64")
        return self._checked(document, response_schema("embeddings", False), state, shape=shape)

    # -- models and the small routes ------------------------------------------------------
    async def handle_models(self, request: web.Request) -> web.StreamResponse:
        native = request.path.startswith("/api/")

        async def answer(entry: RecordedRequest, state: _State) -> web.StreamResponse:
            rule = self.server._pick_rule("models", None, None)
            entry.rule = rule
            action, fault = await self._prepare(request, entry, "models", rule)
            if isinstance(action, (Fail, Respond, Raw)):
                response = self.scripted_response(action, "models", native, state)
            else:
                with self.server._lock:
                    state.catalog.expire(state.clock())
                    models = state.catalog.listed(jit=state.jit)
                    if native:
                        document = state.profile.native_model_list(models)
                    else:
                        document = state.profile.model_list(models)
                response = self._checked(document, response_schema("models", native), state)
            return await self._finish(request, entry, response, fault)

        return await self._run(request, answer, auth=True)

    async def handle_model(self, request: web.Request) -> web.StreamResponse:
        model_id = request.match_info["model_id"]

        async def answer(state: _State) -> web.StreamResponse:
            with self.server._lock:
                state.catalog.expire(state.clock())  # idle TTL, as on every other route
                model = state.catalog.get(model_id)
                document = None if model is None else state.profile.native_model(model)
            if document is None:
                message = (
                    f'Model "{model_id}" not found. Please specify a valid model '
                    f"(e.g., {state.catalog.ids_text()})."
                )
                raise ApiAnswer(
                    404, error_object(message, "invalid_request_error", "model", "model_not_found")
                )
            return self._checked(document, "lmstudio/model.schema.json", state)

        return await self._simple(request, answer)

    async def handle_greeting(self, request: web.Request) -> web.StreamResponse:
        return await self._simple(
            request, lambda state: _ready(self.json_response(200, {"lmstudio": True})), auth=False
        )

    async def handle_status(self, request: web.Request) -> web.StreamResponse:
        document = {"package": "lmstudio", "version": LMSTUDIO_VERSION}
        return await self._simple(
            request, lambda state: _ready(self.json_response(200, document)), auth=False
        )

    async def handle_unexpected(self, request: web.Request) -> web.StreamResponse:
        async def answer(state: _State) -> web.StreamResponse:
            if request.method == "OPTIONS" and state.cors:
                return web.Response(
                    status=204,
                    headers={
                        "X-Powered-By": "Express",
                        "Access-Control-Allow-Origin": "*",
                        "Access-Control-Allow-Headers": "*",
                        "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
                    },
                )
            status, document = state.profile.unexpected_endpoint(request.method, request.path)
            return self.json_response(status, document)

        return await self._simple(request, answer, auth=False)

    async def _simple(
        self,
        request: web.Request,
        answer: Callable[[_State], Awaitable[web.StreamResponse]],
        *,
        auth: bool = True,
        picked: list[Rule] | None = None,
    ) -> web.StreamResponse:
        async def run(entry: RecordedRequest, state: _State) -> web.StreamResponse:
            return await answer(state)

        return await self._run(request, run, auth=auth, picked=picked)


async def _ready(response: web.StreamResponse) -> web.StreamResponse:
    return response


def limited_pieces(text: str, limit: int | None) -> tuple[list[str], bool]:
    """``text`` cut into tokens, at most ``limit`` of them; the flag says it was cut."""
    pieces = split_tokens(text)
    if limit is None or len(pieces) <= limit:
        return pieces, False
    return pieces[:limit], True


def chat_request_is_valid(body: dict[str, Any]) -> bool:
    """The chat request schema, checked fast: the envelope with messages as plain objects,
    then each message against its role's definition only. Same verdict as the whole schema
    (whose ``oneOf`` over roles would try every role for every message); the whole schema
    still writes the message when this says no. Roles were checked before."""
    if not shallow_validator(REQUEST_SCHEMAS["chat"], "messages")(body):
        return False
    for message in body["messages"]:
        check = part_validator(COMMON_SCHEMA, f"#/$defs/{message['role']}_message")
        if not check(message):
            return False
    return True


@dataclass(frozen=True, slots=True)
class _Ask:
    """One inference request on its way to an answer: what every answering step needs."""

    request: web.Request
    entry: RecordedRequest
    body: dict[str, Any]
    model: Model
    state: _State
    native: bool
    action: Action | None
    fault: Fault | None
    src: ContentSource
    created: int

    @property
    def plan(self) -> Stream | None:
        """The stream rule that times this answer, if any."""
        return self.action if isinstance(self.action, Stream) else None


def include_usage(body: Mapping[str, Any]) -> bool:
    """``stream_options.include_usage``: LM Studio then sends a usage chunk before [DONE]."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def token_limit(body: Mapping[str, Any]) -> int | None:
    """``max_completion_tokens`` (preferred) or ``max_tokens``; -1 or null mean no limit."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return None if value < 0 else value
    return None


def forced_tool(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The tool a default answer must call: ``tool_choice`` "required" or a named function."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    choice = body.get("tool_choice")
    if choice == "required":
        first = tools[0]
        return first if isinstance(first, dict) else None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        for tool in tools:
            if isinstance(tool, dict) and (tool.get("function") or {}).get("name") == name:
                return tool
    return None


def wire_tool_call(call: Mapping[str, Any], src: ContentSource) -> dict[str, Any]:
    return {
        "id": call["id"] or src.tool_call_id(),
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


def split_arguments(arguments: str) -> list[str]:
    """Argument text in the small fragments LM Studio streams (about a token each)."""
    pieces = []
    current = ""
    for char in arguments:
        current += char
        if char in '{}[],:"' or len(current) >= 4:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def fail_body(action: Fail, profile: Profile) -> Any:
    if action.body is not None:
        return action.body
    message = action.message or default_fail_message(action.status)
    type_ = action.type or ("invalid_request_error" if action.status < 500 else "server_error")
    return error_object(message, type_, None, action.code)


def fail_headers(action: Fail) -> dict[str, str]:
    if action.retry_after is None:
        return {}
    seconds = action.retry_after
    return {"Retry-After": str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"}


def default_fail_message(status: int) -> str:
    return {
        400: "Bad request",
        401: "Unauthorized",
        404: "Not found",
        429: "Too many requests. Please slow down and try again later.",
        500: "Internal server error",
        502: "Bad gateway",
        503: "Service unavailable: the model is loading, try again shortly.",
        504: "Gateway timeout",
    }.get(status, f"HTTP {status}")


def check_frames(frames: list[str], route: str, shapes: list[Hashable] | None = None) -> None:
    """Check one frame of each distinct shape: frames of one shape differ only in strings.

    ``shapes``, one per frame, is what the frames' builder knows of their shapes (so that the
    frames need not be parsed to learn it); without it each frame is parsed to find its shape.
    """
    schema = validator(CHUNK_SCHEMAS[route])
    seen: set[Any] = set()
    for index, frame in enumerate(frames):
        if shapes is not None:
            if shapes[index] in seen:
                continue
            seen.add(shapes[index])
            schema.check(json.loads(frame))
            continue
        document = json.loads(frame)
        choices = document.get("choices") or [{}]
        choice = choices[0]
        delta = choice.get("delta")
        shape = _shape(
            delta if isinstance(delta, dict) else None,
            choice.get("finish_reason") is None,
            "usage" in document,
        )
        if shape in seen:
            continue
        seen.add(shape)
        schema.check(document)


def _shape(delta: dict[str, Any] | None, unfinished: bool, usage: bool) -> Hashable:
    """What tells two chat chunks apart but for their strings: the delta's keys (and its
    tool call's), whether it finishes, whether it carries usage."""
    shape: tuple[Any, ...] = (
        tuple(sorted(delta)) if delta is not None else None,
        unfinished,
        usage,
    )
    if delta is not None and "tool_calls" in delta:
        shape = (*shape, tuple(sorted(delta["tool_calls"][0])))
    return shape


def chat_frames(
    profile: Profile,
    prefix: str,
    message: ChatMessage,
    finish: str,
    pieces: list[str],
    usage: dict[str, int] | None,
) -> list[str]:
    """The JSON of each chunk of a streamed chat answer, in order, without ``[DONE]``.

    Content pieces first (the first carries ``role``), then each tool call: a head with id,
    type and name and empty arguments, then argument fragments; then an empty delta with the
    finish reason; then, when asked for, the usage chunk with ``choices: []``.
    """
    return chat_frames_and_shapes(profile, prefix, message, finish, pieces, usage)[0]


def chat_frames_and_shapes(
    profile: Profile,
    prefix: str,
    message: ChatMessage,
    finish: str,
    pieces: list[str],
    usage: dict[str, int] | None,
) -> tuple[list[str], list[Hashable]]:
    """``chat_frames``, and the shape of each frame (for ``check_frames``), from its delta."""
    deltas: list[dict[str, Any]] = [{"content": p} for p in pieces]
    for index, call in enumerate(message.tool_calls):
        function = call["function"]
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": function["name"], "arguments": ""},
        }
        deltas.append({"tool_calls": [head]})
        for fragment in split_arguments(function["arguments"]):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    if deltas:
        deltas[0] = {"role": "assistant", **deltas[0]}
    else:
        deltas.append({"role": "assistant", "content": ""})
    frames = [profile.chat_chunk(prefix, d, None) for d in deltas]
    shapes = [_shape(d, True, False) for d in deltas]
    frames.append(profile.chat_chunk(prefix, {}, finish))
    shapes.append(_shape({}, False, False))
    if usage is not None:
        frames.append(profile.usage_chunk(prefix, usage))
        shapes.append(_shape(None, True, True))
    return frames, shapes


PREVIEW_ID = "123456789"


def preview_documents(
    rule: Rule, profile: Profile, catalog: Any
) -> list[tuple[tuple[str, ...], Any]]:
    """What a rule would send, built with placeholder ids, paired with the schemas it must
    pass (any one of them): checked when the rule is scripted, so that a broken answer is
    reported to the test that wrote it."""
    action = rule.action
    route = rule.route
    models = [m for m in catalog.models() if m.serves(PURPOSE.get(route, "chat"))]
    model = (
        models[0]
        if models
        else Model("preview-model", type="embeddings" if route == "embeddings" else "llm")
    )
    if action is None or isinstance(action, Raw):  # the default answer, or bytes on purpose
        return []
    if isinstance(action, Respond):
        if not action.validate:
            return []
        if action.status >= 400:
            return [((ERROR_SCHEMA,), action.json)]
        return [((response_schema(route, False), response_schema(route, True)), action.json)]
    if isinstance(action, Fail):
        return [((ERROR_SCHEMA,), fail_body(action, profile))]
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    if action.usage:
        usage.update(action.usage)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if route == "embeddings":
        assert isinstance(action, Reply) and action.embeddings is not None
        document = profile.embeddings(model, [list(v) for v in action.embeddings], 1)
        return [((response_schema(route, False),), document)]
    calls = (
        tuple(
            {
                "id": c["id"] or PREVIEW_ID,
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in action.tool_calls
        )
        if route == "chat"
        else ()
    )
    content = ("".join(action.chunks) or None) if isinstance(action, Stream) else action.content
    finish = action.finish_reason or ("tool_calls" if calls else "stop")
    out: list[tuple[tuple[str, ...], Any]] = []
    if route == "chat":
        message = ChatMessage(content, calls, getattr(action, "reasoning", None))
        document = profile.chat_completion(
            completion_id="chatcmpl-preview",
            created=0,
            model=model,
            message=message,
            finish_reason=finish,
            usage=usage,
            native=False,
        )
        out.append(((response_schema(route, False),), document))
        if isinstance(action, Stream):
            prefix = profile.chunk_prefix("chatcmpl-preview", 0, model.id)
            for frame in chat_frames(profile, prefix, message, finish, list(action.chunks), usage):
                out.append(((CHUNK_SCHEMAS["chat"],), json.loads(frame)))
    else:
        document = profile.completion(
            completion_id="cmpl-preview",
            created=0,
            model=model,
            text=content or "",
            finish_reason=finish,
            usage=usage,
            native=False,
        )
        out.append(((response_schema(route, False),), document))
    return out


class _SseWire:
    """Writes a stream's bytes, cut at seeded places, truncated or paced when a fault says."""

    def __init__(
        self,
        request: web.Request,
        entry: RecordedRequest,
        response: web.StreamResponse,
        fault: Fault | None,
        split: random.Random | None,
    ) -> None:
        self.request = request
        self.entry = entry
        self.response = response
        self.fault = fault
        self.split = split
        self.sent = 0
        self.note = ""
        if fault is not None and fault.kind == "slow_body":
            self.note = settle(entry, 200, f"slow_body: {fault.bytes_per_second:g} bytes/s").note

    async def send(self, data: bytes) -> None:
        fault = self.fault
        if fault is not None and fault.kind == "truncate":
            room = fault.after_bytes - self.sent
            if room < len(data):
                handled = settle(
                    self.entry, 200, f"truncate: the stream cut after {fault.after_bytes} bytes"
                )
                await self.response.write(data[: max(room, 0)])
                cut(self.request)
                raise handled
        self.sent += len(data)
        pieces = [data]
        if self.split is not None:
            points = [0, *split_points(len(data), self.split), len(data)]
            pieces = [data[a:b] for a, b in itertools.pairwise(points)]
        for piece in pieces:
            if fault is not None and fault.kind == "slow_body":
                await paced_write(self.response.write, piece, fault.bytes_per_second)
            else:
                await self.response.write(piece)
            if self.split is not None:
                await asyncio.sleep(0.001)  # let each piece leave as its own segment
