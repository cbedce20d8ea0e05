"""The REST API v1's errors: its error object, and its request checks worded as LM Studio
words them (zod issues: ``'input.0.content' is required``, ``Unrecognized key(s) in object:
'stop'``, several issues joined with ", ").

Requests are checked against the door's JSON Schemas (closed objects); when one fails,
jsonschema's errors are turned into zod's issues, in the order of the schema's fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..._json import dumps
from ..._schemas import validator
from ...engine import State
from .._base import ApiAnswer, ErrorForms

API = "rest-v1"
PREFIX = "/api/v1"
ERROR_SCHEMA = "lmstudio-v1/error.schema.json"
MSG_AUTH_MISSING = (
    "An LM Studio API token is required to make requests to this server, but none was provided "
    "using the Authorization header using the 'Bearer' scheme (i.e., 'Authorization: Bearer "
    "$LM_API_TOKEN'). Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)
MSG_AUTH_INVALID = (
    "The LM Studio API token provided in the Authorization header is not valid for this server. "
    "Learn more at: https://lmstudio.ai/docs/developer/core/authentication."
)

__all__ = [
    "API",
    "ERRORS",
    "ERROR_SCHEMA",
    "PREFIX",
    "Issue",
    "checked_body",
    "error_body",
    "refuse",
]


def error_body(
    type_: str, message: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """``{"error": {message, type, code?, param?}}``, in the order LM Studio writes it."""
    error: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        error["code"] = code
    if param is not None:
        error["param"] = param
    return {"error": error}


def refuse(
    status: int, type_: str, message: str, code: str | None = None, param: str | None = None
) -> ApiAnswer:
    """The answer that ends a request with this error (raise it)."""
    return ApiAnswer(status, error_body(type_, message, code, param))


def _unauthorized(state: State, wrong: bool) -> Any:
    message = MSG_AUTH_INVALID if wrong else MSG_AUTH_MISSING
    return {"error": {"type": "invalid_request", "code": "invalid_api_key", "message": message}}


def _bad_body(state: State, message: str) -> Any:
    return error_body("invalid_request", message)


#: How this door words what the shell answers for it (a body that is not JSON, auth).
ERRORS = ErrorForms(bad_body=_bad_body, unauthorized=_unauthorized)


@dataclass(frozen=True)
class Issue:
    """One zod issue: its code, its message, and the request field it is about."""

    code: str
    message: str
    param: str | None


def checked_body(body: Any, schema: str, state: State) -> dict[str, Any]:
    """The request body as an object that fits ``schema``, or a 400 in LM Studio's words.

    Express reads a missing body as ``{}``. With the profile's open bodies, keys the schema
    does not know are left out rather than refused."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise refuse(400, "invalid_request", f"Expected object, received {_received(body)}")
    check = validator(schema)
    if check.is_valid(body):
        return body
    closed = state.profile.rest_v1_closed_bodies
    found = [i for i in _issues(check.raw_errors(body)) if closed or i.code != "unrecognized_keys"]
    if not found:
        return body
    message = ", ".join(i.message for i in found)
    raise refuse(400, "invalid_request", message, found[0].code, found[0].param)


def _issues(errors: Iterable[Any]) -> list[Issue]:
    out: list[Issue] = []
    seen: set[str] = set()
    for error in errors:
        for issue in _worded(error):
            if issue.message not in seen:
                seen.add(issue.message)
                out.append(issue)
    return out


def _worded(error: Any) -> list[Issue]:
    """Zod's issues for one jsonschema error."""
    path = [str(p) for p in error.absolute_path]
    param = path[0] if path else None
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [k for k in expected if isinstance(instance, dict) and k not in instance]
        return [
            Issue("missing_required_parameter", f"'{'.'.join([*path, k])}' is required", param or k)
            for k in missing
        ]
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = ", ".join(f"'{k}'" for k in instance if k not in known)
        return [Issue("unrecognized_keys", f"Unrecognized key(s) in object: {extra}", param)]
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        received = _received(instance, integer="integer" in wanted)
        return [Issue("invalid_type", f"Expected {' | '.join(wanted)}, received {received}", param)]
    if keyword in ("enum", "const"):
        values = expected if keyword == "enum" else [expected]
        shown = " | ".join(_quoted(v) for v in values)
        message = f"Invalid enum value. Expected {shown}, received {_quoted(instance)}"
        return [Issue("invalid_enum_value", message, param)]
    bounds = {
        "minimum": ("too_small", "greater than or equal to"),
        "exclusiveMinimum": ("too_small", "greater than"),
        "maximum": ("too_big", "less than or equal to"),
    }
    if keyword in bounds:
        code, words = bounds[keyword]
        return [Issue(code, f"Number must be {words} {dumps(expected)}", param)]
    if keyword == "minLength":
        return [Issue("too_small", f"String must contain at least {expected} character(s)", param)]
    if keyword == "pattern":
        prefix = str(expected).lstrip("^")
        return [Issue("invalid_string", f'Invalid input: must start with "{prefix}"', param)]
    if keyword == "oneOf":
        return [_union(error, param)]
    return [Issue("custom", "Invalid input", param)]


def _union(error: Any, param: str | None) -> Issue:
    """A union (input items, integrations): the issues of the member the value's ``type``
    names, joined; or that its ``type`` names none."""
    branches: list[dict[str, Any]] = error.validator_value
    instance = error.instance
    if not isinstance(instance, dict):
        kinds = sorted({str(b.get("type")) for b in branches})
        received = _received(instance)
        return Issue("invalid_union", f"Expected {' | '.join(kinds)}, received {received}", param)
    names = [b.get("properties", {}).get("type", {}).get("const") for b in branches]
    if instance.get("type") not in names:
        expected = " | ".join(f"'{n}'" for n in names if n is not None)
        return Issue(
            "invalid_union_discriminator",
            f"Invalid discriminator value. Expected {expected}",
            param,
        )
    chosen = names.index(instance["type"])
    inner = [e for e in error.context if e.schema_path and e.schema_path[0] == chosen]
    issues = _issues(inner)
    message = ", ".join(i.message for i in issues) or "Invalid input"
    only_unrecognized = bool(issues) and all(i.code == "unrecognized_keys" for i in issues)
    return Issue("unrecognized_keys" if only_unrecognized else "invalid_union", message, param)


def _received(value: Any, *, integer: bool = False) -> str:
    """A value's type as zod names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float) and integer:
        return "float"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else dumps(value)
