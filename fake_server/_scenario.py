"""Applying a scenario (models, rules, settings) to a fake, through its public methods.

The scenario is checked against the schema first (``_scenario_file``); the caller makes the
application all or nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ._catalog import Model
from ._errors import ScenarioError, ScriptError
from ._scenario_file import ACTIONS, validate_scenario
from ._script import RouteScript
from .engine import Rule

_WITH_DELAY = ("reply", "stream", "fail", "respond", "raw")

__all__ = ["ScenarioTarget", "apply_scenario"]


class ScenarioTarget(Protocol):
    """The fake's methods a scenario calls (``FakeLMStudio`` has them all)."""

    chat: RouteScript
    completions: RouteScript
    embeddings: RouteScript
    models: RouteScript

    @property
    def add_model(self) -> Callable[..., Model]: ...

    def set_seed(self, seed: int) -> None: ...
    def set_profile(self, profile: str) -> None: ...
    def set_jit(self, enabled: bool) -> None: ...
    def require_api_token(self, token: str | None) -> None: ...
    def set_while_loading(self, behaviour: str) -> None: ...
    def set_single_loaded_fallback(self, enabled: bool) -> None: ...
    def set_auto_evict(self, enabled: bool) -> None: ...
    def set_reasoning_format(self, reasoning_format: str | None) -> None: ...
    def chaos(
        self, rate: float, faults: Any = None, *, seed: int = 0, routes: Any = ...
    ) -> None: ...
    def clear_models(self) -> None: ...


def apply_scenario(fake: ScenarioTarget, data: Mapping[str, Any], source: str) -> None:
    """Validate ``data`` against the scenario schema, then apply it to ``fake``."""
    validate_scenario(data, source)

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
    if "single_loaded_fallback" in data:
        step(
            "$.single_loaded_fallback",
            lambda: fake.set_single_loaded_fallback(data["single_loaded_fallback"]),
        )
    if "auto_evict" in data:
        step("$.auto_evict", lambda: fake.set_auto_evict(data["auto_evict"]))
    if "reasoning_format" in data:
        step("$.reasoning_format", lambda: fake.set_reasoning_format(data["reasoning_format"]))
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


def _add_model(fake: ScenarioTarget, spec: Mapping[str, Any]) -> None:
    fake.add_model(spec["id"], **{k: v for k, v in spec.items() if k != "id"})


def _add_rule(fake: ScenarioTarget, rule: Mapping[str, Any], origin: str) -> None:
    script: RouteScript = getattr(fake, rule["route"])
    when = rule.get("when")
    if when:
        script = script.when(**when)
    keys = [k for k in ACTIONS if k in rule]
    added: Rule
    if not keys:  # only a delay: the default answer, late
        added = script.delay(rule["delay"], times=rule.get("times"))
    else:
        (key,) = keys
        params = dict(rule[key])
        name = ACTIONS[key]
        args = [params.pop(name)] if name is not None and name in params else []
        if key in _WITH_DELAY and "delay" in rule:
            params["delay"] = rule["delay"]
        elif "delay" in rule:
            raise ScriptError(f"delay goes with reply, stream, fail, respond or raw, not {key}")
        added = getattr(script, key)(*args, times=rule.get("times"), **params)
    # Reports (check(), the journal) point at the scenario, not at the code that loaded it.
    added.origin = origin
