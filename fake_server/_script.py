"""Scripting: the API that makes rules (a matcher plus an action) per route.

``fake.chat.reply("hi", times=2)`` adds a rule to the chat route. For each request the fake
tries the route's rules in the order they were added and uses the first one that matches
and is not used up (``times``); when none does, the default answer is sent. Rules match on
the turn, so a chat rule answers a chat request through any door (``when(api=...)``
narrows it to one).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any, Protocol

from ._catalog import seconds_in_range
from ._errors import ScriptError
from ._json import dumps
from ._script_checks import (
    MAX_BYTES_PER_SECOND,
    MAX_GARBAGE_BYTES,
    MAX_RETRY_AFTER_SECONDS,
    check_count,
    check_finish,
    check_headers,
    check_seconds,
    check_status,
    check_text,
    check_times,
    check_usage,
    check_vectors,
    normalize_tool_calls,
)
from .dialects import APIS
from .engine import (
    DEFAULT_STREAM_ERROR,
    Action,
    Fail,
    Fault,
    Matcher,
    Raw,
    Reply,
    Respond,
    RouteName,
    Rule,
    Stream,
)

__all__ = ["RouteScript", "RuleSink"]


#: ``reply(json=...)`` left out (``None`` is a JSON value).
NO_JSON: Any = object()


class RuleSink(Protocol):
    """Where a ``RouteScript`` puts its rules (the fake)."""

    @property
    def rules(self) -> list[Rule]: ...

    def _add_rule(self, rule: Rule) -> None: ...


def _caller_origin() -> str:
    """File and line of the first frame outside this package: where the test scripted."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fake_server"):
        frame = frame.f_back
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _short(args: Sequence[object], kwargs: Mapping[str, object]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if v is not None]
    text = ", ".join(parts)
    return text if len(text) <= 80 else text[:77] + "..."


