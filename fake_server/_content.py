"""Deterministic default content: text, tool-call arguments, embeddings, ids, token counts.

Everything here is a function of ``(seed, request)``: the fake's seed and the request body
without its transport fields (``stream``, ``stream_options``). The same request sent twice to
fakes with the same seed gets the same text, the same ids and the same token counts; a
streamed request gets the same text as its non-streamed twin.

Token rule (documented in the README): a token is a word (``\\w+``) or a single punctuation
mark; ``count_tokens("Hello, world!") == 4``. ``prompt_tokens`` counts the text of every
message (image parts count nothing) plus the JSON of the tool definitions;
``completion_tokens`` counts the answer's text (or the tool-call arguments).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from ._words import WORDS as WORDS

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")
_TRANSPORT_FIELDS = frozenset({"stream", "stream_options"})
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 20
#: Encoders made once (``json.dumps`` with arguments builds a new one each call): the compact
#: JSON of tool definitions, and the canonical JSON of a request that seeds its answer.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
#: Two base-36 digits for each number below 36 ** 2, the less significant first: an id takes
#: half as many divisions of its 128-bit number.
_PAIRS = tuple(_BASE36[i % 36] + _BASE36[i // 36] for i in range(36 * 36))
#: Tool arguments are generated this many objects deep at most (a schema may nest deeper).
MAX_ARGUMENT_DEPTH = 32

__all__ = [
    "ContentSource",
    "count_tokens",
    "cut_pieces",
    "first_stop",
    "split_tokens",
    "token_texts",
]


def count_tokens(text: str) -> int:
    """The fake's token count for ``text``: words plus punctuation marks."""
    return len(_TOKEN.findall(text))


def token_texts(text: str) -> list[str]:
    """The tokens of ``text`` by the fake's rule (``len(token_texts(t)) == count_tokens(t)``)."""
    return _TOKEN.findall(text)


def split_tokens(text: str) -> list[str]:
    """``text`` cut into tokens, each with its leading white space: ``"".join`` gives it back."""
    pieces = _PIECE.findall(text)
    consumed = sum(len(p) for p in pieces)
    if consumed < len(text) and pieces:  # trailing white space stays with the last token
        pieces[-1] += text[consumed:]
    return pieces or ([text] if text else [])


