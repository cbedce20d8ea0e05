"""The SDK door's model endpoints: listing, finding, loading and unloading models, their
info, load config and tokenizer, and embeddings.

Namespaces ``llm`` and ``embedding`` each see the loaded models of their own domain. A model
specifier names an instance (``key``, ``key:2``), a model key, or a model's path, or is an
instance reference from an earlier answer. Loads go through the engine's loader, so the
catalog's rules hold: ``getOrLoad`` is a JIT load (TTL, auto-evict), ``loadModel`` an
explicit one (another instance when the model is loaded already).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from typing import Any

from ..._catalog import Model
from ..._content import count_tokens, token_texts
from ...engine import Decision, Fail, ModelRefused, Raw, Respond, State, Turn, vectors
from ..openai_shapes import default_fail_message
from ._frames import VOID
from ._protocol import Channel, Gone, Request, SdkError
from ._shapes import (
    INSTANCE_PREFIX,
    domain,
    error,
    identifier_not_found,
    instance_info,
    load_config,
    model_info,
    model_path,
    no_model_matching,
    path_not_found,
)

__all__ = [
    "count_tokens_rpc",
    "embed_string",
    "find_instance",
    "get_load_config",
    "get_model_info",
    "get_or_load",
    "list_downloaded",
    "list_loaded",
    "load_model",
    "raw_frame",
    "resolved",
    "specifier_issues",
    "tokenize",
    "unload_model",
    "version",
]

#: Token ids are drawn from this range (a vocabulary's size).
VOCABULARY = 151_936
#: A load reports its progress this often at most, and at least four times.
PROGRESS_SECONDS = 1.0


# -- finding models -------------------------------------------------------------------------
def _instances(state: State, namespace: str) -> list[tuple[Model, int]]:
    return [(m, n) for m in state.catalog.models() if domain(m) == namespace for n in m.instances]


def _instance_ids(state: State, namespace: str) -> list[str]:
    return [m.instance_id(n) for m, n in _instances(state, namespace)]


def specifier_issues(specifier: Any, where: str) -> list[str]:
    """A model specifier's shape: a query object or an instance reference."""
    if not isinstance(specifier, dict):
        return [f"- {where}: Expected object, received {type(specifier).__name__}"]
    kind = specifier.get("type")
    if kind == "query":
        query = specifier.get("query")
        if not isinstance(query, dict):
            return [f"- {where}.query: Required (an object)"]
        identifier = query.get("identifier")
        if identifier is not None and not isinstance(identifier, str):
            return [f"- {where}.query.identifier: Expected string"]
        return []
    if kind == "instanceReference":
        if not isinstance(specifier.get("instanceReference"), str):
            return [f"- {where}.instanceReference: Required (a string)"]
        return []
    return [f"- {where}.type: Invalid discriminator value. Expected 'query' | 'instanceReference'"]


def find_instance(
    state: State, namespace: str, specifier: dict[str, Any]
) -> tuple[Model, int] | None:
    """The loaded instance a specifier names, in this namespace's domain."""
    state.catalog.expire(state.clock())
    candidates = _instances(state, namespace)
    if specifier.get("type") == "instanceReference":
        wanted = specifier["instanceReference"]
        return next(
            ((m, n) for m, n in candidates if INSTANCE_PREFIX + m.instance_id(n) == wanted), None
        )
    query = specifier["query"]
    identifier = query.get("identifier") or query.get("path")
    if not isinstance(identifier, str):
        return candidates[0] if candidates else None
    for model, number in candidates:
        if identifier == model.instance_id(number):
            return model, number
    for model, number in candidates:
        if identifier in (model.id, model_path(model)):
            return model, number
    return None


def resolved(request: Request, specifier: dict[str, Any]) -> tuple[Model, int]:
    """The instance a specifier names; ``noModelMatchingQuery`` when none is loaded."""
    state = request.state
    with request.engine.lock:
        found = find_instance(state, request.namespace, specifier)
        if found is not None:
            return found
        loaded = _instance_ids(state, request.namespace)
    query = specifier.get("query")
    if not isinstance(query, dict):
        query = {"identifier": specifier.get("instanceReference", "")}
    raise SdkError(no_model_matching(query, loaded), 404)


def _downloaded(request: Request, key: str) -> Model:
    """The downloaded model a key or path names, in this namespace's domain."""
    state = request.state
    with request.engine.lock:
        state.catalog.expire(state.clock())
        models = state.catalog.models()
        model = state.catalog.get(key) or next((m for m in models if model_path(m) == key), None)
        if model is None:
            found = state.catalog.instance(key)
            model = found[0] if found is not None else None
        paths = [model_path(m) for m in models if domain(m) == request.namespace]
    if model is None:
        raise SdkError(path_not_found(key, paths), 404)
    if domain(model) != request.namespace:
        expected = request.namespace
        raise SdkError(
            error(
                f'Model "{key}" is a model of domain "{domain(model)}", not "{expected}"',
                display={
                    "code": "generic.domainMismatch",
                    "path": model_path(model),
                    "actualDomain": domain(model),
                    "expectedDomain": expected,
                },
            ),
            400,
        )
    return model


