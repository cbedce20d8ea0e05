"""What a run shows: the report header, the "lmstudio fake" section of a failure, and the
strict check at the end of each test (on by default)."""

from __future__ import annotations

import re

import pytest

from .conftest import Project

HEADER = re.compile(r"^lmstudio: fake http://127\.0\.0\.1:(\d+) profile=(\w+) seed=(\d+)$")

PRELUDE = """
import pytest

from pytest_lmstudio import CompletionRequest, Message


def ask(text, model="qwen/qwen3-8b"):
    return CompletionRequest(model=model, messages=[Message.user(text)])
"""


def header_lines(output: list[str]) -> list[re.Match[str]]:
    return [match for line in output if (match := HEADER.match(line))]


@pytest.mark.parametrize(
    "fixture",
    ["lmstudio_fake", "lmstudio_fake_url", "lmstudio_sync_provider", "lmstudio_env"],
)
def test_header_names_the_fake_when_a_test_uses_it(project: Project, fixture: str) -> None:
    project.tests(
        f"""
        import httpx

        def test_uses_the_fake({fixture}, request):
            lmstudio_fake = request.getfixturevalue("lmstudio_fake")
            print("PORT", lmstudio_fake.port)

        def test_plain():
            pass
        """
    )
    result = project.run("-s")
    result.assert_outcomes(passed=2)
    [header] = header_lines(result.outlines)
    assert header.group(2, 3) == ("lmstudio", "0")
    assert f"PORT {header.group(1)}" in result.stdout.str()
    # The header comes before the tests run, right after "collected ...".
    lines = result.outlines
    assert (
        lines.index(header.group(0))
        == next(i for i, line in enumerate(lines) if line.startswith("collected ")) + 1
    )


def test_header_shows_the_options(project: Project) -> None:
    project.tests("def test_x(lmstudio_fake):\n    pass\n")
    result = project.run("--lmstudio-seed=42", "--lmstudio-profile=openai", "--co")
    [header] = header_lines(result.outlines)
    assert header.group(2, 3) == ("openai", "42")


def test_no_header_when_no_test_uses_the_fake(project: Project) -> None:
    project.tests(
        """
        def test_plain():
            pass

        def test_factory_only(lmstudio_fake_factory):
            pass
        """
    )
    result = project.run("-v")
    result.assert_outcomes(passed=2)
    assert not any(line.startswith("lmstudio:") for line in result.outlines)
    # A deselected user of the fake does not start it either.
    project.tests("def test_x(lmstudio_fake):\n    pass\n", name="test_more")
    result = project.run("-k", "plain")
    result.assert_outcomes(passed=1, deselected=2)
    assert not any(line.startswith("lmstudio:") for line in result.outlines)


FAILING = """
def test_fails_after_using_the_fake(lmstudio_fake, lmstudio_sync_provider):
    used = lmstudio_fake.chat.when(contains="weather").reply("Sunny.")
    never = lmstudio_fake.chat.when(contains="never said").fail(503, "Model is loading")
    print("RULES", used.id, never.id)
    lmstudio_sync_provider.complete(ask("weather in Paris?"))
    lmstudio_sync_provider.complete(ask("hello"))
    lmstudio_sync_provider.list_models()
    with pytest.raises(Exception):
        lmstudio_sync_provider.complete(ask("hello", model="acme/unknown"))
    assert 1 + 1 == 3, "the test's own failure"


def test_fails_without_a_request(lmstudio_fake):
    lmstudio_fake.embeddings.reply(embeddings=[[0.6, 0.8]])
    assert False, "nothing asked"


def test_passes_with_the_fake(lmstudio_fake):
    lmstudio_fake.chat.reply("unused, and nobody minds")


def test_fails_without_the_fake():
    assert False, "no fake here"
"""


def test_a_failure_report_carries_what_the_fake_received(project: Project) -> None:
    project.tests(PRELUDE, FAILING)
    result = project.run()
    result.assert_outcomes(failed=3, passed=1)
    output = result.stdout.str()
    rules = re.search(r"RULES (\d+) (\d+)", output)
    assert rules is not None
    used, never = rules.groups()
    port = header_lines(result.outlines)[0].group(1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails_after_using_the_fake _*",
            "E   *AssertionError: the test's own failure",
            "*- lmstudio fake -*",
            f"http://127.0.0.1:{port} profile=lmstudio seed=0",
            "requests received (4):",
            f"  POST /v1/chat/completions model=qwen/qwen3-8b -> 200 rule=#{used}",
            "  POST /v1/chat/completions model=qwen/qwen3-8b -> 200 default",
            "  GET /v1/models -> 200 default",
            "  POST /v1/chat/completions* -> 400 default",
            "rules never used:",
            f"  #{never} fake.chat.when(contains='never said')"
            ".fail(503, message='Model is loading') (scripted at *test_inner.py:*)",
            "*_ test_fails_without_a_request _*",
            "*- lmstudio fake -*",
            f"http://127.0.0.1:{port} profile=lmstudio seed=0",
            "no request received",
            "rules never used:",
            "  #* fake.embeddings.reply(*",
            "*_ test_fails_without_the_fake _*",
        ]
    )
    # One section per failing user of the fake; none for the others.
    assert output.count("- lmstudio fake -") == 2
    tail = output[output.index("_ test_fails_without_the_fake _") :]
    assert "lmstudio fake" not in tail.split("short test summary")[0]


