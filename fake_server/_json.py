"""JSON in and out, as LM Studio's Node server handles it.

Out: compact, raw UTF-8, as Express's ``res.json`` writes it, and always well-formed: a lone
surrogate (which a client may send, escaped, and JavaScript keeps) is written as its ``\\uXXXX``
escape, and a number that is not finite as ``null`` (``JSON.stringify``'s rules), so no
answer, journal line or admin document can fail to encode.

In: ``parse_body`` reads a request body as ``JSON.parse`` would: ``NaN`` and ``Infinity`` are
not JSON, and an integer too long for Python's int conversion becomes a float (JavaScript has
only doubles). What Python cannot parse that JavaScript could (nesting deeper than the stack)
is refused with a clear message rather than a crash.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["BodyError", "dumps", "parse_body"]

#: One encoder for every call: ``json.dumps`` with arguments builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
#: Python refuses to convert longer integer literals (``sys.int_info.default_max_str_digits``).
_INT_DIGITS = 4300
_SURROGATE = re.compile("[\ud800-\udfff]")
MSG_NOT_UTF8 = "Request body is not valid UTF-8"
MSG_TOO_DEEP = (
    "Request body is nested too deeply to be read: send JSON nested fewer than about 900 levels"
)


class BodyError(ValueError):
    """A request body that is not JSON; the message says why, in the server's words."""


def dumps(document: Any) -> str:
    """Compact JSON with raw UTF-8, as Express's ``res.json`` writes it; always encodable as
    UTF-8 (lone surrogates escaped, non-finite numbers as null)."""
    try:
        text = _ENCODER.encode(document)
    except ValueError:  # NaN or an infinity somewhere: JSON.stringify writes null
        text = _ENCODER.encode(_finite(document))
    # ASCII (nearly every answer; a flag CPython keeps, no scan) holds no surrogate.
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _reject_constant(name: str) -> Any:
    raise BodyError(f"Unexpected token '{name[0]}', \"{name}\" is not valid JSON")


#: Python's JSON decoder messages, in the words of V8's ``JSON.parse`` (what LM Studio's
#: Node server answers with).
_V8_MESSAGES = {
    "Expecting property name enclosed in double quotes": "Expected double-quoted property name",
    "Expecting ':' delimiter": "Expected ':' after property name",
    "Unterminated string starting at": "Unterminated string",
    "Invalid control character at": "Bad control character in string literal",
    "Invalid \\escape": "Bad escaped character",
    "Invalid \\uXXXX escape": "Bad Unicode escape",
    "Extra data": "Unexpected non-whitespace character after JSON",
}


def v8_message(exc: json.JSONDecodeError) -> str:
    """``exc`` worded as V8's ``JSON.parse`` words it (Node 20+)."""
    where = f"in JSON at position {exc.pos} (line {exc.lineno} column {exc.colno})"
    text, pos = exc.doc, exc.pos
    if exc.msg == "Expecting ',' delimiter":
        inside = _innermost(text, pos)
        after = "array element" if inside == "[" else "property value"
        return f"Expected ',' or '{']' if inside == '[' else '}'}' after {after} {where}"
    if exc.msg == "Expecting value":
        if not text[pos:].strip():
            return "Unexpected end of JSON input"
        snippet = text if len(text) <= 32 else text[max(0, pos - 10) : pos + 10]
        return f"Unexpected token '{text[pos]}', \"{snippet}\" is not valid JSON"
    if exc.msg == "Extra data":
        return f"{_V8_MESSAGES[exc.msg]} at position {pos} (line {exc.lineno} column {exc.colno})"
    return f"{_V8_MESSAGES.get(exc.msg, exc.msg)} {where}"


def _innermost(text: str, pos: int) -> str:
    """The bracket (``[`` or ``{``) open at ``pos``, skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else "{"


def _js_int(digits: str) -> int | float:
    return int(digits) if len(digits) <= _INT_DIGITS else float(digits)


#: One decoder for every body: ``json.loads`` with arguments builds a new one each time.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_body(data: bytes) -> Any:
    """The JSON of a request body; ``BodyError`` with a message for the client when it is
    not JSON (or cannot be read)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(MSG_NOT_UTF8) from None
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise BodyError(v8_message(exc)) from None
    except RecursionError:
        raise BodyError(MSG_TOO_DEEP) from None
    except BodyError:
        raise
    except ValueError:
        # An integer literal past Python's digit limit: JavaScript reads it as a double.
        try:
            return json.loads(text, parse_constant=_reject_constant, parse_int=_js_int)
        except RecursionError:
            raise BodyError(MSG_TOO_DEEP) from None
