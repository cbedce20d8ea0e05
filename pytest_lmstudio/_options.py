"""The plugin's options: ``--lmstudio-*`` on the command line, their ini twins, and
``resolve_settings()``, which reads them once (command line, then ini file, then default).

Loading it imports nothing heavy: checking an option must not import the fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["PROFILES", "Settings", "add_options", "resolve_settings"]

#: The fake's profiles (``fake_server._profiles.PROFILE_NAMES``, which a test keeps equal):
#: named here so that checking an option does not import the fake.
PROFILES = (
    "lmstudio",
    "openai",
    "lmstudio-0.4.21",
    "lmstudio-0.4.1",
    "lmstudio-0.4.0",
    "lmstudio-0.3.23",
    "lmstudio-0.3.18",
    "lmstudio-0.3.15",
    "lmstudio-0.3.9",
    "lmstudio-0.3.5",
)
TRUTHY = ("true", "1", "yes", "on")
FALSY = ("false", "0", "no", "off")


@dataclass(frozen=True)
class Settings:
    """The plugin's options, resolved once: command line, then ini file, then default."""

    seed: int | None = None  # None: not given (the scenario's, else 0)
    profile: str | None = None  # None: not given (the scenario's, else lmstudio)
    scenario: Path | None = None
    scenario_source: str = ""
    strict: bool = True
    live: str | None = None  # None: off; "auto": discover(); else a URL
    live_required: bool = False  # no server in live mode: fail the marked tests, not skip


def add_options(parser: pytest.Parser) -> None:
    """The ``--lmstudio-*`` options, in their group, each with its ini twin."""
    group = parser.getgroup("lmstudio", "LM Studio (pytest-lmstudio)")
    group.addoption(
        "--lmstudio-seed",
        dest="lmstudio_seed",
        default=None,
        metavar="N",
        help="seed of the fake's default answers (ini: lmstudio_seed; default 0)",
    )
    group.addoption(
        "--lmstudio-profile",
        dest="lmstudio_profile",
        default=None,
        metavar="NAME",
        help="answer shapes: lmstudio or openai (ini: lmstudio_profile; default lmstudio)",
    )
    group.addoption(
        "--lmstudio-scenario",
        dest="lmstudio_scenario",
        default=None,
        metavar="FILE",
        help="a scenario file loaded into the fake for every test (ini: lmstudio_scenario)",
    )
    group.addoption(
        "--lmstudio-strict",
        dest="lmstudio_strict",
        action="store_true",
        default=None,
        help="fail a test whose scripted rules went unused or whose fake failed (the default)",
    )
    group.addoption(
        "--no-lmstudio-strict",
        dest="lmstudio_strict",
        action="store_false",
        help="do not check the fake at the end of each test (ini: lmstudio_strict = false)",
    )
    group.addoption(
        "--lmstudio-live",
        dest="lmstudio_live",
        nargs="?",
        const="auto",
        default=None,
        metavar="URL",
        help="run tests marked lmstudio_live against a real LM Studio, found by discovery "
        "or at URL (ini: lmstudio_live = auto | URL)",
    )
    group.addoption(
        "--lmstudio-live-required",
        dest="lmstudio_live_required",
        action="store_true",
        default=None,
        help="in live mode, fail the tests marked lmstudio_live when no LM Studio answers "
        "(default: skip them; ini: lmstudio_live_required = true)",
    )
    parser.addini("lmstudio_seed", "seed of the fake's default answers", default="")
    parser.addini("lmstudio_profile", "answer shapes: lmstudio or openai", default="")
    parser.addini(
        "lmstudio_scenario", "scenario file for every test (relative to rootdir)", default=""
    )
    parser.addini(
        "lmstudio_strict", "check the fake after each test: true or false", default="true"
    )
    parser.addini("lmstudio_live", "auto or a URL: run lmstudio_live tests for real", default="")
    parser.addini(
        "lmstudio_live_required",
        "live mode without LM Studio fails marked tests: true or false",
        default="false",
    )


def _choose(config: pytest.Config, name: str) -> tuple[Any, str]:
    """The value of option ``name`` and where it came from."""
    value = config.getoption(name)
    if value is not None:
        return value, f"--{name.replace('_', '-')}"
    raw = config.getini(name)
    if raw not in ("", None):
        return raw, f"ini option {name}"
    return None, ""


def resolve_settings(config: pytest.Config) -> Settings:
    """Command line over ini over defaults; a bad value is a ``pytest.UsageError``."""
    settings = Settings()
    seed, source = _choose(config, "lmstudio_seed")
    if seed is not None:
        try:
            number = int(seed)
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            raise pytest.UsageError(f"{source} must be a non-negative integer, got {seed!r}")
        settings = Settings(**{**vars(settings), "seed": number})
    profile, source = _choose(config, "lmstudio_profile")
    if profile is not None:
        if profile not in PROFILES:
            raise pytest.UsageError(
                f"{source} must be one of {', '.join(PROFILES)}; got {profile!r}"
            )
        settings = Settings(**{**vars(settings), "profile": profile})
    scenario, source = _choose(config, "lmstudio_scenario")
    if scenario is not None:
        base = Path.cwd() if source.startswith("--") else config.rootpath
        path = (base / scenario).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"{source}: no scenario file at {path}")
        settings = Settings(**{**vars(settings), "scenario": path, "scenario_source": source})
    strict = _flag(config, "lmstudio_strict")
    required = _flag(config, "lmstudio_live_required")
    settings = Settings(**{**vars(settings), "strict": strict, "live_required": required})
    live, source = _choose(config, "lmstudio_live")
    if live is not None:
        live = str(live).strip()
        if live != "auto" and not live.startswith(("http://", "https://")):
            raise pytest.UsageError(
                f"{source} takes 'auto' (discover LM Studio) or a URL such as "
                f"http://localhost:1234; got {live!r}"
            )
        settings = Settings(**{**vars(settings), "live": live.rstrip("/")})
    return settings


def _flag(config: pytest.Config, name: str) -> bool:
    """A true-or-false option: its command-line flag, else its ini line."""
    value = config.getoption(name)
    if value is not None:
        return bool(value)
    raw = str(config.getini(name)).strip().lower()
    if raw not in TRUTHY + FALSY:
        raise pytest.UsageError(f"ini option {name} must be true or false, got {raw!r}")
    return raw in TRUTHY
