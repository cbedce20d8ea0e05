"""Endpoint checks (SSRF), model id checks, and redaction (whole, in pieces, before a cut)."""

from __future__ import annotations

import pytest

from pytest_lmstudio.provider._security import (
    clip,
    host_allowed,
    model_id_problem,
    preview,
    redact,
    validate_endpoint,
)


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("http://localhost:1234", "http://localhost:1234"),
        ("HTTP://LocalHost:1234/", "http://localhost:1234"),
        ("http://127.0.0.1:1234", "http://127.0.0.1:1234"),
        ("https://192.168.1.20:8443/lmstudio/", "https://192.168.1.20:8443/lmstudio"),
        ("http://10.0.0.5", "http://10.0.0.5"),
        ("http://172.20.0.1:1234", "http://172.20.0.1:1234"),
        ("http://[::1]:1234", "http://[::1]:1234"),
        ("http://[fd00::1]:1234", "http://[fd00::1]:1234"),
        ("  http://localhost:1234  ", "http://localhost:1234"),
    ],
)
def test_good_endpoints(url: str, normalized: str) -> None:
    assert validate_endpoint(url) == normalized


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "non-empty"),
        ("ftp://localhost:1234", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("localhost:1234", "http or https"),
        ("http://user:pass@localhost:1234", "credentials"),
        ("http://token@localhost:1234", "credentials"),
        ("http://localhost:1234/?x=1", "query"),
        ("http://localhost:1234/#frag", "fragment"),
        ("http://localhost:99999", "port"),
        ("http://localhost:1234/a/../b", "'..'"),
        ("http://local host:1234", "whitespace"),
        ("http://localhost:1234/\x00", "control"),
        ("http://0.0.0.0:1234", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data", "allow-list"),
        ("http://8.8.8.8:1234", "allow-list"),
        ("http://example.com", "allow-list"),
        ("http://100.64.0.1", "allow-list"),
        ("http://[::ffff:8.8.8.8]:1234", "allow-list"),
        ("http://", "no host"),
    ],
)
def test_bad_endpoints(url: str, words: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_endpoint(url)
    assert words in str(info.value)


def test_allow_list_extends_the_defaults() -> None:
    assert validate_endpoint("http://gpu-box.example:1234", ["gpu-box.example"])
    assert validate_endpoint("http://100.64.0.7:1234", ["100.64.0.0/10"])
    assert validate_endpoint("http://203.0.113.9:1234", ["203.0.113.9"])
    assert validate_endpoint("https://llm.example.org", ["*"])
    assert not host_allowed("other.example", ["gpu-box.example"])
    assert host_allowed("::ffff:127.0.0.1")
    assert not host_allowed("169.254.169.254", ["not-an-ip/33"])


@pytest.mark.parametrize(
    "model",
    ["qwen/qwen3-8b", "qwen3-8b", "qwen3.6-35b-a3b@q4_k_m", "gemma-3-1b-it-qat:2", "a.b/c.d"],
)
def test_good_model_ids(model: str) -> None:
    assert model_id_problem(model) is None


@pytest.mark.parametrize(
    ("model", "words"),
    [
        ("", "empty"),
        (None, "string"),
        ("x" * 600, "longer"),
        ("qwen\n", "control"),
        ("qwen\x00", "control"),
        ("qwen\u202e", "control"),
        (" qwen", "whitespace"),
        ("../../etc/passwd", "'..'"),
        ("a/./b", "'.'"),
        ("/abs", "'/'"),
        ("a//b", "'//'"),
        ("a?b=1", "\\"),
        ("a#b", "\\"),
        ("a%2Fb", "\\"),
        ("a\\b", "\\"),
    ],
)
def test_bad_model_ids(model: object, words: str) -> None:
    problem = model_id_problem(model)
    assert problem is not None
    assert words in problem


def test_redact() -> None:
    token = "sk-lm-abcdefgh:abcdefghijklmnopqrst"
    assert token not in redact(f"x {token} y")
    assert "s3cret" not in redact("Authorization: Bearer s3cret")
    assert "custom" not in redact("the custom value", "custom")
    assert redact("nothing to hide") == "nothing to hide"


SECRET = "tok-0123456789abcdef0123456789abcdef"


def test_redact_takes_out_any_piece_of_the_secret() -> None:
    text = redact(f"a {SECRET} b {SECRET[:20]}-x c {SECRET[10:]} d {SECRET[3:11]}", SECRET)
    assert text == "a *** b ***-x c *** d ***"
    assert redact(f"short {SECRET[:7]} stays", SECRET) == f"short {SECRET[:7]} stays"


def test_redact_takes_out_the_secret_as_repr_quotes_it() -> None:
    secret = "it's-a-s\\ecret-value"
    for quoted in (repr(secret), repr(secret.encode()), repr(bytearray(secret.encode()))):
        assert "s\\\\ecret" not in redact(quoted, secret), quoted
        assert "ecret-va" not in redact(quoted, secret), quoted


def test_clip_redacts_before_it_cuts() -> None:
    text = "x" * 70 + SECRET + " and more"
    clipped = clip(text, 80, SECRET)
    assert clipped == "x" * 70 + "*** and m…"  # 80 characters, the last an ellipsis
    assert SECRET[:8] not in clipped
    assert clip("short", 80, SECRET) == "short"


def test_preview_decodes_redacts_and_cuts() -> None:
    body = b"\xff" + b"y" * 60 + SECRET.encode() + b"z" * 500
    shown = preview(body, 80, SECRET)
    assert len(shown) <= 80
    assert shown.startswith("\ufffd" + "y" * 60 + "***")
    assert not any(SECRET[i : i + 8] in shown for i in range(len(SECRET) - 7))
