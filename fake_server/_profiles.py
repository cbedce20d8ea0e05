"""Profiles: the wire switches of one LM Studio version, in one table for every door.

``lmstudio`` (the default) is the latest LM Studio 0.4 as it answers; ``lmstudio-0.3.9`` and
the others reproduce the quirks of older versions; ``openai`` is the strict official OpenAI
format. Each switch is one documented behaviour (``docs/quirks.md`` lists them with their
evidence); the dialects read the switches, the shapes live in the dialects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ReasoningFormat = Literal["reasoning", "reasoning_content", "think"]
ContextError = Literal["keep_first", "does_not_fit"]
REASONING_FORMATS: tuple[str, ...] = ("reasoning", "reasoning_content", "think")

#: The version ``/lms-status`` reports by default: the latest LM Studio the fake follows.
LMSTUDIO_VERSION = "0.4.21"

__all__ = [
    "LMSTUDIO_VERSION",
    "PROFILES",
    "PROFILE_NAMES",
    "REASONING_FORMATS",
    "Profile",
    "ReasoningFormat",
]


@dataclass(frozen=True)
class Profile:
    """One LM Studio version's switches (the defaults are the latest version's)."""

    name: str
    version: str = LMSTUDIO_VERSION
    #: the official OpenAI format instead of LM Studio's shapes
    strict_openai: bool = False
    #: ``/api/v0`` is served (0.3.6+)
    rest_v0: bool = True
    #: every streamed delta carries ``role`` (0.3.9), not only the first
    role_on_every_delta: bool = False
    #: streamed tool-call continuation chunks repeat ``type`` and an empty ``name`` (< 0.3.16)
    tool_call_continuation_head: bool = False
    #: ``/api/v0/models`` lists ``capabilities`` (0.3.16+)
    capabilities_listed: bool = True
    #: ``stream_options.include_usage`` sends a usage chunk (0.3.18+)
    include_usage: bool = True
    #: the ``json_object`` refusal names ``text`` too (0.3.18+)
    json_object_names_text: bool = True
    #: an unknown model is a 404 listing the models (< 0.3.31), not a 400 ``model_not_found``
    model_not_found_404: bool = False
    #: where a reasoning model's reasoning goes (``reasoning``: 0.3.23+, ``reasoning_content``:
    #: the 0.3.9 setting, ``think``: inside the content)
    reasoning_format: ReasoningFormat = "reasoning"
    #: the wording of a prompt too long for the loaded context
    context_error: ContextError = "does_not_fit"
    #: a streamed request too long for the context gets 200 and ``event: error`` (0.4.21+)
    #: rather than a 400 before the stream
    overflow_as_stream_event: bool = True
    #: the native REST API v1, ``/api/v1`` (0.4.0+)
    rest_v1: bool = True
    #: ``/api/v1`` request bodies are closed: an unknown key is a 400 naming it
    rest_v1_closed_bodies: bool = True
    #: a loaded instance's config lists ``parallel`` and no ``num_experts`` for a dense model
    #: (0.4.0: no ``parallel``, ``num_experts: 0``)
    rest_v1_instance_parallel: bool = True
    #: ``/api/v1/chat``: a ``system_prompt`` sent again on a stored chain is a 500 (0.4.20)
    rest_v1_system_prompt_again_500: bool = True
    #: ``POST /v1/responses`` is served (0.3.29+)
    responses: bool = True
    #: ``/v1/responses`` honours a ``text.format`` json_schema (OpenAI does; LM Studio accepts
    #: it and answers free text: bug-tracker #1396, #2403)
    responses_json_schema: bool = False

    #: ``POST /v1/messages``, the Anthropic-compatible door, is served (0.4.1+)
    messages_api: bool = True
    #: ``/v1/messages`` takes ``system``-role entries inside ``messages`` (0.4.15+)
    messages_system_role: bool = True


_LATEST = Profile("lmstudio")
_V0_4_1 = replace(
    _LATEST,
    name="lmstudio-0.4.1",
    version="0.4.1",
    overflow_as_stream_event=False,
    messages_system_role=False,
)
_V0_4_0 = replace(
    _V0_4_1,
    name="lmstudio-0.4.0",
    version="0.4.0",
    messages_api=False,
    rest_v1_instance_parallel=False,
)
_V0_3_23 = replace(
    _V0_4_0,
    name="lmstudio-0.3.23",
    version="0.3.23",
    model_not_found_404=True,
    context_error="keep_first",
    rest_v1=False,
    responses=False,
)
_V0_3_18 = replace(
    _V0_3_23, name="lmstudio-0.3.18", version="0.3.18", reasoning_format="reasoning_content"
)
_V0_3_15 = replace(
    _V0_3_18,
    name="lmstudio-0.3.15",
    version="0.3.15",
    include_usage=False,
    json_object_names_text=False,
    tool_call_continuation_head=True,
    capabilities_listed=False,
)
_V0_3_9 = replace(_V0_3_15, name="lmstudio-0.3.9", version="0.3.9", role_on_every_delta=True)
_V0_3_5 = replace(
    _V0_3_15, name="lmstudio-0.3.5", version="0.3.5", rest_v0=False, reasoning_format="think"
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        _LATEST,
        replace(_LATEST, name="openai", strict_openai=True, responses_json_schema=True),
        replace(_LATEST, name="lmstudio-0.4.21"),
        _V0_4_1,
        _V0_4_0,
        _V0_3_23,
        _V0_3_18,
        _V0_3_15,
        _V0_3_9,
        _V0_3_5,
    )
}
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)
