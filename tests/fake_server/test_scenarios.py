"""Scenario files (JSON and TOML) and scenario mappings: what they set up, how they fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_server import FakeCheckError, FakeLMStudio, FakeServerError, ScenarioError

MODEL = "qwen/qwen3-8b"
EMBEDDER = "text-embedding-nomic-embed-text-v1.5"
DEFAULT_IDS = [MODEL, "qwen2-vl-7b-instruct", EMBEDDER, "openai/gpt-oss-20b"]

SCENARIO: dict[str, Any] = {
    "$schema": "../schemas/scenario.schema.json",
    "seed": 42,
    "profile": "openai",
    "jit": False,
    "models": [
        {
            "id": "acme/tiny-llm",
            "type": "llm",
            "loaded": True,
            "context_length": 2048,
            "capabilities": ["tool_use"],
            "quantization": "Q8_0",
        },
        {"id": "acme/embedder", "type": "embeddings", "loaded": False, "embedding_dimensions": 4},
    ],
    "rules": [
        {"route": "chat", "times": 1, "reply": {"content": "first"}},
        {"route": "chat", "when": {"contains": "weather"}, "reply": {"content": "sunny"}},
        {"route": "completions", "fail": {"status": 503, "retry_after": 2}},
    ],
}

SCENARIO_TOML = """\
"$schema" = "../schemas/scenario.schema.json"
seed = 42
profile = "openai"
jit = false

[[models]]
id = "acme/tiny-llm"
type = "llm"
loaded = true
context_length = 2048
capabilities = ["tool_use"]
quantization = "Q8_0"

[[models]]
id = "acme/embedder"
type = "embeddings"
loaded = false
embedding_dimensions = 4

[[rules]]
route = "chat"
times = 1
reply = { content = "first" }

[[rules]]
route = "chat"
when = { contains = "weather" }
reply = { content = "sunny" }

