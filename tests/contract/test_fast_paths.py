"""The fake's fast request check gives the whole schema's verdict on every example and on
every broken copy of the valid ones."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from fake_server._content import WORDS, ContentSource, split_tokens
from fake_server._schemas import SchemaViolation, validator
from fake_server.dialects.openai_requests import ALLOWED_ROLES, chat_request_is_valid
from fake_server.dialects.openai_shapes import SHAPES as PROFILES
from fake_server.dialects.openai_shapes import (
    ChatMessage,
    _shape,
    chat_frames,
    chat_frames_and_shapes,
    check_frames,
)
from tests.contract.examples import INVALID, VALID
from tests.contract.test_schemas import _variants

SCHEMA = "openai/chat-completion-request.schema.json"


def _roles_known(document: Any) -> bool:
    """The fake checks roles (with LM Studio's own message) before the schema."""
    messages = document.get("messages") if isinstance(document, dict) else None
    return isinstance(messages, list) and all(
        isinstance(m, dict) and m.get("role") in ALLOWED_ROLES for m in messages
    )


def _documents() -> list[Any]:
    documents = [d for _, d in VALID[SCHEMA]] + [d for _, d, _ in INVALID[SCHEMA]]
    for _, document in VALID[SCHEMA]:
        documents.extend(_variants(document))
    return [d for d in documents if _roles_known(d)]


def test_there_are_enough_cases() -> None:
    assert len(_documents()) > 200


@pytest.mark.parametrize("chunk", range(4))
def test_fast_chat_check_agrees_with_the_whole_schema(chunk: int) -> None:
    whole = validator(SCHEMA)
    documents = _documents()[chunk::4]
    disagreements = [d for d in documents if chat_request_is_valid(d) != whole.is_valid(d)]
    assert disagreements == []


@pytest.mark.parametrize("profile", ["lmstudio", "openai"])
@pytest.mark.parametrize(
    "usage", [None, {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}]
)
@pytest.mark.parametrize(
    "message, pieces",
    [
        (ChatMessage("Hello there"), ["Hel", "lo ", "there"]),
        (ChatMessage(""), []),
        (
            ChatMessage(
                None,
                tool_calls=(
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a": 1, "b": [1, 2]}'},
                    },
                ),
            ),
            [],
        ),
        (
            ChatMessage(
                "Let me check.",
                tool_calls=(
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "g", "arguments": "{}"},
                    },
                ),
            ),
            ["Let me ", "check."],
        ),
    ],
)
def test_stream_frame_shapes_from_the_builder_are_those_of_the_parsed_frames(
    profile: str, usage: Any, message: ChatMessage, pieces: list[str]
) -> None:
    """A stream is checked one frame per shape; the builder's shapes (from its deltas) must
    be the ones parsing each frame gives, so that the same frames are checked."""
    chosen = PROFILES[profile]
    prefix = chosen.chunk_prefix("chatcmpl-1", 1, "qwen/qwen3-8b")
    frames, shapes = chat_frames_and_shapes(chosen, prefix, message, "stop", pieces, usage)
    assert frames == chat_frames(chosen, prefix, message, "stop", pieces, usage)
    parsed = []
    for frame in frames:
        document = json.loads(frame)
        choice = (document.get("choices") or [{}])[0]
        delta = choice.get("delta")
        parsed.append(
            _shape(
                delta if isinstance(delta, dict) else None,
                choice.get("finish_reason") is None,
                "usage" in document,
            )
        )
    assert shapes == parsed
    check_frames(frames, "chat", shapes)
    check_frames(frames, "chat")


def test_a_broken_frame_of_a_new_shape_is_caught() -> None:
    chosen = PROFILES["lmstudio"]
    prefix = chosen.chunk_prefix("chatcmpl-1", 1, "qwen/qwen3-8b")
    frames, shapes = chat_frames_and_shapes(chosen, prefix, ChatMessage("ab"), "stop", ["a"], None)
    broken = frames[-1].replace('"finish_reason":"stop"', '"finish_reason":"sideways"')
    with pytest.raises(SchemaViolation):
        check_frames([*frames[:-1], broken], "chat", shapes)


@pytest.mark.parametrize("count", [None, 1, 3])
def test_default_text_comes_cut_into_the_tokens_the_tokenizer_finds(count: int | None) -> None:
    """A default answer's pieces are made with its text, not found in it afterwards: they
    must be what ``split_tokens`` finds, for every seed."""
    for seed in range(300):
        body = {"model": "qwen/qwen3-8b", "seed": seed}
        pieces = ContentSource(seed, body).sentence_pieces(count)
        text = ContentSource(seed, body).sentences(count)
        assert pieces == split_tokens(text)
        assert "".join(pieces) == text


def _sentences_by_the_standard_library(rng: random.Random, count: int | None) -> str:
    """The default text as first written with ``random``'s own calls: what the inlined draws
    of ``sentence_pieces`` must give, so seeded answers stay the same."""
    n = count if count is not None else rng.randint(1, 3)
    sentences = []
    for _ in range(n):
        words = rng.choices(WORDS, k=rng.randint(4, 12))
        sentences.append(" ".join([words[0].capitalize(), *words[1:]]) + ".")
    return " ".join(sentences)


@pytest.mark.parametrize("count", [None, 1, 3])
def test_default_text_is_what_the_standard_librarys_draws_give(count: int | None) -> None:
    for seed in range(500):
        source = ContentSource(seed, {"model": "qwen/qwen3-8b", "seed": seed})
        reference = random.Random()
        reference.setstate(source.rng.getstate())
        assert source.sentences(count) == _sentences_by_the_standard_library(reference, count)
