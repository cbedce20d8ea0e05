"""Scenario files: reading JSON or TOML, and checking them against the scenario schema.

Applying a checked scenario to a fake is the facade's business (``_scenario``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import ScenarioError
from ._schemas import load_schema, validator

SCENARIO_SCHEMA = "scenario.schema.json"

#: Each action, and the key of its settings passed as the method's first argument.
ACTIONS: dict[str, str | None] = {
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

__all__ = ["ACTIONS", "parse_scenario", "read_scenario", "scenario_schema", "validate_scenario"]
#: Where a scenario error sends the reader: something that exists after a wheel install (the
#: schema file is package data, not a path anyone has at hand).
SEE_SCHEMA = "see the scenario schema: fake_server.scenario_schema()"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema scenario files are checked against (a copy: a dict to read, to print
    or to give an editor). Its ``$id`` is
    ``https://pytest-lmstudio.local/schemas/scenario.schema.json``.

    >>> from fake_server import scenario_schema
    >>> sorted(scenario_schema()["properties"])[:3]
    ['$schema', 'api_token', 'auto_evict']
    """
    import copy

    return copy.deepcopy(load_schema(SCENARIO_SCHEMA))


def parse_toml(text: str) -> dict[str, Any]:
    # Loaded by the first TOML scenario, not by every process that starts a fake.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    parsed: dict[str, Any] = tomllib.loads(text)
    return parsed


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
        except ValueError as exc:  # tomllib.TOMLDecodeError (loaded by parse_toml)
            raise ScenarioError(source, f"not valid TOML: {exc}") from None
        except RecursionError:
            raise ScenarioError(source, "not valid TOML: nested too deeply") from None
    try:
        data: Any = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            source, f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise ScenarioError(source, "not valid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN or Infinity (not JSON), an integer of 4,300+ digits
        raise ScenarioError(source, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(source, "a scenario must be a JSON object")
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number: give a finite number")


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
    actions = [k for k in ACTIONS if k in rule]
    if len(actions) == 1 or (not actions and "delay" in rule):
        return None
    choices = ", ".join(ACTIONS)
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
        raise ScenarioError(source, f"{message} ({SEE_SCHEMA})", error.path)
