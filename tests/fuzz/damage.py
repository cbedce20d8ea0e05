"""The damage kinds: each turns a target and a valid body into one request's bytes.

A ``Damage`` says which targets it applies to and builds a ``Payload`` (body, headers, query);
``make_probe`` adds the request line and says what the verdict expects of the answer: a 2xx
is wrong for a body no JSON parser may accept (``reject``), some kinds need an exact status
(``expect``), and whether the fake journals the request follows from the route that answers.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fake_server._server import DEFAULT_MAX_BODY_BYTES

from .bodies import bundle, random_json
from .client import build_request
from .routes import ANY_METHODS, Router, Target

JSON_TYPE = b"application/json"


@dataclass
class Context:
    """What building a request needs besides the target: the fake's models by type, the
    body pools by schema, the Host header."""

    host: str
    models: dict[str, list[str]]
    pools: dict[str, list[str]]  # schema -> valid bodies, as JSON text (loads beats deepcopy)
    near: dict[str, list[str]] = field(default_factory=dict)

    def model_ids(self) -> list[str]:
        return [m for ids in self.models.values() for m in ids]


@dataclass
class Payload:
    body: bytes | None = None
    content_type: bytes | None = JSON_TYPE
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    query: str = ""
    method: str | None = None
    chunks: list[bytes] | None = None
    reject: bool = False
    expect: int | None = None


@dataclass(frozen=True)
class Probe:
    """One request of the fuzz and what its answer must be."""

    kind: str
    label: str
    method: str
    path: str
    data: bytes
    journaled: bool
    destructive: bool
    reject: bool
    expect: int | None


@dataclass(frozen=True)
class Damage:
    name: str
    applies: Callable[[Target], bool]
    make: Callable[[random.Random, Target, Context], Payload]
    costly: bool = False  # a big upload: rare in the fuzz, on one route in the subset


# -- what a target's schema offers --------------------------------------------------------
def _props(target: Target) -> dict[str, Any]:
    if target.schema is None:
        return {}
    props: dict[str, Any] = bundle(target.schema).get("properties", {})
    return props


def _required(target: Target) -> list[str]:
    return list(bundle(target.schema).get("required", [])) if target.schema else []


@functools.cache
def _numeric_of(schema: str | None) -> list[str]:
    props = bundle(schema).get("properties", {}) if schema else {}
    text = {name: json.dumps(spec) for name, spec in props.items()}
    return [n for n, t in text.items() if '"integer"' in t or '"number"' in t] or ["fuzz"]


def _numeric(target: Target) -> list[str]:
    return _numeric_of(target.schema)


def _has_body(t: Target) -> bool:
    return t.body != "none"


def _json_object(t: Target) -> bool:
    return t.body != "none" and t.schema is not None


def _no_body(t: Target) -> bool:
    return t.body == "none"


def _any(t: Target) -> bool:
    return True


# -- bodies -------------------------------------------------------------------------------
def valid_body(rng: random.Random, target: Target, ctx: Context) -> Any:
    """A body from the pool; mostly naming a model the fake has, half of them streamed."""
    pool = ctx.pools.get(target.schema or "", [])
    body = json.loads(rng.choice(pool)) if pool else {}
    props = _props(target)
    if isinstance(body, dict) and "model" in props and rng.random() < 0.8:
        kind = "embeddings" if target.path.endswith("embeddings") else "llm"
        ids = ctx.models.get(kind) or ctx.model_ids()
        if ids:
            body["model"] = rng.choice(ids)
    if isinstance(body, dict) and "stream" in props:
        body["stream"] = rng.random() < 0.5
    return body


def encode(body: Any, marks: dict[str, bytes] | None = None) -> bytes:
    """``body`` as compact UTF-8 JSON, each mark string replaced by raw bytes."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    for mark, raw in (marks or {}).items():
        data = data.replace(json.dumps(mark).encode(), raw, 1)
    return data


MARK = "@@fuzz-mark@@"


def _with_mark(rng: random.Random, target: Target, ctx: Context, key: str | None) -> Any:
    body = valid_body(rng, target, ctx)
    if not isinstance(body, dict):
        body = {}
    body[key or rng.choice(_numeric(target))] = MARK
    return body