class RouteScript:
    """The scripting API of one route: ``fake.chat``, ``fake.completions``, ``fake.embeddings``,
    ``fake.models``. Every method adds a rule and returns it."""

    def __init__(self, server: RuleSink, route: RouteName, matcher: Matcher | None = None):
        self._server = server
        self._route: RouteName = route
        self._matcher = matcher or Matcher()

    def __repr__(self) -> str:
        return f"<RouteScript fake.{self._route}{self._matcher.describe()}>"

    def when(
        self,
        *,
        model: str | None = None,
        contains: str | None = None,
        stream: bool | None = None,
        api: str | None = None,
    ) -> RouteScript:
        """Narrow the next rule to requests for ``model``, whose text has ``contains``,
        that are (or are not) streamed, or that came through one door (``api``: "openai"
        for ``/v1``, "rest-v0" for ``/api/v0``, "rest-v1" for ``/api/v1``, "responses" for
        ``/v1/responses``, "messages" for ``/v1/messages``, "sdk" for the websockets of LM
        Studio's own SDKs)."""
        for name, value in (("model", model), ("contains", contains)):
            if value is not None and not isinstance(value, str):
                raise ScriptError(f"when({name}=...) takes a string, got {value!r}")
        if stream is not None and not isinstance(stream, bool):
            raise ScriptError(f"when(stream=...) takes True or False, got {stream!r}")
        if api is not None and api not in APIS:
            raise ScriptError(f"when(api=...) takes one of {', '.join(APIS)}; got {api!r}")
        merged = Matcher(
            model=model if model is not None else self._matcher.model,
            contains=contains if contains is not None else self._matcher.contains,
            stream=stream if stream is not None else self._matcher.stream,
            api=api if api is not None else self._matcher.api,
        )
        return RouteScript(self._server, self._route, merged)

    @property
    def rules(self) -> list[Rule]:
        """This route's rules, in the order they are tried."""
        return [r for r in self._server.rules if r.route == self._route]

    def _add(
        self,
        action: Action | None,
        times: object,
        call_text: str,
        *,
        fault: Fault | None = None,
        delay: object = 0.0,
    ) -> Rule:
        seconds = check_seconds(delay, "delay")
        if seconds and action is not None:
            call_text = call_text[:-1] + (", " if not call_text.endswith("()") else "")
            call_text += f"delay={seconds:g})"
        rule = Rule(
            route=self._route,
            matcher=self._matcher,
            action=action,
            times=check_times(times),
            origin=_caller_origin(),
            call_text=call_text,
            fault=fault,
            delay=seconds,
        )
        self._server._add_rule(rule)
        return rule

    def reply(
        self,
        content: str | None = None,
        *,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        finish_reason: str | None = None,
        usage: Mapping[str, int] | None = None,
        reasoning: str | None = None,
        embeddings: Sequence[Sequence[float]] | None = None,
        json: Any = NO_JSON,
        times: int | None = None,
        delay: float = 0.0,
    ) -> Rule:
        """Answer with this text and/or tool calls (chat, completions) or these vectors
        (embeddings). Usage defaults to the fake's token counts.

        ``json=`` (chat) answers with that value as JSON text: for a request with a
        ``response_format`` schema it is checked against that schema when the request
        arrives (a mismatch is an error inside the fake, which ``check()`` reports)."""
        has_json = json is not NO_JSON
        if has_json:
            if content is not None:
                raise ScriptError("reply() takes content or json=, not both")
            try:
                content = dumps(json)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ScriptError(f"reply(json=...) must be JSON-ready: {exc}") from None
        shown = [content] if content is not None else []
        text = f"reply({_short(shown, dict(tool_calls=tool_calls, embeddings=embeddings))})"
        route = self._route
        if route == "models":
            raise ScriptError("fake.models has no reply(); use add_model(), or respond()/fail()")
        if content is not None and not isinstance(content, str):
            raise ScriptError(f"reply content must be a string, got {type(content).__name__}")
        if route == "embeddings":
            if embeddings is None or content is not None or tool_calls or reasoning:
                raise ScriptError("fake.embeddings.reply() takes embeddings=[[...], ...] only")
            vectors = check_vectors(embeddings)
            action = Reply(embeddings=vectors, usage=check_usage(usage))
            return self._add(action, times, text, delay=delay)
        if embeddings is not None:
            raise ScriptError(f"embeddings= is for fake.embeddings, not fake.{route}")
        calls = normalize_tool_calls(tool_calls)
        if route == "completions" and (calls or reasoning is not None or has_json):
            raise ScriptError(
                "fake.completions.reply() takes text only (no tool calls, reasoning or json=)"
            )
        if content is None and not calls:
            raise ScriptError("reply() needs content, tool_calls, or both")
        action = Reply(
            content=content,
            tool_calls=calls,
            finish_reason=check_finish(finish_reason),
            usage=check_usage(usage),
            reasoning=reasoning,
            json=json if has_json else None,
            has_json=has_json,
        )
        return self._add(action, times, text, delay=delay)

    def stream(
        self,
        chunks: Sequence[str],
        *,
        ttft: float = 0.0,
        interval: float = 0.0,
        finish_reason: str | None = None,
        usage: Mapping[str, int] | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
        times: int | None = None,
        delay: float = 0.0,
        jitter: float = 0.0,
        drop_after: int | None = None,
        stall_after: int | None = None,
        error_after: int | None = None,
        error_message: str = DEFAULT_STREAM_ERROR,
        done: bool = True,
        split_seed: int | None = None,
        reasoning: Sequence[str] | None = None,
    ) -> Rule:
        """Stream these content pieces: the first after ``ttft`` seconds, then one every
        ``interval`` seconds (scheduled from the start, so long streams do not drift), each
        up to ``jitter`` seconds late (seeded). Applies to streamed requests; a non-streamed
        request gets the pieces joined.

        Stream faults, counted in ``data:`` frames sent: ``drop_after=n`` closes the
        connection, ``stall_after=n`` keeps it open and sends nothing more (until ``reset()``
        or ``close()``), ``error_after=n`` sends LM Studio's ``event: error`` frame with
        ``error_message`` and ends the stream; ``done=False`` ends without ``data: [DONE]``;
        ``split_seed`` cuts the bytes at random places (seeded) into separate writes.
        ``reasoning`` pieces are streamed before the content, where the reasoning format
        puts them (a ``reasoning`` delta, or inside ``<think>`` in the content)."""
        if self._route not in ("chat", "completions"):
            raise ScriptError(f"fake.{self._route} does not stream; use reply()")
        if isinstance(chunks, (str, bytes)) or not isinstance(chunks, Sequence):
            raise ScriptError("stream() takes a list of strings, e.g. stream(['Hel', 'lo'])")
        if not all(isinstance(c, str) for c in chunks):
            raise ScriptError("every stream chunk must be a string")
        calls = normalize_tool_calls(tool_calls)
        if not chunks and not calls:
            raise ScriptError("stream() needs at least one chunk or a tool call")
        thoughts = tuple(reasoning or ())
        if isinstance(reasoning, (str, bytes)) or not all(isinstance(t, str) for t in thoughts):
            raise ScriptError("stream(reasoning=...) takes a list of strings")
        if self._route == "completions" and thoughts:
            raise ScriptError("fake.completions.stream() takes no reasoning")
        if self._route == "completions" and calls:
            raise ScriptError("fake.completions.stream() takes text only")
        action = Stream(
            chunks=tuple(chunks),
            ttft=check_seconds(ttft, "ttft"),
            interval=check_seconds(interval, "interval"),
            finish_reason=check_finish(finish_reason),
            usage=check_usage(usage),
            tool_calls=calls,
            jitter=check_seconds(jitter, "jitter"),
            drop_after=check_count(drop_after, "drop_after"),
            stall_after=check_count(stall_after, "stall_after"),
            error_after=check_count(error_after, "error_after"),
            error_message=check_text(error_message, "error_message"),
            done=bool(done),
            split_seed=check_count(split_seed, "split_seed"),
            reasoning=thoughts,
        )
        faults = dict(
            drop_after=drop_after,
            stall_after=stall_after,
            error_after=error_after,
            done=None if done else False,
            split_seed=split_seed,
        )
        text = f"stream({_short([list(chunks)], faults)})"
        return self._add(action, times, text, delay=delay)

    def fail(
        self,
        status: int,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        type: str | None = None,
        code: str | None = None,
        body: Any = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> Rule:
        """Answer with an HTTP error: LM Studio's object form ``{"error": {message, type,
        param, code}}`` unless ``body`` is given; ``retry_after`` sets the header."""
        status = check_status(status, 400, 599, "fail()")
        if retry_after is not None:
            retry_after = check_seconds(retry_after, "retry_after", MAX_RETRY_AFTER_SECONDS)
        if message is not None and not isinstance(message, str):
            raise ScriptError("fail() message must be a string")
        action = Fail(status, message, retry_after, type, code, body)
        text = f"fail({_short([status], dict(message=message))})"
        return self._add(action, times, text, delay=delay)

    def respond(
        self,
        json: Any,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        validate: bool = True,
        times: int | None = None,
        delay: float = 0.0,
    ) -> Rule:
        """Answer with this JSON body. It must match the route's schema (or the error schema
        for a status >= 400) unless ``validate=False``."""
        status = check_status(status, 100, 599, "respond()")
        action = Respond(json, status, check_headers(headers), bool(validate))
        return self._add(action, times, f"respond({_short([json], {})})", delay=delay)

    def raw(
        self,
        body: str | bytes,
        *,
        status: int = 200,
        content_type: str = "application/json; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> Rule:
        """Send these bytes as the body, unchecked: for malformed answers on purpose."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise ScriptError("raw() body must be str or bytes")
        status = check_status(status, 100, 599, "raw()")
        action = Raw(body, status, content_type, check_headers(headers))
        return self._add(action, times, f"raw({_short([body], {})})", delay=delay)

    # -- faults: the default answer, delivered badly ------------------------------------
    def delay(self, seconds: float, *, times: int | None = None) -> Rule:
        """Wait ``seconds`` before sending the default answer (every action also takes
        ``delay=``)."""
        seconds = check_seconds(seconds, "delay")
        return self._add(None, times, f"delay({seconds:g})", delay=seconds)

    def hang(self, *, times: int | None = None) -> Rule:
        """Never answer: the request waits until ``reset()`` or ``close()`` (which release
        it at once by closing its connection) or until the client gives up."""
        return self._add(None, times, "hang()", fault=Fault("hang"))

    def drop(self, *, times: int | None = None) -> Rule:
        """Close the connection before sending the status line."""
        return self._add(None, times, "drop()", fault=Fault("drop"))

    def reset_connection(self, *, times: int | None = None) -> Rule:
        """Reset the connection (a TCP RST) instead of answering."""
        return self._add(None, times, "reset_connection()", fault=Fault("reset_connection"))

    def garbage(self, size: int = 64, *, times: int | None = None) -> Rule:
        """Send ``size`` random bytes (seeded) instead of an HTTP answer, then close."""
        count = check_count(size, "size")
        if not count or count > MAX_GARBAGE_BYTES:
            raise ScriptError(
                f"garbage() size must be at least 1 byte (and at most {MAX_GARBAGE_BYTES})"
            )
        return self._add(None, times, f"garbage({count})", fault=Fault("garbage", size=count))

    def malformed(self, *, times: int | None = None) -> Rule:
        """Answer 200 with a JSON content type and a body that is not JSON."""
        return self._add(None, times, "malformed()", fault=Fault("malformed"))

    def truncate(self, after_bytes: int, *, times: int | None = None) -> Rule:
        """Send the default answer's head (with its full Content-Length) and only the first
        ``after_bytes`` bytes of its body, then close the connection. On a streamed request
        it cuts the event stream after that many bytes."""
        count = check_count(after_bytes, "after_bytes")
        fault = Fault("truncate", after_bytes=count or 0)
        return self._add(None, times, f"truncate({count})", fault=fault)

    def slow_body(self, bytes_per_second: float, *, times: int | None = None) -> Rule:
        """Send the default answer's body at ``bytes_per_second``."""
        if not seconds_in_range(bytes_per_second, 1.0, MAX_BYTES_PER_SECOND):
            raise ScriptError(
                f"slow_body() needs a rate above 0 bytes per second (from 1 to "
                f"{MAX_BYTES_PER_SECOND:g}), "
                f"got {bytes_per_second!r}"
            )
        rate = float(bytes_per_second)
        fault = Fault("slow_body", bytes_per_second=rate)
        return self._add(None, times, f"slow_body({rate:g})", fault=fault)
