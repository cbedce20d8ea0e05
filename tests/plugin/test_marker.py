"""``@pytest.mark.lmstudio(...)``: on a function, a class, a module; closest wins; its errors."""

from __future__ import annotations

import pytest

from .conftest import Project

ALL_PROFILES = (
    "lmstudio, openai, lmstudio-0.4.21, lmstudio-0.4.1, lmstudio-0.4.0, lmstudio-"
    "0.3.23, lmstudio-0.3.18, lmstudio-0.3.15, lmstudio-0.3.9, lmstudio-0.3.5"
)

PRELUDE = """
import httpx
import pytest

DEFAULT_IDS = [
    "qwen/qwen3-8b",
    "qwen2-vl-7b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "openai/gpt-oss-20b",
]


def state(fake):
    return fake.seed, fake.profile, [model.id for model in fake.catalog]
"""

SCENARIO = """\
{
  "seed": 5,
  "models": [{"id": "acme/tiny-1b"}],
  "rules": [{"route": "chat", "reply": {"content": "from the scenario"}}]
}
"""


def test_marker_on_a_function(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        @pytest.mark.lmstudio(
            models=["acme/tiny-1b", {"id": "acme/embed", "type": "embeddings", "loaded": False}],
            seed=7,
            profile="openai",
        )
        def test_marked(lmstudio_fake):
            assert state(lmstudio_fake) == (7, "openai", ["acme/tiny-1b", "acme/embed"])
            embed = lmstudio_fake.catalog[1]
            assert (embed.type, embed.loaded) == ("embeddings", False)
            models = httpx.get(lmstudio_fake.url + "/v1/models").json()["data"]
            assert all("created" in model for model in models)  # the openai profile

        @pytest.mark.lmstudio(models=[])
        def test_empty_catalog(lmstudio_fake):
            assert lmstudio_fake.catalog == []

        def test_unmarked_gets_the_defaults_back(lmstudio_fake):
            assert state(lmstudio_fake) == (0, "lmstudio", DEFAULT_IDS)
        """,
    )
    project.run().assert_outcomes(passed=3)


def test_marker_scenario_is_relative_to_the_test_file_then_the_rootdir(project: Project) -> None:
    project.write("tests/unit/scenarios/here.json", SCENARIO)
    project.write("data/at-root.toml", 'seed = 6\n[[models]]\nid = "acme/root-model"\n')
    project.write(
        "tests/unit/test_marker_scenario_paths.py",
        PRELUDE
        + """
from pathlib import Path

HERE = Path(__file__).parent


@pytest.mark.lmstudio(scenario="scenarios/here.json")
def test_next_to_the_test_file(lmstudio_fake, lmstudio_sync_provider):
    from pytest_lmstudio import CompletionRequest, Message

    assert state(lmstudio_fake) == (5, "lmstudio", [*DEFAULT_IDS, "acme/tiny-1b"])
    request = CompletionRequest(model="acme/tiny-1b", messages=[Message.user("hi")])
    assert lmstudio_sync_provider.complete(request).content == "from the scenario"


@pytest.mark.lmstudio(scenario="data/at-root.toml")
def test_relative_to_the_rootdir(lmstudio_fake):
    assert state(lmstudio_fake)[:2] == (6, "lmstudio")
    assert "acme/root-model" in state(lmstudio_fake)[2]


@pytest.mark.lmstudio(scenario=HERE / "scenarios" / "here.json")
def test_a_path_object(lmstudio_fake):
    assert lmstudio_fake.seed == 5
    assert len(lmstudio_fake.rules) == 1


@pytest.mark.lmstudio(scenario=None)
def test_none_is_no_scenario(lmstudio_fake):
    assert state(lmstudio_fake) == (0, "lmstudio", DEFAULT_IDS)
    assert lmstudio_fake.rules == []
""",
    )
    project.run().assert_outcomes(passed=4)


def test_closest_marker_wins_keyword_by_keyword(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        pytestmark = pytest.mark.lmstudio(seed=1, profile="openai", models=["acme/module-1b"])

        def test_module_marker(lmstudio_fake):
            assert state(lmstudio_fake) == (1, "openai", ["acme/module-1b"])

        @pytest.mark.lmstudio(profile="lmstudio")
        def test_function_over_module(lmstudio_fake):
            assert state(lmstudio_fake) == (1, "lmstudio", ["acme/module-1b"])

        @pytest.mark.lmstudio(seed=2, models=["acme/class-1b"])
        class TestMarkedClass:
            def test_class_over_module(self, lmstudio_fake):
                assert state(lmstudio_fake) == (2, "openai", ["acme/class-1b"])

            @pytest.mark.lmstudio(seed=3, profile="lmstudio")
            def test_function_over_class(self, lmstudio_fake):
                assert state(lmstudio_fake) == (3, "lmstudio", ["acme/class-1b"])

            @pytest.mark.parametrize("seed", [4, 5])
            def test_parametrized(self, lmstudio_fake, seed, request):
                request.applymarker(pytest.mark.lmstudio(seed=seed))
                assert lmstudio_fake.seed == 2  # too late: the fixture was set up already
        """,
    )
    project.run().assert_outcomes(passed=6)