def _marked(raw: bytes, key: str | None = None, **kw: Any) -> Callable[..., Payload]:
    def make(rng: random.Random, target: Target, ctx: Context) -> Payload:
        return Payload(encode(_with_mark(rng, target, ctx, key), {MARK: raw}), **kw)

    return make


def _strings(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _strings(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _strings(v, (*path, i))]
    return []


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _in_a_string(raw: bytes) -> Callable[..., Payload]:
    """``raw`` (the inside of a JSON string) as one of the body's strings, or a key."""

    def make(rng: random.Random, target: Target, ctx: Context) -> Payload:
        body = valid_body(rng, target, ctx)
        paths = _strings(body)
        if paths and rng.random() < 0.8:
            _set(body, rng.choice(paths), MARK)
        elif isinstance(body, dict):
            body[MARK] = 1  # as a key
        return Payload(encode(body, {MARK: b'"' + raw + b'"'}))

    return make


# -- the kinds ----------------------------------------------------------------------------
def _valid(rng: random.Random, target: Target, ctx: Context) -> Payload:
    if target.body == "none":
        return Payload(None, content_type=None)
    return Payload(encode(valid_body(rng, target, ctx)))


def _mutated(rng: random.Random, target: Target, ctx: Context) -> Payload:
    near = ctx.near.get(target.schema or "")
    if near and rng.random() < 0.3:
        return Payload(rng.choice(near).encode())
    body = valid_body(rng, target, ctx)
    spots: list[tuple[Any, ...]] = [(k,) for k in body] if isinstance(body, dict) else []
    spots += [p for p in _strings(body) if len(p) > 1]
    if spots:
        _set(body, rng.choice(spots), random_json(rng))
    return Payload(encode(body))


def _wrong_type(rng: random.Random, target: Target, ctx: Context) -> Payload:
    body = valid_body(rng, target, ctx)
    if not isinstance(body, dict):
        body = {}
    required = _required(target)
    key = rng.choice(required or list(body) or ["fuzz"])
    body[key] = rng.choice([None, True, 12.5, -3, {"a": 1}])
    return Payload(encode(body), reject=key in required)


def _drop_required(rng: random.Random, target: Target, ctx: Context) -> Payload:
    body = valid_body(rng, target, ctx)
    for key in _required(target):
        body.pop(key, None)
    return Payload(encode(body), reject=True)


def _non_object(rng: random.Random, target: Target, ctx: Context) -> Payload:
    raw = rng.choice([b"[]", b"[{}]", b'"messages"', b"0", b"null", b"true", b"1e5"])
    return Payload(raw, reject=True)


def _truncated(rng: random.Random, target: Target, ctx: Context) -> Payload:
    data = encode(valid_body(rng, target, ctx))
    return Payload(data[: rng.randint(1, max(1, len(data) - 1))], reject=True)


def _deep(n: int, opener: bytes, leaf: bytes, closer: bytes) -> bytes:
    return opener * n + leaf + closer * n


def _deep_tools(n: int) -> Callable[..., Payload]:
    schema = _deep(n, b'{"type":"object","properties":{"a":', b'{"type":"string"}', b"}}")

    def make(rng: random.Random, target: Target, ctx: Context) -> Payload:
        body = valid_body(rng, target, ctx)
        body["tools"] = [{"type": "function", "function": {"name": "f", "parameters": MARK}}]
        body["tool_choice"] = "required"
        return Payload(encode(body, {MARK: schema}))

    return make


def _huge_string(rng: random.Random, target: Target, ctx: Context) -> Payload:
    body = _with_mark(rng, target, ctx, "fuzz")
    size = rng.choice([256 * 1024, 1024 * 1024, 2 * 1024 * 1024])
    return Payload(encode(body, {MARK: b'"' + b"x" * size + b'"'}))


def _oversized(rng: random.Random, target: Target, ctx: Context) -> Payload:
    body = _with_mark(rng, target, ctx, "fuzz")
    size = DEFAULT_MAX_BODY_BYTES + 1024
    return Payload(encode(body, {MARK: b'"' + b"y" * size + b'"'}), expect=413)


def _empty(rng: random.Random, target: Target, ctx: Context) -> Payload:
    return Payload(b"", reject=True)


_CONTENT_TYPES = (
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=zz",
    b"application/json; charset=utf-16",
    b"application/toml",
    b";;;",
    None,
)


def _wrong_content_type(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    payload.content_type = rng.choice(_CONTENT_TYPES)
    return payload


_BAD_BYTES = (b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"caf\xe9", b"\x80")


def _odd_header(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    name = rng.choice([b"X-Fuzz", b"User-Agent", b"Authorization", b"Accept", b"Origin"])
    value = rng.choice([b"Bearer ", b"", b"x"]) + rng.choice(_BAD_BYTES)
    if rng.random() < 0.3 and payload.content_type is not None:
        payload.content_type += b"; x=" + rng.choice(_BAD_BYTES)
    payload.headers.append((name, value))
    return payload


def _duplicate_keys(rng: random.Random, target: Target, ctx: Context) -> Payload:
    body = valid_body(rng, target, ctx)
    data = encode(body)
    if not isinstance(body, dict) or not body:
        return Payload(b'{"fuzz":1,"fuzz":2}')
    key = json.dumps(rng.choice(list(body))).encode()
    junk = encode(random_json(rng))
    return Payload(b"{" + key + b":" + junk + b"," + data[1:])


def _content_encoding(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    coding = rng.choice([b"gzip", b"deflate", b"br", b"zstd", b"x-fuzz", b"gzip, gzip"])
    payload.headers.append((b"Content-Encoding", coding))
    return payload


def _odd_query(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    payload.query = rng.choice(
        ["a=%ff%fe", "%ed%a0%80=1", "&&&==&", "x=" + "y" * 3000, "stream=true", "a=%00", "%"]
    )
    return payload


def _unexpected_body(rng: random.Random, target: Target, ctx: Context) -> Payload:
    return Payload(rng.choice([b'{"a":1}', b"\xff\x00garbage", b"NaN", b"[" * 1000]))


def _chunked(rng: random.Random, target: Target, ctx: Context) -> Payload:
    data = encode(valid_body(rng, target, ctx))
    cuts = sorted(rng.sample(range(1, max(2, len(data))), k=min(3, max(0, len(data) - 1))))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return Payload(None, chunks=chunks)


def _expect_continue(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    payload.headers.append((b"Expect", b"100-continue"))
    return payload


def _bad_method(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    payload.method = rng.choice([m for m in ANY_METHODS if m != target.method])
    return payload


def _odd_auth(rng: random.Random, target: Target, ctx: Context) -> Payload:
    payload = _valid(rng, target, ctx)
    value = rng.choice([b"Bearer", b"Bearer " + b"t" * 20000, b"Basic Og==", b"bearer  x y"])
    payload.headers.append((b"Authorization", value))
    return payload


_EXTREMES = [b"9007199254740993", b"-9223372036854775809", b"1" + b"0" * 300, b"1e308"]
_EXTREMES += [b"-1e308", b"5e-324", b"-0.0", b"1e999", b"0.1e-99999"]


def _extreme_number(rng: random.Random, target: Target, ctx: Context) -> Payload:
    return _marked(rng.choice(_EXTREMES))(rng, target, ctx)


def _bom(rng: random.Random, target: Target, ctx: Context) -> Payload:
    return Payload(b"\xef\xbb\xbf" + encode(valid_body(rng, target, ctx)))


def _lone_model(rng: random.Random, target: Target, ctx: Context) -> Payload:
    raw = rng.choice([b'"\\ud800"', b'"\\udfff"', b'"qwen\\udc00"', b'"\\udc00\\ud800"'])
    return _marked(raw, "model")(rng, target, ctx)


def _has(name: str) -> Callable[[Target], bool]:
    return lambda t: _json_object(t) and name in _props(t)


DAMAGES: list[Damage] = [
    Damage("valid", _any, _valid),
    Damage("mutated_field", _json_object, _mutated),
    Damage("wrong_type", _json_object, _wrong_type),
    Damage("drop_required", lambda t: _json_object(t) and bool(_required(t)), _drop_required),
    Damage("non_object", _json_object, _non_object),
    Damage("truncated_json", _json_object, _truncated),
    Damage("lone_surrogate", _json_object, _in_a_string(b"a\\ud800b")),
    Damage("lone_surrogate_low", _json_object, _in_a_string(b"\\udfff")),
    Damage("lone_surrogate_model", _has("model"), _lone_model),
    Damage("deep_array_1k", _has_body, _marked(_deep(1000, b"[", b"", b"]"), "fuzz")),
    Damage(
        "deep_array_100k", _has_body, _marked(_deep(100_000, b"[", b"", b"]"), "fuzz"), costly=True
    ),
    Damage("deep_object_1k", _has_body, _marked(_deep(1000, b'{"a":', b"1", b"}"), "fuzz")),
    Damage(
        "deep_object_100k",
        _has_body,
        _marked(_deep(100_000, b'{"a":', b"1", b"}"), "fuzz"),
        costly=True,
    ),
    Damage("deep_tool_parameters_1k", _has("tools"), _deep_tools(1000)),
    Damage("deep_tool_parameters_100k", _has("tools"), _deep_tools(100_000), costly=True),
    Damage("big_int_5000_digits", _has_body, _marked(b"9" * 5000)),
    Damage("big_int_4301_digits", _has_body, _marked(b"-1" + b"0" * 4300)),
    Damage("nan_literal", _has_body, _marked(b"NaN", reject=True)),
    Damage("infinity_literal", _has_body, _marked(b"Infinity", reject=True)),
    Damage("neg_infinity_literal", _has_body, _marked(b"-Infinity", reject=True)),
    Damage("extreme_number", _has_body, _extreme_number),
    Damage("non_utf8_body", _has_body, _in_a_string(b"a\xff\xfeb")),
    Damage("utf8_encoded_surrogate", _has_body, _in_a_string(b"\xed\xa0\x80")),
    Damage("huge_string", _has_body, _huge_string, costly=True),
    Damage("oversized_body", _has_body, _oversized, costly=True),
    Damage("empty_body", _json_object, _empty),
    Damage("wrong_content_type", _has_body, _wrong_content_type),
    Damage("non_utf8_header", _any, _odd_header),
    Damage("duplicate_keys", _json_object, _duplicate_keys),
    Damage("utf8_bom", _has_body, _bom),
    Damage("content_encoding_lie", _has_body, _content_encoding),
    Damage("odd_query", _any, _odd_query),
    Damage("unexpected_body", _no_body, _unexpected_body),
    Damage("chunked_body", _has_body, _chunked),
    Damage("expect_continue", _has_body, _expect_continue),
    Damage("other_method", lambda t: t.method != "*", _bad_method),
    Damage("odd_authorization", _any, _odd_auth),
]
DAMAGE_NAMES = [d.name for d in DAMAGES]


def make_probe(
    rng: random.Random, target: Target, damage: Damage, ctx: Context, router: Router
) -> Probe:
    """One request: ``damage`` done to a request for ``target``."""
    payload = damage.make(rng, target, ctx)
    method = payload.method or target.pick_method(rng)
    path = target.sample_path(rng, ctx.model_ids())
    if payload.query:
        path += "?" + payload.query
    headers = list(payload.headers)
    if payload.content_type is not None and (payload.body is not None or payload.chunks):
        headers.insert(0, (b"Content-Type", payload.content_type))
    data = build_request(method, path, ctx.host, headers, payload.body, chunks=payload.chunks)
    answering = router.resolve(method, path)
    # A body that the answering route does not read gets no verdict on its content.
    reads_body = answering is not None and answering.body != "none"
    return Probe(
        kind=damage.name,
        label=target.label,
        method=method,
        path=path,
        data=data,
        journaled=answering is not None and answering.journal,
        destructive=answering is not None and answering.destructive,
        reject=payload.reject and reads_body,
        expect=payload.expect if reads_body else None,
    )