def scripted_result(request: Request, decision: Decision) -> Any:
    """What a rule scripted for this call answers instead of the default (None: nothing
    scripted): a failure (``SdkError``), a result given as is, or bytes sent as one frame."""
    action = decision.action
    if isinstance(action, Fail):
        raise SdkError(fail_error(action), action.status)
    if isinstance(action, Respond):
        return action.json
    if isinstance(action, Raw):
        raise raw_frame(action)
    return None


def fail_error(action: Fail) -> dict[str, Any]:
    """A scripted failure as LM Studio's serialized error: ``fail(body=...)`` as given,
    else its message (or the status's words) as the title."""
    if isinstance(action.body, dict):
        return dict(action.body)
    return error(action.message or default_fail_message(action.status))


def raw_frame(action: Raw) -> Gone:
    """``raw()``: its bytes go out as one text frame, in place of the answer."""
    return Gone(action.body.decode("utf-8", "replace"))


async def decided(request: Request, turn: Turn) -> Decision:
    """The engine's decision for a turn of this door, its connection faults applied."""
    decision = await request.engine.decide(turn, request.state, request.entry)
    fault = decision.fault
    if fault is not None:
        if fault.replaces_answer or fault.kind == "malformed":  # a frame is all or nothing
            await request.break_off(fault)
        request.fault = fault
    return decision


# -- system ---------------------------------------------------------------------------------
async def list_downloaded(request: Request) -> Any:
    """Every downloaded model, LLMs and embedding models (``fake.models`` rules answer too)."""
    decision = await decided(request, Turn("models", "sdk"))
    scripted = scripted_result(request, decision)
    if scripted is not None:
        return scripted
    state = request.state
    with request.engine.lock:
        state.catalog.expire(state.clock())
        return [model_info(m) for m in state.catalog.models()]


async def version(request: Request) -> Any:
    return {"version": request.state.profile.version, "build": 1}


# -- llm and embedding: RPCs ----------------------------------------------------------------
async def list_loaded(request: Request) -> Any:
    decision = await decided(request, Turn("models", "sdk"))
    scripted = scripted_result(request, decision)
    if scripted is not None:
        return scripted
    state = request.state
    with request.engine.lock:
        state.catalog.expire(state.clock())
        return [instance_info(m, n) for m, n in _instances(state, request.namespace)]


async def get_model_info(request: Request) -> Any:
    """An instance's info; with ``throwIfNotFound: false`` nothing when none matches."""
    parameter = request.parameter
    if parameter.get("throwIfNotFound") is False:
        with request.engine.lock:
            found = find_instance(request.state, request.namespace, parameter["specifier"])
        if found is None:
            return VOID
    model, number = resolved(request, parameter["specifier"])
    request.entry.model = model.id
    with request.engine.lock:
        return instance_info(model, number)


async def get_load_config(request: Request) -> Any:
    model, _ = resolved(request, request.parameter["specifier"])
    request.entry.model = model.id
    with request.engine.lock:
        return load_config(model)


def _token_id(token: str) -> int:
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % VOCABULARY


async def tokenize(request: Request) -> Any:
    """The fake's tokens (words and punctuation marks, as every door counts them), as ids
    that depend only on the token's text."""
    model, _ = resolved(request, request.parameter["specifier"])
    request.entry.model = model.id
    return {"tokens": [_token_id(t) for t in token_texts(request.parameter["inputString"])]}


async def count_tokens_rpc(request: Request) -> Any:
    model, _ = resolved(request, request.parameter["specifier"])
    request.entry.model = model.id
    return {"tokenCount": count_tokens(request.parameter["inputString"])}


async def unload_model(request: Request) -> Any:
    identifier = request.parameter["identifier"]
    state = request.state
    with request.engine.lock:
        state.catalog.expire(state.clock())
        found = state.catalog.instance(identifier)
        if found is not None and domain(found[0]) == request.namespace:
            model, number = found
            request.entry.model = model.id
            model.remove_instance(number)
            return VOID
        loaded = _instance_ids(state, request.namespace)
    raise SdkError(identifier_not_found(identifier, loaded), 404)


async def embed_string(request: Request) -> Any:
    """One text's vector: an embedding turn (``fake.embeddings`` rules answer it)."""
    parameter = request.parameter
    model, _ = resolved(request, parameter["modelSpecifier"])
    text = parameter["inputString"]
    body = {"model": model.id, "input": text}
    turn = Turn(
        "embeddings", "sdk", body, model.id, texts=(text,), inputs=(text,),
        prompt_tokens=count_tokens(text),
    )  # fmt: skip
    try:
        decision = await decided(request, turn)
    except ModelRefused:
        with request.engine.lock:
            loaded = _instance_ids(request.state, request.namespace)
        raise SdkError(no_model_matching({"identifier": model.id}, loaded), 404) from None
    scripted = scripted_result(request, decision)
    if scripted is not None:
        return scripted
    return {"embedding": vectors(decision, request.state.seed)[0]}


