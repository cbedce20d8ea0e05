"""JSON as LM Studio's Express server writes it: compact, raw UTF-8."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps"]

#: One encoder for every call: ``json.dumps`` with arguments builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(document: Any) -> str:
    """Compact JSON with raw UTF-8, as Express's ``res.json`` writes it."""
    return _ENCODER.encode(document)
