"""The retry policy: which failures, how long, and Retry-After."""

from __future__ import annotations

import email.utils

import pytest

from pytest_lmstudio.provider._retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (500, False),
        (400, False),
        (401, False),
        (404, False),
        (200, False),
    ],
)
def test_transient_statuses_only(status: int, retried: bool) -> None:
    assert RetryPolicy(max_retries=3).retries_status(status) is retried


def test_exponential_backoff_with_jitter() -> None:
    policy = RetryPolicy(max_retries=10)
    assert [policy.delay(n, None, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(0, None, 1.0) == pytest.approx(0.375)  # at most 25 % less
    assert policy.delay(3, None, 0.5) == pytest.approx(4.0 * 0.875)


def test_retry_after_replaces_the_backoff_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=3)
    assert policy.delay(0, 2.0, 0.9) == 2.0
    assert policy.delay(2, 0.0, 0.9) == 0.0
    assert policy.delay(0, 3600.0, 0.0) == 30.0


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after": "2"}, now) == 2.0
    assert parse_retry_after({"retry-after": " 1.5 "}, now) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}, now) == 0.25
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "3"}, now) == 3.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now) == pytest.approx(7.0)
    past = email.utils.formatdate(now - 60, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now) == 0.0
    for bad in ("soon", "-1", "nan", "inf", ""):
        assert parse_retry_after({"retry-after": bad}, now) is None
    assert parse_retry_after({}, now) is None
