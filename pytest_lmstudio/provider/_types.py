"""The provider's values: frozen dataclasses, built by callers or parsed from LM Studio's answers.

Wire formats live elsewhere (``_wire``); these classes only hold data and offer short
constructors (``Message.user("hi")``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ROLES",
    "CompletionRequest",
    "CompletionResponse",
    "ContentPart",
    "DownloadProgress",
    "DownloadResult",
    "LoadedModel",
    "Message",
    "ModelCapabilities",
    "ModelInfo",
    "StreamChunk",
    "ToolCall",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant", "tool"})
ContentPart = Mapping[str, Any]

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _image_url(image: str | bytes) -> str:
    if isinstance(image, str):
        return image
    mime = next((m for magic, m in _IMAGE_MAGIC if image.startswith(magic)), None)
    if mime is None and image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    if mime is None:
        raise ValueError("unknown image format: pass PNG, JPEG, GIF or WebP bytes, or a data URL")
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asks for; ``arguments`` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"

    @classmethod
    def create(
        cls, name: str, arguments: Mapping[str, Any] | None = None, *, id: str = ""
    ) -> ToolCall:
        """A tool call from a mapping of arguments (for assistant messages in a history)."""
        return cls(id=id, name=name, arguments=json.dumps(dict(arguments or {})))

    def parsed_arguments(self) -> Any:
        """``arguments`` decoded; raises ``json.JSONDecodeError`` if the model wrote bad JSON."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. ``content`` is text, or content parts (text and images) for a VLM."""

    role: str
    content: str | tuple[ContentPart, ...] | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.content is not None and not isinstance(self.content, str):
            object.__setattr__(self, "content", tuple(self.content))
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", text)

    @classmethod
    def user(cls, text: str, *, images: Iterable[str | bytes] = ()) -> Message:
        """A user message; ``images`` (data or http URLs, or PNG/JPEG/GIF/WebP bytes) for VLMs."""
        urls = [_image_url(image) for image in images]
        if not urls:
            return cls("user", text)
        parts: list[ContentPart] = [{"type": "text", "text": text}]
        parts.extend({"type": "image_url", "image_url": {"url": url}} for url in urls)
        return cls("user", tuple(parts))

    @classmethod
    def assistant(cls, text: str | None = None, *, tool_calls: Iterable[ToolCall] = ()) -> Message:
        return cls("assistant", text, tool_calls=tuple(tool_calls))

    @classmethod
    def tool(cls, content: str, *, tool_call_id: str) -> Message:
        """The result of a tool call, answering the call with id ``tool_call_id``."""
        return cls("tool", content, tool_call_id=tool_call_id)

    @property
    def text(self) -> str:
        """The message's text, with the text of every part joined when it has parts."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(
            str(part.get("text", "")) for part in self.content if part.get("type") == "text"
        )


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A chat completion request: what LM Studio accepts on ``/v1/chat/completions``.

    ``extra`` carries LM Studio's own fields (``ttl``, ``draft_model``, ``top_k``,
    ``repeat_penalty`` ...) and is sent unchanged. ``max_tokens=-1`` means no limit.
    """

    model: str
    messages: Sequence[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: str | Sequence[str] | None = None
    seed: int | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: str | Mapping[str, Any] | None = None
    response_format: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        object.__setattr__(self, "tools", tuple(self.tools))
        if self.stop is not None and not isinstance(self.stop, str):
            object.__setattr__(self, "stop", tuple(self.stop))

    @staticmethod
    def json_schema(
        schema: Mapping[str, Any], *, name: str = "answer", strict: bool = True
    ) -> dict[str, Any]:
        """A ``response_format`` asking for JSON that matches ``schema`` (LM Studio's only kind)."""
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": strict, "schema": dict(schema)},
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; LM Studio reports 0/0 for embeddings."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CompletionResponse:
    """A finished completion. ``model`` is the instance that answered (maybe not the one asked)."""

    content: str
    finish_reason: str | None
    usage: Usage | None
    tool_calls: tuple[ToolCall, ...]
    model: str
    id: str = ""
    reasoning: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One step of a streamed completion.

    ``content`` and ``reasoning`` are the new text of this step. Tool calls arrive whole, on the
    chunk that ends the choice (their fragments are assembled first). The usage chunk, when the
    server sends one, has ``usage`` set and nothing else.
    """

    content: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """An entry of ``GET /v1/models``: LM Studio gives the id, and nothing else worth keeping."""

    id: str
    owned_by: str | None = None


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """What a model can do and how it is loaded.

    From LM Studio's native ``/api/v1/models`` (0.4 and later), else ``/api/v0/models``, when the
    server has one (``source="native"``); ``reasoning`` and ``loaded_instances`` (the ids of the
    loaded instances) come only from ``/api/v1/models``. Otherwise
    from ``/v1/models`` with documented defaults (``source="fallback"``): type
    ``"llm"`` (``"embeddings"`` when the id names an embedding model), context length 4096, no
    tool use, no vision, state ``"unknown"``.
    """

    model: str
    type: str
    context_length: int
    loaded_context_length: int | None = None
    tool_use: bool = False
    vision: bool = False
    state: str = "unknown"
    quantization: str | None = None
    architecture: str | None = None
    publisher: str | None = None
    capabilities: tuple[str, ...] = ()
    source: Literal["native", "fallback"] = "native"
    reasoning: bool = False
    loaded_instances: tuple[str, ...] = ()

    @property
    def loaded(self) -> bool:
        return self.state == "loaded"


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model instance ``load_model`` loaded (``POST /api/v1/models/load``).

    ``instance_id`` names the instance (``unload_model`` takes it): the model's key, or
    ``key:2`` for a second instance of a model already loaded. ``load_config`` holds the
    settings that applied (``context_length``, ``eval_batch_size`` ...) when the load asked for
    them (``echo_load_config=True``), else it is empty.
    """

    instance_id: str
    type: str
    load_time_seconds: float
    status: str = "loaded"
    load_config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def context_length(self) -> int | None:
        """The loaded context length, when the server echoed the load config."""
        value = self.load_config.get("context_length")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    """Where a download stands, handed to ``download_model``'s ``on_progress`` at each poll.

    ``status`` is LM Studio's: ``downloading``, ``paused``, ``completed`` or ``failed``.
    ``total_bytes`` is None when the server did not say.
    """

    job_id: str
    status: str
    downloaded_bytes: int
    total_bytes: int | None
    bytes_per_second: float | None = None

    @property
    def fraction(self) -> float | None:
        """``downloaded_bytes / total_bytes`` (0.0 to 1.0), or None without a total."""
        if not self.total_bytes:
            return None
        return min(1.0, self.downloaded_bytes / self.total_bytes)


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """A finished ``download_model``: ``status`` is ``completed``, or ``already_downloaded``
    (then there was no job: ``job_id`` is None and the sizes are unknown)."""

    model: str
    status: Literal["completed", "already_downloaded"]
    job_id: str | None = None
    total_bytes: int | None = None
    downloaded_bytes: int | None = None

    @property
    def already_downloaded(self) -> bool:
        return self.status == "already_downloaded"
