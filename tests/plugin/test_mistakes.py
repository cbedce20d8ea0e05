"""Mistakes get an answer in a run: a request that missed every route is explained in the
failure report, and an ``lmstudio`` marker on a test that never uses the fake is a warning."""

from __future__ import annotations

from .conftest import Project


def test_a_request_that_missed_the_v1_prefix_is_explained_in_the_failure_report(
    project: Project,
) -> None:
    project.tests(
        """
        import httpx

        BODY = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}

        def test_openai_client_given_the_url(lmstudio_fake):
            with httpx.Client() as client:
                answer = client.post(lmstudio_fake.url + "/chat/completions", json=BODY).json()
                client.get(lmstudio_fake.url + "/v1/model")
            assert "choices" in answer
        """
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- lmstudio fake -*",
            "requests received (2):",
            "  POST /chat/completions -> 200 default -- did you mean POST /v1/chat/completions? "
            "The OpenAI-compatible routes start with /v1: point the openai SDK (and other "
            "OpenAI clients) at fake.base_url, not fake.url",
            "  GET /v1/model -> 200 default -- did you mean GET /v1/models? "
            "(no route serves /v1/model)",
        ]
    )


def test_a_marker_on_a_test_that_never_uses_the_fake_is_a_warning(project: Project) -> None:
    project.ini("[pytest]\n")  # warnings shown, not errors, to read them in the summary
    project.tests(
        """
        import pytest

        pytestmark = pytest.mark.lmstudio(seed=3)  # a module's marker: no warning

        @pytest.mark.lmstudio(seed=1)
        def test_marked_without_the_fake():
            pass

        @pytest.mark.lmstudio(seed=2)
        def test_marked_and_asks_for_the_fake_in_its_body(request):
            assert request.getfixturevalue("lmstudio_fake").seed == 2

        @pytest.mark.lmstudio(seed=2)
        def test_marked_with_a_fixture_on_the_fake(lmstudio_fake_url):
            pass

        def test_plain():
            pass

        @pytest.mark.lmstudio(seed=1)
        @pytest.mark.skip(reason="skipped before it ran")
        def test_skipped():
            pass
        """
    )
    result = project.run("-W", "always::pytest_lmstudio.plugin.LMStudioMarkerWarning")
    result.assert_outcomes(passed=4, skipped=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*test_inner.py::test_marked_without_the_fake",
            "*LMStudioMarkerWarning: @pytest.mark.lmstudio on "
            "test_inner.py::test_marked_without_the_fake configures nothing: the test never "
            "used the fake *Request one of them, or remove the marker.",
        ]
    )


def test_under_filterwarnings_error_the_useless_marker_fails_the_test(project: Project) -> None:
    project.tests(
        """
        import pytest

        @pytest.mark.lmstudio(seed=1)
        def test_marked_without_the_fake():
            pass
        """
    )
    result = project.run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_marked_without_the_fake*"])
