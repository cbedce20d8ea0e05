"""The engine: a turn (what a request asks, from any door) in, an answer out.

No aiohttp and no wire format here: the dialects parse requests into turns and encode
answers; the engine resolves models, picks rules, and composes the default answers.
"""

from __future__ import annotations

from ._answer import Answer, ToolCall
from ._chaos import CHAOS_CHOICES, CHAOS_FAULTS, Chaos, check_chaos_faults
from ._conversations import Conversations, Exchange
from ._downloads import (
    DEFAULT_DOWNLOAD_SECONDS,
    Downloadable,
    DownloadJob,
    Downloads,
    bits_per_weight,
    estimated_size,
    params_string,
)
from ._engine import (
    ContextOverflow,
    Decision,
    Engine,
    ModelRefused,
    compose,
    context_room,
    limited_pieces,
    vectors,
)
from ._loading import ModelLoading
from ._rules import (
    DEFAULT_STREAM_ERROR,
    FAULT_KINDS,
    ROUTE_NAMES,
    Action,
    Fail,
    Fault,
    Matcher,
    Raw,
    Reply,
    Respond,
    RouteName,
    Rule,
    Stream,
)
from ._state import State
from ._store import ResponseStore, StoredResponse
from ._turn import ToolSpec, Turn, TurnKind

__all__ = [
    "CHAOS_CHOICES",
    "CHAOS_FAULTS",
    "DEFAULT_DOWNLOAD_SECONDS",
    "DEFAULT_STREAM_ERROR",
    "FAULT_KINDS",
    "ROUTE_NAMES",
    "Action",
    "Answer",
    "Chaos",
    "ContextOverflow",
    "Conversations",
    "Decision",
    "DownloadJob",
    "Downloadable",
    "Downloads",
    "Engine",
    "Exchange",
    "Fail",
    "Fault",
    "Matcher",
    "ModelLoading",
    "ModelRefused",
    "Raw",
    "Reply",
    "Respond",
    "ResponseStore",
    "RouteName",
    "Rule",
    "State",
    "StoredResponse",
    "Stream",
    "ToolCall",
    "ToolSpec",
    "Turn",
    "TurnKind",
    "bits_per_weight",
    "check_chaos_faults",
    "compose",
    "context_room",
    "estimated_size",
    "limited_pieces",
    "params_string",
    "vectors",
]
