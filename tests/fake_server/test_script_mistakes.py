"""Scripting mistakes that used to pass silently get a ``ScriptError`` saying what to do: a
rule for a model the catalog lacks (it could never answer), embeddings of unequal lengths."""

from __future__ import annotations

import httpx
import pytest

from fake_server import FakeLMStudio, ScriptError


def test_a_rule_for_a_model_the_catalog_lacks_is_refused_with_the_closest_id(
    fake: FakeLMStudio,
) -> None:
    with pytest.raises(ScriptError) as raised:
        fake.chat.when(model="qwen3-8b").reply("never sent")
    message = str(raised.value)
    assert message.startswith(
        "when(model='qwen3-8b'): the catalog has no model 'qwen3-8b', so this rule would never "
        "answer (a request for it gets LM Studio's model-not-found before any rule is tried). "
        "Did you mean 'qwen/qwen3-8b'? Add the model before scripting for it: "
        "fake.add_model('qwen3-8b'), or @pytest.mark.lmstudio(models=[...]). In the catalog: "
        "qwen/qwen3-8b, "
    )
    assert fake.rules == []
    with pytest.raises(ScriptError, match=r"no model 'gpt-4o'.*Add the model") as far:
        fake.embeddings.when(model="gpt-4o").fail(500)
    assert "Did you mean" not in str(far.value)


def test_every_name_a_request_may_use_is_accepted(fake: FakeLMStudio) -> None:
    fake.chat.when(model="qwen/qwen3-8b").reply("by id")
    fake.chat.when(model="qwen/qwen3-8b:1").reply("by instance id")
    fake.add_model("acme/tiny-1b", loaded=False)  # added first: scripting for it is fine
    fake.chat.when(model="acme/tiny-1b").reply("not loaded yet, JIT loads it")
    fake.models.when(model="anything").fail(500)
    assert len(fake.rules) == 4


def test_with_the_single_loaded_fallback_an_unknown_id_can_match_so_it_is_accepted(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.set_single_loaded_fallback(True)
    fake.set_jit(False)
    fake.chat.when(model="gpt-4o").reply("served by the one loaded model")
    for model in fake.catalog:
        if model.id != "qwen/qwen3-8b":
            fake.unload_model(model.id)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    answer = client.post("/v1/chat/completions", json=body).json()
    assert answer["choices"][0]["message"]["content"] == "served by the one loaded model"


def test_embeddings_of_unequal_lengths_are_refused(fake: FakeLMStudio) -> None:
    with pytest.raises(ScriptError) as raised:
        fake.embeddings.reply(embeddings=[[0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.5, 0.5]])
    assert str(raised.value) == (
        "embeddings must all have the same length (one model's vectors share one dimension): "
        "embeddings[0] has 3 numbers, embeddings[2] has 2"
    )
    fake.embeddings.reply(embeddings=[[0.1, 0.2], [0.3, 0.4]])  # equal lengths are fine