# -- llm and embedding: loading channels ----------------------------------------------------
def _stack_value(stack: Any, key: str) -> Any:
    """The last value a config stack gives ``key`` (later layers override earlier ones)."""
    value = None
    for layer in stack.get("layers", ()) if isinstance(stack, dict) else ():
        config = layer.get("config") if isinstance(layer, dict) else None
        for field in config.get("fields", ()) if isinstance(config, dict) else ():
            if isinstance(field, dict) and field.get("key") == key:
                value = field.get("value")
    return value


def _context_length(request: Request, stack: Any) -> int | None:
    prefix = "embedding" if request.namespace == "embedding" else "llm"
    value = _stack_value(stack, f"{prefix}.load.contextLength")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def _progress(channel: Channel, model: Model, load: asyncio.Task[Any], kind: str) -> None:
    """Report a load's progress until it is done: at least four steps over its
    ``load_seconds``, never more than ``PROGRESS_SECONDS`` apart (the Python SDK's sync
    client gives up after 60 s without a packet)."""
    seconds = model.load_seconds
    step = min(max(seconds / 4, 0.01), PROGRESS_SECONDS)
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        done, _ = await asyncio.wait({load}, timeout=step)
        if done:
            break
        progress = min((loop.time() - start) / seconds, 0.99) if seconds else 0.5
        await channel.send({"type": kind, "progress": round(progress, 4)})
    load.result()
    await channel.send({"type": kind, "progress": 1.0})


async def get_or_load(request: Request, channel: Channel) -> None:
    """``.model(key)``: the loaded instance, else a JIT load of the downloaded model with its
    progress (the request's ``loadTtlMs`` is the load's idle TTL)."""
    parameter = request.parameter
    identifier = parameter["identifier"]
    query = {"type": "query", "query": {"identifier": identifier}}
    with request.engine.lock:
        found = find_instance(request.state, request.namespace, query)
        if found is not None:
            model, number = found
            model.last_used = request.state.clock()
            request.entry.model = model.id
            info = instance_info(model, number)
    if found is not None:
        await channel.finish({"type": "alreadyLoaded", "info": info})
        return
    model = _downloaded(request, identifier)
    request.entry.model = model.id
    await channel.send({"type": "startLoading", "identifier": model.id, "info": model_info(model)})
    with request.engine.lock:  # "Only Keep Last JIT Loaded Model": the others go
        evicted = [
            instance_info(m, m.instances[0])
            for m in request.state.catalog.models()
            if request.state.auto_evict and m.jit_loaded and m.loaded and m is not model
        ]
    for info in evicted:
        await channel.send({"type": "unloadingOtherJITModel", "info": info})
    ttl_ms = parameter.get("loadTtlMs")
    ttl = ttl_ms / 1000 if isinstance(ttl_ms, (int, float)) and ttl_ms > 0 else None
    state = request.state
    if state.while_loading != "wait":  # an SDK client waits for its load, whatever HTTP does
        state = replace(state, while_loading="wait")
    context = _context_length(request, parameter.get("loadConfigStack"))
    load = asyncio.ensure_future(request.engine.loader.ensure_loaded(model, state, ttl, context))
    try:
        await _progress(channel, model, load, "loadProgress")
    finally:
        load.cancel()
    with request.engine.lock:
        info = instance_info(model, model.instances[0] if model.instances else 1)
    await channel.finish({"type": "loadSuccess", "info": info})


async def load_model(request: Request, channel: Channel) -> None:
    """``load_new_instance(key)``: an explicit load, another instance (``key:2``) when the
    model is loaded already; ``ttlMs`` unloads it after that long idle."""
    parameter = request.parameter
    model = _downloaded(request, parameter["modelKey"])
    request.entry.model = model.id
    wanted = parameter.get("identifier")
    if wanted is not None:
        with request.engine.lock:
            catalog = request.state.catalog
            taken = catalog.get(wanted) is not None or catalog.instance(wanted) is not None
        if taken:
            raise SdkError(
                error(
                    f'An instance with identifier "{wanted}" is already loaded',
                    suggestion="Choose another instance identifier, or unload that one first.",
                ),
                400,
            )
    await channel.send({"type": "resolved", "info": model_info(model)})
    context = _context_length(request, parameter.get("loadConfigStack"))
    engine = request.engine
    load = asyncio.ensure_future(engine.loader.load(model, request.state, context, {}))
    try:
        await _progress(channel, model, load, "progress")
    finally:
        load.cancel()
    number = load.result()
    ttl_ms = parameter.get("ttlMs")
    with engine.lock:
        if wanted is not None:
            model.instance_names[number] = wanted
        if isinstance(ttl_ms, (int, float)) and ttl_ms > 0:
            model.load_ttl = ttl_ms / 1000
        model.last_used = request.state.clock()
        info = instance_info(model, number)
    await channel.finish({"type": "success", "info": info})
