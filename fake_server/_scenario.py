"""Scenario files: the fake's models, rules and settings as JSON or TOML data.

A scenario is checked against ``schemas/scenario.schema.json`` before anything is applied,
and applied all or nothing: a scenario that fails half way leaves the fake as it was.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ScenarioError, ScriptError
from ._schemas import load_schema, validator

if TYPE_CHECKING:
    from ._server import FakeLMStudio

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def parse_toml(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = tomllib.loads(text)
    return parsed


SCENARIO_SCHEMA = "scenario.schema.json"

__all__ = ["apply_scenario", "parse_scenario", "read_scenario"]


def read_scenario(path: Path) -> dict[str, Any]:
    """Parse a ``.json`` or ``.toml`` scenario file (other suffixes are read as JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(
            str(path), f"cannot read the scenario file: {exc.strerror or exc}"
        ) from None
    return parse_scenario(text, str(path), toml=path.suffix.lower() == ".toml")


def parse_scenario(text: str, source: str, *, toml: bool) -> dict[str, Any]:
    """Parse scenario text (TOML, or JSON), naming ``source`` and the line in errors."""
    if toml:
        try:
            return parse_toml(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, f"not valid TOML: {exc}") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            source, f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, "a scenario must be a JSON object")
    return data


def _model_kwargs(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "id"}


#: Each action, and the key of its settings passed as the method's first argument.
_ACTIONS: dict[str, str | None] = {
    "reply": "content",
    "stream": "chunks",
    "fail": "status",
    "respond": "json",
    "raw": "body",
    "hang": None,
    "drop": None,
    "reset_connection": None,
    "garbage": "size",
    "malformed": None,
    "truncate": "after_bytes",
    "slow_body": "bytes_per_second",
}
_WITH_DELAY = ("reply", "stream", "fail", "respond", "raw")


_RULE_PATH = re.compile(r"\$\.rules\[(\d+)\]")


def _action_problem(data: Mapping[str, Any], path: str) -> str | None:
    """A plain message for a rule without exactly one action, where the schema's ``oneOf``
    would only say that the rule is valid under none, or several, of its branches."""
    match = _RULE_PATH.fullmatch(path)
    rules = data.get("rules")
    if match is None or not isinstance(rules, list) or int(match.group(1)) >= len(rules):
        return None
    rule = rules[int(match.group(1))]
    known = load_schema(SCENARIO_SCHEMA)["$defs"]["rule"]["properties"]
    if not isinstance(rule, Mapping) or set(rule) - set(known):
        return None  # the schema's message names the unknown key: keep it
    actions = [k for k in _ACTIONS if k in rule]
    if len(actions) == 1 or (not actions and "delay" in rule):
        return None
    choices = ", ".join(_ACTIONS)
    if not actions:
        return f"a rule needs one action, one of {choices} (or only a delay); this one has none"
    return (
        f"a rule takes exactly one action ({choices}); this one has {len(actions)}: "
        f"{', '.join(actions)}. Split it into one rule per action."
    )


def validate_scenario(data: Mapping[str, Any], source: str) -> None:
    """Raise ``ScenarioError`` naming the bad field if ``data`` breaks the scenario schema."""
    check = validator(SCENARIO_SCHEMA)
    if not check.is_valid(data):
        error = check.first_error(data)
        if error is None:
            raise ScenarioError(source, "does not match the scenario schema")
        message = _action_problem(data, error.path) or error.message
        raise ScenarioError(source, f"{message} (see schemas/{SCENARIO_SCHEMA})", error.path)


def apply_scenario(fake: FakeLMStudio, data: Mapping[str, Any], source: str) -> None:
    """Validate ``data`` against the scenario schema, then apply it to ``fake``."""
    validate_scenario(data, source)
    with fake._lock:
        saved = replace(
            fake._state, catalog=fake._state.catalog.copy(), rules=list(fake._state.rules)
        )
    try:
        _apply(fake, data, source)
    except BaseException:
        with fake._lock:
            fake._state = saved
        raise


def _apply(fake: FakeLMStudio, data: Mapping[str, Any], source: str) -> None:
    def step(path: str, call: Callable[[], object]) -> None:
        try:
            call()
        except (ScriptError, ValueError) as exc:
            raise ScenarioError(source, str(exc), path) from None

    if "seed" in data:
        step("$.seed", lambda: fake.set_seed(data["seed"]))
    if "profile" in data:
        step("$.profile", lambda: fake.set_profile(data["profile"]))
    if "jit" in data:
        step("$.jit", lambda: fake.set_jit(data["jit"]))
    if "api_token" in data:
        step("$.api_token", lambda: fake.require_api_token(data["api_token"]))
    if "while_loading" in data:
        step("$.while_loading", lambda: fake.set_while_loading(data["while_loading"]))
    if "chaos" in data:
        chaos = data["chaos"]
        step(
            "$.chaos",
            lambda: fake.chaos(
                chaos["rate"],
                chaos.get("faults"),
                seed=chaos.get("seed", 0),
                routes=chaos.get("routes", ("chat", "completions", "embeddings", "models")),
            ),
        )
    if data.get("clear_models"):
        fake.clear_models()
    for i, spec in enumerate(data.get("models", ())):
        step(f"$.models[{i}]", functools.partial(_add_model, fake, spec))
    for i, rule in enumerate(data.get("rules", ())):
        step(f"$.rules[{i}]", functools.partial(_add_rule, fake, rule, f"{source} $.rules[{i}]"))


def _add_model(fake: FakeLMStudio, spec: Mapping[str, Any]) -> None:
    fake.add_model(spec["id"], **_model_kwargs(spec))


def _add_rule(fake: FakeLMStudio, rule: Mapping[str, Any], origin: str) -> None:
    script = getattr(fake, rule["route"])
    when = rule.get("when")
    if when:
        script = script.when(**when)
    keys = [k for k in _ACTIONS if k in rule]
    if not keys:  # only a delay: the default answer, late
        added = script.delay(rule["delay"], times=rule.get("times"))
    else:
        (key,) = keys
        params = dict(rule[key])
        name = _ACTIONS[key]
        args = [params.pop(name)] if name is not None and name in params else []
        if key in _WITH_DELAY and "delay" in rule:
            params["delay"] = rule["delay"]
        elif "delay" in rule:
            raise ScriptError(f"delay goes with reply, stream, fail, respond or raw, not {key}")
        added = getattr(script, key)(*args, times=rule.get("times"), **params)
    # Reports (check(), the journal) point at the scenario, not at the code that loaded it.
    added.origin = origin