[[rules]]
route = "completions"
fail = { status = 503, retry_after = 2 }
"""


def write_scenario(folder: Path, suffix: str) -> Path:
    path = folder / f"scenario{suffix}"
    text = json.dumps(SCENARIO, indent=2) if suffix == ".json" else SCENARIO_TOML
    path.write_text(text, encoding="utf-8")
    return path


def chat(client: httpx.Client, content: str = "Hello", **body: Any) -> httpx.Response:
    body.setdefault("model", MODEL)
    body.setdefault("messages", [{"role": "user", "content": content}])
    return client.post("/v1/chat/completions", json=body)


def chat_text(client: httpx.Client, content: str = "Hello", **body: Any) -> str:
    response = chat(client, content, **body)
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


def settings(fake: FakeLMStudio) -> tuple[Any, ...]:
    """Everything a scenario can change, for before/after comparisons."""
    models = [(m.id, m.type, m.loaded, m.max_context_length) for m in fake.catalog]
    rules = [(r.route, r.describe()) for r in fake.rules]
    return fake.seed, fake.profile, fake.jit, fake.api_token, models, rules


def assert_scenario_applied(fake: FakeLMStudio) -> None:
    assert (fake.seed, fake.profile, fake.jit) == (42, "openai", False)
    catalog = {m.id: m for m in fake.catalog}
    assert list(catalog) == [*DEFAULT_IDS, "acme/tiny-llm", "acme/embedder"]
    tiny = catalog["acme/tiny-llm"]
    assert (tiny.loaded, tiny.max_context_length, tiny.quantization) == (True, 2048, "Q8_0")
    assert tiny.capabilities == ["tool_use"]
    assert catalog["acme/embedder"].embedding_dimensions == 4
    assert [(r.route, r.times) for r in fake.rules] == [
        ("chat", 1),
        ("chat", None),
        ("completions", None),
    ]


def assert_scenario_served(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        listed = [m["id"] for m in client.get("/v1/models").json()["data"]]
        assert listed == [MODEL, "acme/tiny-llm"]  # JIT off: loaded models only
        assert chat_text(client, "Hello", model="acme/tiny-llm") == "first"
        assert chat_text(client, "Any weather today?") == "sunny"
        assert chat_text(client, "Hello") not in ("first", "sunny")
        failed = client.post("/v1/completions", json={"model": MODEL, "prompt": "Once"})
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "2"


# -- good scenarios -----------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_scenario_file_given_to_the_constructor(tmp_path: Path, suffix: str) -> None:
    with FakeLMStudio(scenario=write_scenario(tmp_path, suffix)) as fake:
        assert_scenario_applied(fake)
        assert_scenario_served(fake.url)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_load_scenario_file_on_a_running_fake(
    fake: FakeLMStudio, tmp_path: Path, suffix: str
) -> None:
    fake.load_scenario(write_scenario(tmp_path, suffix))
    assert_scenario_applied(fake)
    assert_scenario_served(fake.url)


def test_load_scenario_path_as_string(fake: FakeLMStudio, tmp_path: Path) -> None:
    fake.load_scenario(str(write_scenario(tmp_path, ".toml")))
    assert_scenario_applied(fake)


def test_load_scenario_mapping(fake: FakeLMStudio) -> None:
    fake.load_scenario(SCENARIO)
    assert_scenario_applied(fake)
    assert_scenario_served(fake.url)


def test_json_and_toml_give_the_same_state(tmp_path: Path) -> None:
    from_json = FakeLMStudio(scenario=write_scenario(tmp_path, ".json"))
    from_toml = FakeLMStudio(scenario=write_scenario(tmp_path, ".toml"))
    from_dict = FakeLMStudio(scenario=SCENARIO)
    assert settings(from_json)[:5] == settings(from_toml)[:5] == settings(from_dict)[:5]
    for one in (from_json, from_toml, from_dict):
        one.close()


def test_unknown_suffix_is_read_as_json(fake: FakeLMStudio, tmp_path: Path) -> None:
    path = tmp_path / "scenario.txt"
    path.write_text('{"seed": 5}', encoding="utf-8")
    fake.load_scenario(path)
    assert fake.seed == 5


def test_rules_answer_in_order_until_used_up(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {
            "rules": [
                {"route": "chat", "times": 1, "reply": {"content": "one"}},
                {"route": "chat", "times": 2, "reply": {"content": "two"}},
            ]
        }
    )
    answers = [chat_text(client) for _ in range(4)]
    assert answers[:3] == ["one", "two", "two"]
    assert answers[3] not in ("one", "two")
    assert [r.calls for r in fake.rules] == [1, 2]
    fake.check()


def test_scenario_rules_come_after_rules_already_scripted(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    fake.chat.reply("from python", times=1)
    fake.load_scenario({"rules": [{"route": "chat", "reply": {"content": "from scenario"}}]})
    assert chat_text(client) == "from python"
    assert chat_text(client) == "from scenario"


@pytest.mark.parametrize(
    ("when", "matching", "other"),
    [
        ({"model": "acme/tiny-llm"}, {"model": "acme/tiny-llm"}, {"model": MODEL}),
        ({"contains": "weather"}, {"content": "the weather?"}, {"content": "the news?"}),
        ({"stream": False}, {}, {"stream": True}),
        (
            {"model": MODEL, "contains": "weather"},
            {"content": "weather"},
            {"content": "weather", "model": "acme/tiny-llm"},
        ),
    ],
    ids=["model", "contains", "stream", "model-and-contains"],
)
def test_when_conditions(
    fake: FakeLMStudio,
    client: httpx.Client,
    when: dict[str, Any],
    matching: dict[str, Any],
    other: dict[str, Any],
) -> None:
    fake.load_scenario(
        {
            "models": [{"id": "acme/tiny-llm", "loaded": True}],
            "rules": [{"route": "chat", "when": when, "reply": {"content": "matched"}}],
        }
    )
    assert chat_text(client, **matching) == "matched"
    if other.get("stream"):
        with client.stream("POST", "/v1/chat/completions", json=_chat_body(**other)) as response:
            frames = [line for line in response.iter_lines() if line.startswith("data: {")]
        text = "".join(
            json.loads(f[6:])["choices"][0]["delta"].get("content") or "" for f in frames
        )
        assert text and text != "matched"
    else:
        assert chat_text(client, **other) != "matched"


def _chat_body(content: str = "Hello", **body: Any) -> dict[str, Any]:
    body.setdefault("model", MODEL)
    body.setdefault("messages", [{"role": "user", "content": content}])
    return body


@pytest.mark.parametrize(
    ("fail", "retry_after"),
    [
        ({"status": 429, "retry_after": 3}, "3"),
        ({"status": 503, "retry_after": 1.5}, "1.5"),
        ({"status": 500}, None),
    ],
)
def test_fail_with_retry_after(
    fake: FakeLMStudio, client: httpx.Client, fail: dict[str, Any], retry_after: str | None
) -> None:
    fake.load_scenario({"rules": [{"route": "chat", "times": 1, "fail": fail}]})
    response = chat(client)
    assert response.status_code == fail["status"]
    assert response.headers.get("Retry-After") == retry_after
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert chat(client).status_code == 200  # used up


def test_fail_with_message_type_code_and_body(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {
            "rules": [
                {
                    "route": "chat",
                    "times": 1,
                    "fail": {
                        "status": 400,
                        "message": "context overflow",
                        "type": "invalid_request_error",
                        "code": "context_length_exceeded",
                    },
                },
                {"route": "chat", "times": 1, "fail": {"status": 400, "body": {"error": "plain"}}},
            ]
        }
    )
    first = chat(client)
    assert first.status_code == 400
    assert first.json() == {
        "error": {
            "message": "context overflow",
            "type": "invalid_request_error",
            "param": None,
            "code": "context_length_exceeded",
        }
    }
    second = chat(client)
    assert (second.status_code, second.json()) == (400, {"error": "plain"})


def test_fail_on_the_models_route(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario({"rules": [{"route": "models", "times": 1, "fail": {"status": 500}}]})
    assert client.get("/v1/models").status_code == 500
    assert client.get("/v1/models").status_code == 200


def test_respond_sends_the_json_with_status_and_headers(
    fake: FakeLMStudio, client: httpx.Client
) -> None:
    models = {"data": [{"id": "x", "object": "model", "owned_by": "me"}], "object": "list"}
    fake.load_scenario(
        {
            "rules": [
                {
                    "route": "models",
                    "times": 1,
                    "respond": {"json": models, "headers": {"X-Scenario": "yes"}},
                },
                {
                    "route": "chat",
                    "times": 1,
                    "respond": {"json": {"whatever": [1, 2]}, "status": 202, "validate": False},
                },
            ]
        }
    )
    listed = client.get("/v1/models")
    assert (listed.status_code, listed.json(), listed.headers["X-Scenario"]) == (200, models, "yes")
    custom = chat(client)
    assert (custom.status_code, custom.json()) == (202, {"whatever": [1, 2]})


def test_raw_sends_the_bytes(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {
            "rules": [
                {
                    "route": "chat",
                    "raw": {
                        "body": "{not json",
                        "status": 502,
                        "content_type": "text/plain",
                        "headers": {"X-Raw": "1"},
                    },
                }
            ]
        }
    )
    response = chat(client)
    assert response.status_code == 502
    assert response.content == b"{not json"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["X-Raw"] == "1"


def test_stream_rule_and_tool_calls(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {
            "rules": [
                {
                    "route": "chat",
                    "times": 1,
                    "stream": {"chunks": ["Hel", "lo"], "interval": 0.01},
                },
                {
                    "route": "chat",
                    "times": 1,
                    "reply": {
                        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
                    },
                },
            ]
        }
    )
    with client.stream("POST", "/v1/chat/completions", json=_chat_body(stream=True)) as response:
        frames = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    deltas = [json.loads(f)["choices"][0]["delta"] for f in frames[:-1]]
    assert deltas == [{"role": "assistant", "content": "Hel"}, {"content": "lo"}, {}]

    message = chat(client).json()["choices"][0]["message"]
    (call,) = message["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    assert call["id"].isdigit()


def test_embeddings_reply(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {"rules": [{"route": "embeddings", "reply": {"embeddings": [[0.5, -0.25, 1]]}}]}
    )
    response = client.post("/v1/embeddings", json={"model": EMBEDDER, "input": "x"})
    assert response.json()["data"][0]["embedding"] == [0.5, -0.25, 1.0]


def test_api_token_and_clear_models(fake: FakeLMStudio, client: httpx.Client) -> None:
    fake.load_scenario(
        {
            "api_token": "secret-token",
            "clear_models": True,
            "models": [{"id": "only/model", "loaded": True}],
        }
    )
    assert fake.api_token == "secret-token"
    assert client.get("/v1/models").status_code == 401
    listed = client.get("/v1/models", headers={"Authorization": "Bearer secret-token"})
    assert [m["id"] for m in listed.json()["data"]] == ["only/model"]
    fake.load_scenario({"api_token": None})
    assert client.get("/v1/models").status_code == 200


def test_check_names_the_scenario_of_an_unused_rule(tmp_path: Path) -> None:
    path = tmp_path / "expect.json"
    path.write_text(
        json.dumps({"rules": [{"route": "chat", "times": 2, "reply": {"content": "x"}}]}),
        encoding="utf-8",
    )
    with FakeLMStudio(scenario=path) as fake:
        with httpx.Client(base_url=fake.url, timeout=10) as client:
            chat(client)
        with pytest.raises(FakeCheckError, match=r"used 1 of 2") as caught:
            fake.check()
    assert f"{path} $.rules[0]" in str(caught.value)


def test_constructor_scenario_catalog_and_settings_survive_reset(tmp_path: Path) -> None:
    with FakeLMStudio(scenario=write_scenario(tmp_path, ".json")) as fake:
        before = settings(fake)[:5]
        fake.set_seed(1)
        fake.set_profile("lmstudio")
        fake.remove_model("acme/tiny-llm")
        fake.load_scenario({"jit": True, "models": [{"id": "later/model"}]})
        fake.reset()
        assert settings(fake)[:5] == before
        with httpx.Client(base_url=fake.url, timeout=10) as client:
            listed = [m["id"] for m in client.get("/v1/models").json()["data"]]
        assert listed == [MODEL, "acme/tiny-llm"]


def test_reset_forgets_a_scenario_loaded_later(fake: FakeLMStudio) -> None:
    before = settings(fake)
    fake.load_scenario(SCENARIO)
    fake.reset()
    assert settings(fake) == before


# -- bad scenarios ------------------------------------------------------------------------
RULE = {"route": "chat", "reply": {"content": "x"}}

BAD_SCENARIOS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown top-level key", {"sed": 1}, "$", "'sed' was unexpected"),
    (
        "unknown rule key",
        {"rules": [RULE, {**RULE, "time": 2}]},
        "$.rules[1]",
        "'time' was unexpected",
    ),
    (
        "misspelled action",
        {"rules": [{"route": "chat", "repy": {"content": "x"}}]},
        "$.rules[0]",
        "'repy' was unexpected",
    ),
    (
        "unknown model key",
        {"models": [{"id": "m", "contxt_length": 4}]},
        "$.models[0]",
        "'contxt_length' was unexpected",
    ),
    (
        "unknown when key",
        {"rules": [{**RULE, "when": {"modle": "m"}}]},
        "$.rules[0].when",
        "'modle' was unexpected",
    ),
    (
        "unknown tool call key",
        {"rules": [{"route": "chat", "reply": {"tool_calls": [{"name": "f", "args": {}}]}}]},
        "$.rules[0].reply.tool_calls[0]",
        "'args' was unexpected",
    ),
    ("seed type", {"seed": "7"}, "$.seed", "'7' is not of type 'integer'"),
    ("negative seed", {"seed": -1}, "$.seed", "-1 is less than the minimum of 0"),
    ("profile", {"profile": "ollama"}, "$.profile", "'ollama' is not one of"),
    ("jit type", {"jit": "no"}, "$.jit", "'no' is not of type 'boolean'"),
    ("models type", {"models": {"id": "m"}}, "$.models", "is not of type 'array'"),
    ("model id missing", {"models": [{"type": "llm"}]}, "$.models[0]", "'id' is a required"),
    ("times zero", {"rules": [{**RULE, "times": 0}]}, "$.rules[0].times", "less than the minimum"),
    (
        "route",
        {"rules": [{"route": "responses", "reply": {"content": "x"}}]},
        "$.rules[0].route",
        "'responses' is not one of",
    ),
    (
        "status range",
        {"rules": [{"route": "chat", "fail": {"status": 200}}]},
        "$.rules[0].fail.status",
        "200 is less than the minimum of 400",
    ),
    (
        "two actions",
        {"rules": [{"route": "chat", "reply": {"content": "x"}, "fail": {"status": 500}}]},
        "$.rules[0]",
        "exactly one action",
    ),
    ("no action", {"rules": [{"route": "chat", "times": 1}]}, "$.rules[0]", "needs one action"),
]


@pytest.mark.parametrize(
    ("scenario", "path", "message"),
    [case[1:] for case in BAD_SCENARIOS],
    ids=[case[0] for case in BAD_SCENARIOS],
)
def test_bad_scenario_mapping_names_the_field(
    fake: FakeLMStudio, scenario: dict[str, Any], path: str, message: str
) -> None:
    before = settings(fake)
    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(scenario)
    error = caught.value
    assert error.path == path
    assert error.source == "<scenario>"
    assert message in str(error)
    assert str(error).startswith(f"<scenario> at {path}: ")
    assert isinstance(error, FakeServerError)
    assert isinstance(error, ValueError)
    assert settings(fake) == before


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_bad_scenario_file_names_the_file_and_the_field(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bad{suffix}"
    if suffix == ".json":
        path.write_text('{"rules": [{"route": "chat", "repy": {}}]}', encoding="utf-8")
    else:
        path.write_text('[[rules]]\nroute = "chat"\nrepy = {}\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        FakeLMStudio(scenario=path)
    assert caught.value.path == "$.rules[0]"
    assert str(caught.value).startswith(f"{path} at $.rules[0]: ")
    assert "'repy' was unexpected" in str(caught.value)


def test_invalid_json_gives_line_and_column(fake: FakeLMStudio, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "seed": 1,\n  "rules": [\n    {"route": "chat",}\n  ]\n}\n')
    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(path)
    assert str(caught.value) == (
        f"{path}: not valid JSON: Expecting property name enclosed in double quotes "
        "(line 4 column 22)"
    )


def test_invalid_toml_gives_line_and_column(fake: FakeLMStudio, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('seed = 1\n[[rules]\nroute = "chat"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2, column 8" in message


@pytest.mark.parametrize("text", ["[1, 2]", '"seed"', "null"])
def test_json_that_is_not_an_object(fake: FakeLMStudio, tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="a scenario must be a JSON object"):
        fake.load_scenario(path)


def test_missing_file(fake: FakeLMStudio, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(path)
    assert str(caught.value) == f"{path}: cannot read the scenario file: No such file or directory"


def test_a_directory_is_not_a_scenario(fake: FakeLMStudio, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        fake.load_scenario(tmp_path)


def test_missing_file_in_the_constructor() -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        FakeLMStudio(scenario="no/such/scenario.json")


# -- all or nothing -----------------------------------------------------------------------
HALF_WAY: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "blank model id",
        {"models": [{"id": "new/model", "loaded": True}, {"id": "   "}]},
        "$.models[1]",
        "model id must be a non-empty string",
    ),
    (
        "rule the route cannot take",
        {"rules": [RULE, {"route": "embeddings", "stream": {"chunks": ["a"]}}]},
        "$.rules[1]",
        "fake.embeddings does not stream",
    ),
    (
        "respond that breaks the format",
        {"rules": [RULE, {"route": "chat", "respond": {"json": {"hello": 1}}}]},
        "$.rules[1]",
        "would send an answer that breaks the API format",
    ),
    (
        "reply on the models route",
        {"rules": [RULE, {"route": "models", "reply": {"content": "x"}}]},
        "$.rules[1]",
        "fake.models has no reply()",
    ),
    (
        "bad tool arguments",
        {
            "rules": [
                RULE,
                {"route": "chat", "reply": {"tool_calls": [{"name": "f", "arguments": "{"}]}},
            ]
        },
        "$.rules[1]",
        "not JSON",
    ),
]


@pytest.mark.parametrize(
    ("tail", "path", "message"),
    [case[1:] for case in HALF_WAY],
    ids=[case[0] for case in HALF_WAY],
)
def test_a_scenario_failing_half_way_changes_nothing(
    fake: FakeLMStudio, client: httpx.Client, tail: dict[str, Any], path: str, message: str
) -> None:
    fake.chat.reply("before", times=5)
    before = settings(fake)
    scenario = {
        "seed": 9,
        "profile": "openai",
        "jit": False,
        "api_token": "tok",
        "clear_models": True,
        "models": [{"id": "new/model", "loaded": True}],
        **tail,
    }
    with pytest.raises(ScenarioError) as caught:
        fake.load_scenario(scenario)
    assert caught.value.path == path
    assert message in str(caught.value)
    assert settings(fake) == before
    assert chat_text(client) == "before"  # no token needed, the old rule answers
    listed = client.get("/v1/models").json()
    assert [m["id"] for m in listed["data"]] == DEFAULT_IDS
    assert "created" not in listed["data"][0]  # still the lmstudio profile


def test_a_constructor_scenario_failing_half_way_raises(tmp_path: Path) -> None:
    path = tmp_path / "half.json"
    _, tail, where, message = HALF_WAY[1]
    path.write_text(json.dumps(tail), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        FakeLMStudio(scenario=path)
    assert str(caught.value).startswith(f"{path} at {where}: ")
    assert message in str(caught.value)


def test_reset_restores_the_rules_of_a_constructor_scenario(tmp_path: Path) -> None:
    fake = FakeLMStudio(scenario=write_scenario(tmp_path, ".toml"))
    with fake, httpx.Client(base_url=fake.url, timeout=10) as client:
        assert chat_text(client, model="acme/tiny-llm") == "first"
        fake.chat.reply("added by the test")
        fake.reset()
        assert [(r.route, r.times, r.calls) for r in fake.rules] == [
            ("chat", 1, 0),
            ("chat", None, 0),
            ("completions", None, 0),
        ]
        assert chat_text(client, model="acme/tiny-llm") == "first"
        assert chat_text(client, "weather?") == "sunny"