def message_text(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def prompt_tokens_for_texts(texts: Iterable[str], tools: Any = None) -> int:
    """The prompt's tokens: its messages' texts, and the JSON of the tool definitions."""
    total = sum(count_tokens(text) for text in texts)
    if tools:
        total += count_tokens(_COMPACT.encode(tools))
    return total


def prompt_tokens_for_completion(body: dict[str, Any]) -> int:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return count_tokens(prompt)
    if isinstance(prompt, list):
        return sum(count_tokens(p) if isinstance(p, str) else 1 for p in prompt)
    return 0


_floor = math.floor
_WORD_COUNT = float(len(WORDS))
#: Each word with the space before it, as it follows another in a sentence.
_SPACED_WORDS = tuple(f" {word}" for word in WORDS)


def _below(getrandbits: Any, n: int) -> int:
    """``Random.randrange(n)`` drawn the way CPython draws it (rejection sampling on
    ``getrandbits``), without its three calls: the same numbers for the same state
    (``tests/fake_server/test_content.py`` holds it to ``randint`` and ``choices``)."""
    k = n.bit_length()
    r: int = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


class ContentSource:
    """Seeded generator for one request's default answer."""

    __slots__ = ("_digest", "_rng")

    def __init__(self, seed: int, body: Mapping[str, Any], salt: str = "") -> None:
        key = {k: v for k, v in body.items() if k not in _TRANSPORT_FIELDS}
        canonical = _CANONICAL.encode(key)
        digest = hashlib.blake2b(
            f"{seed}\x00{salt}\x00{canonical}".encode(), digest_size=32
        ).digest()
        self._digest = digest
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        """The request's random source, seeded from its digest on first use: seeding a
        Mersenne Twister is a tenth of a request's work, and a scripted answer needs none."""
        if self._rng is None:
            self._rng = random.Random(int.from_bytes(self._digest[:16], "big"))
        return self._rng

    def completion_id(self, prefix: str) -> str:
        """``chatcmpl-`` / ``cmpl-`` plus 20 lowercase base-36 characters, the form of LM
        Studio's random ids (``chatcmpl-um3b2l9t12bzrtha63q8``), drawn from the request's
        digest so that they are seeded like the rest."""
        number = int.from_bytes(self._digest[16:], "big")
        pairs = []
        for _ in range(ID_LENGTH // 2):
            number, pair = divmod(number, 36 * 36)
            pairs.append(_PAIRS[pair])
        return prefix + "".join(pairs)

    def tool_call_id(self) -> str:
        """A 9-digit decimal string, LM Studio's tool-call id form."""
        return str(self.rng.randrange(100_000_000, 1_000_000_000))

    def sentences(self, count: int | None = None) -> str:
        return "".join(self.sentence_pieces(count))

    def sentence_pieces(self, count: int | None = None) -> list[str]:
        """``sentences()`` already cut into its tokens (``split_tokens`` of it, which a default
        answer needs: its words are letters only, so each is one token with the space before
        it, and each full stop another), without the regular expression's pass over it."""
        rng = self.rng
        draw, bits = rng.random, rng.getrandbits
        n = count if count is not None else 1 + _below(bits, 3)
        out: list[str] = []
        for _ in range(n):
            picks = [_floor(draw() * _WORD_COUNT) for _ in range(4 + _below(bits, 9))]
            first = WORDS[picks[0]].capitalize()
            out.append(f" {first}" if out else first)
            out.extend([_SPACED_WORDS[i] for i in picks[1:]])
            out.append(".")
        return out

    def arguments_for(self, parameters: Any, depth: int = 0) -> dict[str, Any]:
        """Plausible arguments for a tool's JSON-Schema ``parameters`` (required ones only);
        objects nested deeper than ``MAX_ARGUMENT_DEPTH`` are given empty."""
        if not isinstance(parameters, dict) or depth > MAX_ARGUMENT_DEPTH:
            return {}
        props = parameters.get("properties")
        if not isinstance(props, dict):
            return {}
        required = parameters.get("required")
        names = [n for n in props if not isinstance(required, list) or n in required]
        return {name: self._value_for(props[name], depth) for name in names}

    def _value_for(self, schema: Any, depth: int) -> Any:
        rng = self.rng
        if not isinstance(schema, dict):
            return rng.choice(WORDS)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return rng.choice(schema["enum"])
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind == "integer":
            return rng.randint(1, 100)
        if kind == "number":
            return round(rng.uniform(0, 100), 2)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "array":
            return []
        if kind == "object":
            return self.arguments_for(schema, depth + 1)
        return rng.choice(WORDS)


def embedding_vector(seed: int, model_id: str, text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on (seed, model, text)."""
    digest = hashlib.blake2b(
        f"{seed}\x00{model_id}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def encode_base64(vector: list[float]) -> str:
    """OpenAI's ``encoding_format: base64``: little-endian float32, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def first_stop(text: str, stops: Any) -> str | None:
    """The stop string of ``stops`` (a client's list, unchecked) that occurs first in
    ``text``, if any."""
    if not text or not isinstance(stops, list):
        return None
    found = [(text.find(s), s) for s in stops if isinstance(s, str) and s and s in text]
    return min(found)[1] if found else None


def cut_pieces(pieces: list[str], at: int) -> list[str]:
    """The stream pieces of a text's first ``at`` characters."""
    out: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) >= at:
            if at > used:
                out.append(piece[: at - used])
            break
        out.append(piece)
        used += len(piece)
    return out
