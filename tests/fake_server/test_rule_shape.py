"""A scripted rule is checked by every door's encoder once per shape (``dialects._rule_shape``).

The shortcut is sound only while the doors read nothing of a scripted text but whether it is
missing, empty or blank. These tests hold them to it: texts of one class, as unlike each other
as text gets, pass every door's full check (run here without the shortcut) and have one shape;
a rule that fails is refused every time, and what differs in more than text is checked again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

import fake_server.dialects as dialects
from fake_server import FakeLMStudio, ScriptError
from fake_server.dialects import _rule_shape
from fake_server.engine import Action, Matcher, Reply, RouteName, Rule, State, Stream

TEXTS = [
    "Paris.",
    "x" * 20_000,
    "line one\nline two\r\n\ttabbed",
    "<think>not reasoning</think> and after",
    '{"looks": ["like", "json"]}',
    "data: [DONE]\n\n",
    "emoji \U0001f999 and accents: déjà vu, 中文",
    "a lone surrogate \ud800 here",
    "nul \x00 and escape \x1b[31m",
    "  leading and trailing  ",
]
BLANK = [" ", "\n", "\t \r\n", "\u3000"]
CALL = {"id": "call_1", "name": "lookup", "arguments": '{"city": "Paris"}'}


@pytest.fixture
def fake() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as server:
        yield server


def _rule(action: Action, route: RouteName = "chat") -> Rule:
    return Rule(route, Matcher(), action)


def _state(fake: FakeLMStudio) -> State:
    return fake._state  # the state a rule is checked in when it is scripted


def _shape_and_problems(fake: FakeLMStudio, rule: Rule) -> tuple[Any, list[str]]:
    state = _state(fake)
    purpose = "embeddings" if rule.route == "embeddings" else "chat"
    model = next(m for m in state.catalog.models() if m.serves(purpose))
    return _rule_shape.rule_shape(rule, state, model), dialects._door_problems(rule, state, model)


def _actions(text: str) -> list[Action]:
    return [
        Reply(content=text),
        Reply(content=text, reasoning=text),
        Reply(content=text, tool_calls=(CALL,)),
        Stream(chunks=(text, text)),
        Stream(chunks=(text,), reasoning=(text,)),
        Stream(chunks=(text,), error_after=1, error_message=text),
    ]


@pytest.mark.parametrize("texts", [TEXTS, BLANK, [""]], ids=["text", "blank", "empty"])
def test_texts_of_one_class_pass_every_door_alike(fake: FakeLMStudio, texts: list[str]) -> None:
    shapes: list[set[Any]] = [set() for _ in _actions("")]
    for text in texts:
        for i, action in enumerate(_actions(text)):
            shape, problems = _shape_and_problems(fake, _rule(action))
            assert problems == [], (text, action)
            shapes[i].add(shape)
        shape, problems = _shape_and_problems(fake, _rule(Reply(content=text), "completions"))
        assert problems == [], text
    assert all(len(of_one_action) == 1 for of_one_action in shapes)


def test_each_text_class_is_a_shape_of_its_own(fake: FakeLMStudio) -> None:
    shapes = {
        _shape_and_problems(fake, _rule(Reply(content=text, tool_calls=(CALL,))))[0]
        for text in (None, "", " ", "text")
    }
    assert len(shapes) == 4


def test_a_rule_of_a_checked_shape_skips_the_doors(
    fake: FakeLMStudio, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[Rule] = []
    real = dialects._door_problems

    def counting(rule: Rule, state: State, model: Any) -> list[str]:
        checked.append(rule)
        return real(rule, state, model)

    monkeypatch.setattr(dialects, "_door_problems", counting)
    monkeypatch.setattr(_rule_shape, "_VALID", set())
    fake.chat.reply("first answer")
    fake.chat.reply("a second, different answer")
    fake.reset()
    fake.chat.reply("after a reset: the same shape")
    assert len(checked) == 1
    fake.chat.reply("another finish reason", finish_reason="length")
    fake.chat.when(api="sdk").reply("narrowed to one door")
    fake.chat.reply("a tool call", tool_calls=[CALL])
    fake.chat.stream(["streamed"])
    fake.set_profile("lmstudio-0.3.5")
    fake.chat.reply("another version of LM Studio")
    assert len(checked) == 6


def test_a_failing_rule_is_refused_every_time(fake: FakeLMStudio) -> None:
    """The SDK door refuses tool-call arguments that are not a JSON object: refused each
    time, before and after a rule that differs only in its arguments passed."""
    bad = [{**CALL, "arguments": "[1, 2]"}]
    for _ in range(2):
        with pytest.raises(ScriptError, match="must be a JSON object"):
            fake.chat.reply("calling", tool_calls=bad)
    fake.chat.reply("calling", tool_calls=[CALL])
    with pytest.raises(ScriptError, match="must be a JSON object"):
        fake.chat.reply("calling", tool_calls=bad)
    assert len(fake.rules) == 1


def test_a_body_given_as_it_is_has_no_shape(fake: FakeLMStudio) -> None:
    for _ in range(2):
        with pytest.raises(ScriptError, match="breaks the API format"):
            fake.chat.respond({"choices": "not a list"})
    odd_usage = _rule(Reply(content="x", usage={"prompt_tokens": 1.5j}))  # type: ignore[dict-item]
    model = _state(fake).catalog.models()[0]
    assert _rule_shape.rule_shape(odd_usage, _state(fake), model) is None


def test_every_field_but_the_texts_enters_the_shape(fake: FakeLMStudio) -> None:
    """Changing any other field of a stream changes its shape (a field added later enters
    by value too: the key is built from the dataclass's fields)."""
    other_values: dict[str, Any] = {
        "ttft": 0.5, "interval": 0.1, "finish_reason": "length", "tool_calls": (CALL,),
        "usage": {"prompt_tokens": 3}, "jitter": 0.2, "drop_after": 1, "stall_after": 1,
        "error_after": 1, "done": False, "split_seed": 7,
    }  # fmt: skip
    base = Stream(chunks=("a", "b"))
    texts = {"chunks", "reasoning", "error_message"}
    assert {f.name for f in dataclasses.fields(Stream)} - texts == set(other_values)
    model = _state(fake).catalog.models()[0]

    def shape(action: Stream) -> Any:
        return _rule_shape.rule_shape(_rule(action), _state(fake), model)

    for name, value in other_values.items():
        assert shape(dataclasses.replace(base, **{name: value})) != shape(base), name
    assert shape(dataclasses.replace(base, chunks=("other", "text"))) == shape(base)
