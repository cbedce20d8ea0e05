"""Answers checked against their schema before they are sent, once per shape."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from .._schemas import validator
from ..engine import State
from ._base import JsonOut

__all__ = ["checked"]

#: (schema, shape) pairs already seen valid. Answers of one shape differ only in values the
#: code makes with fixed types (text, ids, counts, vectors), so each shape is checked once.
_VALID_SHAPES: set[tuple[str, Hashable]] = set()


def checked(
    document: Any, schema: str, state: State, shape: Hashable | None, strict: bool
) -> JsonOut:
    """A 200 answer with ``document``, checked first when validation is on (a broken one is an
    error inside the server). ``shape`` names what decides the document's structure (route,
    profile, finish reason...); without it every document is checked. ``strict`` checks
    every document whatever the settings (a rule being scripted)."""
    if strict:
        validator(schema).check(document)
    elif state.validate:
        key = None if shape is None else (schema, shape)
        if key is None or key not in _VALID_SHAPES:
            validator(schema).check(document)
            if key is not None:
                _VALID_SHAPES.add(key)
    return JsonOut(200, document)