STRICT = """
def test_unused_times_rule_fails_a_passing_test(lmstudio_fake):
    lmstudio_fake.chat.fail(503, "Model is loading", times=2)


def test_partly_used_rule(lmstudio_fake, lmstudio_sync_provider):
    lmstudio_fake.chat.reply("twice", times=2)
    with pytest.raises(Exception):
        lmstudio_sync_provider.complete(ask("hi", model="acme/unknown"))
    lmstudio_sync_provider.complete(ask("hi"))


def test_own_failure_comes_first(lmstudio_fake):
    lmstudio_fake.chat.fail(503, "Model is loading", times=2)
    assert 1 + 1 == 3, "the test's own failure"


def test_used_up_rules_pass(lmstudio_fake, lmstudio_sync_provider):
    lmstudio_fake.chat.reply("once", times=1)
    lmstudio_fake.chat.reply("forever")
    assert lmstudio_sync_provider.complete(ask("hi")).content == "once"


@pytest.mark.lmstudio(strict=False)
def test_strict_off_by_marker(lmstudio_fake):
    lmstudio_fake.chat.fail(503, "Model is loading", times=2)


@pytest.mark.lmstudio(strict=False)
class TestStrictOffForTheClass:
    def test_in_class(self, lmstudio_fake):
        lmstudio_fake.chat.fail(503, "Model is loading", times=2)

    @pytest.mark.lmstudio(strict=True)
    def test_back_on(self, lmstudio_fake):
        lmstudio_fake.chat.fail(503, "Model is loading", times=2)


def test_errors_inside_the_fake_fail_the_test(lmstudio_fake):
    # A bug inside the server is recorded by the server itself; simulate one.
    lmstudio_fake._record_error("GET /v1/models: RuntimeError('boom')")


@pytest.mark.skip(reason="not run")
def test_skipped(lmstudio_fake):
    pass
"""


def test_strict_check_fails_passing_tests_that_left_expectations_unmet(project: Project) -> None:
    project.tests(PRELUDE, STRICT)
    source = (project.path / "test_inner.py").read_text(encoding="utf-8").splitlines()
    line = source.index('    lmstudio_fake.chat.fail(503, "Model is loading", times=2)') + 1
    result = project.run("-rA")
    result.assert_outcomes(failed=5, passed=3, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unused_times_rule_fails_a_passing_test _*",
            "lmstudio strict check (turn it off with @pytest.mark.lmstudio(strict=False) "
            "or --no-lmstudio-strict):",
            "1 scripted rule(s) not used as often as expected:",
            "  #* fake.chat.fail(503, message='Model is loading') times=2 "
            f"(scripted at {project.path / 'test_inner.py'}:{line}): used 0 of 2",
            "the fake received no request",
            "*- lmstudio fake -*",
            "no request received",
            "rules never used:",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_partly_used_rule _*",
            "lmstudio strict check *",
            "1 scripted rule(s) not used as often as expected:",
            "  #* fake.chat.reply('twice') times=2 (scripted at *): used 1 of 2",
            "requests the fake received:",
            "  POST /v1/chat/completions -> 400 default",
            "  POST /v1/chat/completions model=qwen/qwen3-8b -> 200 rule=#*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_errors_inside_the_fake_fail_the_test _*",
            "lmstudio strict check *",
            "1 error(s) inside the fake server:",
            "  GET /v1/models: RuntimeError('boom')",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*_ TestStrictOffForTheClass.test_back_on _*", "lmstudio strict check *"]
    )
    # A test that failed on its own keeps its own message, without the strict check's.
    own = result.stdout.str().split("_ test_own_failure_comes_first _")[1].split("\n_")[0]
    assert "the test's own failure" in own
    assert "strict check" not in own and "not used as often" not in own
    assert "rules never used:" in own
    result.stdout.fnmatch_lines(
        [
            "PASSED test_inner.py::test_used_up_rules_pass",
            "PASSED test_inner.py::test_strict_off_by_marker",
            "PASSED test_inner.py::TestStrictOffForTheClass::test_in_class",
        ],
        consecutive=False,
    )


def test_strict_check_off_for_the_run(project: Project) -> None:
    project.tests(PRELUDE, STRICT)
    result = project.run("--no-lmstudio-strict", "-k", "not own_failure and not back_on")
    result.assert_outcomes(passed=6, skipped=1, deselected=2)
    assert "strict check" not in result.stdout.str()