def test_marker_on_parametrized_cases(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        @pytest.mark.parametrize(
            "seed", [pytest.param(4, marks=pytest.mark.lmstudio(seed=4)), pytest.param(0)]
        )
        def test_case(lmstudio_fake, seed):
            assert lmstudio_fake.seed == seed
        """,
    )
    project.run().assert_outcomes(passed=2)


def test_marker_errors_name_the_problem(project: Project) -> None:
    project.tests(
        PRELUDE,
        """
        @pytest.mark.lmstudio("acme/tiny-1b")
        def test_positional(lmstudio_fake):
            pass

        @pytest.mark.lmstudio(modles=["acme/tiny-1b"], seed=1)
        def test_unknown_keyword(lmstudio_fake):
            pass

        def test_unmarked(lmstudio_fake):
            pass
        """,
    )
    project.tests(
        """
        import pytest

        pytestmark = pytest.mark.lmstudio(sead=1)

        def test_unknown_keyword_on_the_module(lmstudio_fake):
            pass
        """,
        name="test_module_marker",
    )
    result = project.run()
    result.assert_outcomes(errors=3, passed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *UsageError: test_inner.py::test_positional: @pytest.mark.lmstudio takes "
            "keywords only (models, scenario, seed, profile, strict); got positional "
            "('acme/tiny-1b',)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E   *UsageError: test_inner.py::test_unknown_keyword: @pytest.mark.lmstudio got "
            "unknown keyword(s) modles (did you mean models?); it takes models, scenario, seed, "
            "profile, strict",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E   *UsageError: test_module_marker.py::test_unknown_keyword_on_the_module: "
            "@pytest.mark.lmstudio got unknown keyword(s) sead (did you mean seed?); *"
        ]
    )


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ("seed=-1", "seed must be a non-negative integer, got -1"),
        ("seed='7'", "seed must be a non-negative integer, got '7'"),
        (
            "profile='gpt'",
            "profile must be one of " + ALL_PROFILES + "; got 'gpt'",
        ),
        ("models='acme/tiny-1b'", "models= takes a list of model ids or add_model() keyword*"),
        ("models=[3]", "models= entries are ids or dicts with an 'id'; got 3"),
        ("models=[{'id': 'acme/x', 'type': 'robot'}]", "add_model('acme/x'): *robot*"),
        ("scenario=42", "scenario= takes a file path, got 42"),
        ("scenario='missing.json'", "*missing.json*"),
    ],
)
def test_marker_bad_values(project: Project, keywords: str, message: str) -> None:
    project.write("bad.json", '{"rules": [{"route": "chat"}]}')
    project.tests(
        PRELUDE,
        f"""
        @pytest.mark.lmstudio({keywords})
        def test_bad(lmstudio_fake):
            pass

        def test_next_test_is_unaffected(lmstudio_fake):
            assert state(lmstudio_fake) == (0, "lmstudio", DEFAULT_IDS)
        """,
    )
    result = project.run()
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines([f"E   *UsageError: test_inner.py::test_bad: *{message}"])


def test_marker_bad_scenario_file_names_the_problem(project: Project) -> None:
    project.write("bad.json", '{"rules": [{"route": "chat", "reply": {"content": 3}}]}')
    project.tests(
        PRELUDE,
        """
        @pytest.mark.lmstudio(scenario="bad.json")
        def test_bad(lmstudio_fake):
            pass
        """,
    )
    result = project.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *UsageError: *@pytest.mark.lmstudio: *bad.json*"])
