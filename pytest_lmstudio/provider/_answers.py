"""LM Studio's answers, checked: JSON values in, the provider's types out.

Hand-written structural checks (no schema library, so that importing the provider stays
cheap): each check that fails raises a ``ShapeError`` naming the path of the bad field, which
``_wire.checked`` turns into an ``ApiError``. No I/O and no JSON decoding here: ``_wire`` decodes
the bytes, these functions judge the values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._defaults import FALLBACK_CONTEXT_LENGTH, FALLBACK_MODEL_TYPE
from ._types import (
    CompletionResponse,
    DownloadProgress,
    DownloadResult,
    LoadedModel,
    ModelCapabilities,
    ModelInfo,
    ToolCall,
    Usage,
)

__all__ = [
    "ShapeError",
    "download_result",
    "fallback_capabilities",
    "parse_completion",
    "parse_download",
    "parse_embeddings",
    "parse_loaded",
    "parse_models",
    "parse_native_models",
    "parse_tool_call",
    "parse_unloaded",
    "parse_usage",
    "parse_v1_models",
]


class ShapeError(ValueError):
    """A JSON answer breaks LM Studio's format; the message names the path of the bad field."""


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ShapeError(f"{where} should be an object, got {_kind(value)}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(f"{where} should be an array, got {_kind(value)}")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ShapeError(f"{where} should be a string, got {_kind(value)}")
    return value


def _opt_str(value: object, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{where} should be an integer, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def parse_usage(value: object, where: str = "usage") -> Usage | None:
    if value is None:
        return None
    usage = _mapping(value, where)
    counts = []
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        count = usage.get(key, 0)
        if count is None:
            count = 0
        counts.append(_int(count, f"{where}.{key}"))
    return Usage(*counts)


def parse_tool_call(value: object, where: str) -> ToolCall:
    call = _mapping(value, where)
    function = _mapping(call.get("function"), f"{where}.function")
    arguments = function.get("arguments", "")
    if isinstance(arguments, Mapping):
        arguments = json.dumps(arguments)
    return ToolCall(
        id=_opt_str(call.get("id"), f"{where}.id") or "",
        name=_str(function.get("name"), f"{where}.function.name"),
        arguments=_str(arguments, f"{where}.function.arguments"),
    )


def parse_completion(value: object) -> CompletionResponse:
    """A ``chat.completion`` object (the first choice) as a ``CompletionResponse``."""
    answer = _mapping(value, "the answer")
    choices = _list(answer.get("choices"), "choices")
    if not choices:
        raise ShapeError("choices is empty")
    choice = _mapping(choices[0], "choices[0]")
    message = _mapping(choice.get("message"), "choices[0].message")
    content = _opt_str(message.get("content"), "choices[0].message.content") or ""
    raw_calls = message.get("tool_calls")
    tool_calls: tuple[ToolCall, ...] = ()
    if raw_calls is not None:
        tool_calls = tuple(
            parse_tool_call(call, f"choices[0].message.tool_calls[{index}]")
            for index, call in enumerate(_list(raw_calls, "choices[0].message.tool_calls"))
        )
    reasoning = message.get("reasoning_content", message.get("reasoning"))
    return CompletionResponse(
        content=content,
        finish_reason=_opt_str(choice.get("finish_reason"), "choices[0].finish_reason"),
        usage=parse_usage(answer.get("usage")),
        tool_calls=tool_calls,
        model=_str(answer.get("model"), "model"),
        id=_opt_str(answer.get("id"), "id") or "",
        reasoning=_opt_str(reasoning, "choices[0].message.reasoning"),
        raw=answer,
    )


def parse_models(value: object) -> tuple[ModelInfo, ...]:
    """``GET /v1/models``: ``{"data": [{"id", "object", "owned_by"}], "object": "list"}``."""
    answer = _mapping(value, "the answer")
    models = []
    for index, entry in enumerate(_list(answer.get("data"), "data")):
        item = _mapping(entry, f"data[{index}]")
        models.append(
            ModelInfo(
                id=_str(item.get("id"), f"data[{index}].id"),
                owned_by=_opt_str(item.get("owned_by"), f"data[{index}].owned_by"),
            )
        )
    return tuple(models)


def parse_native_models(value: object) -> dict[str, ModelCapabilities]:
    """``GET /api/v0/models``: LM Studio's richer list, keyed by model id."""
    answer = _mapping(value, "the answer")
    result: dict[str, ModelCapabilities] = {}
    for index, entry in enumerate(_list(answer.get("data"), "data")):
        where = f"data[{index}]"
        item = _mapping(entry, where)
        model_id = _str(item.get("id"), f"{where}.id")
        kind = _str(item.get("type", FALLBACK_MODEL_TYPE), f"{where}.type")
        capabilities = tuple(
            _str(cap, f"{where}.capabilities[{number}]")
            for number, cap in enumerate(
                _list(item.get("capabilities", []), f"{where}.capabilities")
            )
        )
        loaded_context = item.get("loaded_context_length")
        result[model_id] = ModelCapabilities(
            model=model_id,
            type=kind,
            context_length=_int(
                item.get("max_context_length", FALLBACK_CONTEXT_LENGTH),
                f"{where}.max_context_length",
            ),
            loaded_context_length=(
                None
                if loaded_context is None
                else _int(loaded_context, f"{where}.loaded_context_length")
            ),
            tool_use="tool_use" in capabilities,
            vision=kind == "vlm" or "vision" in capabilities,
            state=_str(item.get("state", "unknown"), f"{where}.state"),
            quantization=_opt_str(item.get("quantization"), f"{where}.quantization"),
            architecture=_opt_str(item.get("arch"), f"{where}.arch"),
            publisher=_opt_str(item.get("publisher"), f"{where}.publisher"),
            capabilities=capabilities,
            source="native",
        )
    return result


def fallback_capabilities(model_id: str) -> ModelCapabilities:
    """What can be said of a model known only from ``/v1/models`` (the documented defaults)."""
    kind = "embeddings" if "embed" in model_id.lower() else FALLBACK_MODEL_TYPE
    return ModelCapabilities(
        model=model_id,
        type=kind,
        context_length=FALLBACK_CONTEXT_LENGTH,
        source="fallback",
    )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ShapeError(f"{where} should be a number, got {_kind(value)}")
    return float(value)


def _opt_int(value: object, where: str) -> int | None:
    return None if value is None else _int(value, where)


def parse_loaded(value: object) -> LoadedModel:
    """``POST /api/v1/models/load``: ``{type, instance_id, load_time_seconds, status,
    load_config?}``."""
    answer = _mapping(value, "the answer")
    config = answer.get("load_config")
    return LoadedModel(
        instance_id=_str(answer.get("instance_id"), "instance_id"),
        type=_str(answer.get("type", FALLBACK_MODEL_TYPE), "type"),
        load_time_seconds=_number(answer.get("load_time_seconds", 0), "load_time_seconds"),
        status=_str(answer.get("status", "loaded"), "status"),
        load_config={} if config is None else dict(_mapping(config, "load_config")),
    )


def parse_unloaded(value: object) -> None:
    """``POST /api/v1/models/unload``: ``{instance_id}``."""
    _str(_mapping(value, "the answer").get("instance_id"), "instance_id")


def parse_download(value: object) -> DownloadProgress | None:
    """A download job (``POST /api/v1/models/download`` or its status): None when the model
    was already downloaded (no job)."""
    answer = _mapping(value, "the answer")
    status = _str(answer.get("status"), "status")
    if status == "already_downloaded":
        return None
    rate = answer.get("bytes_per_second")
    return DownloadProgress(
        job_id=_str(answer.get("job_id"), "job_id"),
        status=status,
        downloaded_bytes=_int(answer.get("downloaded_bytes", 0), "downloaded_bytes"),
        total_bytes=_opt_int(answer.get("total_size_bytes"), "total_size_bytes"),
        bytes_per_second=None if rate is None else _number(rate, "bytes_per_second"),
    )


def download_result(model: str, progress: DownloadProgress | None) -> DownloadResult:
    """What ``download_model`` returns once the job completed (None: it had nothing to do)."""
    if progress is None:
        return DownloadResult(model=model, status="already_downloaded")
    return DownloadResult(
        model=model,
        status="completed",
        job_id=progress.job_id,
        total_bytes=progress.total_bytes,
        downloaded_bytes=progress.downloaded_bytes,
    )


def parse_v1_models(value: object) -> dict[str, ModelCapabilities]:
    """``GET /api/v1/models``: every downloaded model, keyed by its ``key``, with its loaded
    instances (the first instance's context length is ``loaded_context_length``)."""
    answer = _mapping(value, "the answer")
    result: dict[str, ModelCapabilities] = {}
    for index, entry in enumerate(_list(answer.get("models"), "models")):
        where = f"models[{index}]"
        item = _mapping(entry, where)
        key = _str(item.get("key"), f"{where}.key")
        kind = _str(item.get("type", FALLBACK_MODEL_TYPE), f"{where}.type")
        caps = _mapping(item.get("capabilities") or {}, f"{where}.capabilities")
        vision = caps.get("vision") is True
        tool_use = caps.get("trained_for_tool_use") is True
        reasoning = caps.get("reasoning") is not None
        instances = []
        contexts = []
        for number, raw in enumerate(
            _list(item.get("loaded_instances", []), f"{where}.loaded_instances")
        ):
            there = f"{where}.loaded_instances[{number}]"
            instance = _mapping(raw, there)
            instances.append(_str(instance.get("id"), f"{there}.id"))
            config = _mapping(instance.get("config") or {}, f"{there}.config")
            if config.get("context_length") is not None:
                contexts.append(_int(config["context_length"], f"{there}.config.context_length"))
        quantization = item.get("quantization")
        quant_name = (
            None
            if quantization is None
            else _opt_str(
                _mapping(quantization, f"{where}.quantization").get("name"),
                f"{where}.quantization.name",
            )
        )
        named = [name for name, present in (("tool_use", tool_use), ("vision", vision)) if present]
        if reasoning:
            named.append("reasoning")
        result[key] = ModelCapabilities(
            model=key,
            # v0's words, whichever list answered: "vlm" for a model with vision.
            type="embeddings" if kind == "embedding" else "vlm" if vision else kind,
            context_length=_int(
                item.get("max_context_length", FALLBACK_CONTEXT_LENGTH),
                f"{where}.max_context_length",
            ),
            loaded_context_length=contexts[0] if contexts else None,
            tool_use=tool_use,
            vision=vision,
            state="loaded" if instances else "not-loaded",
            quantization=quant_name,
            architecture=_opt_str(item.get("architecture"), f"{where}.architecture"),
            publisher=_opt_str(item.get("publisher"), f"{where}.publisher"),
            capabilities=tuple(named),
            source="native",
            reasoning=reasoning,
            loaded_instances=tuple(instances),
        )
    return result


def parse_embeddings(value: object, expected: int) -> list[list[float]]:
    """``POST /v1/embeddings``: one vector per input, in input order (sorted by ``index``)."""
    answer = _mapping(value, "the answer")
    data = _list(answer.get("data"), "data")
    if len(data) != expected:
        raise ShapeError(f"data has {len(data)} embeddings for {expected} inputs")
    vectors: list[tuple[int, list[float]]] = []
    for position, entry in enumerate(data):
        where = f"data[{position}]"
        item = _mapping(entry, where)
        index = _int(item.get("index", position), f"{where}.index")
        vector = _list(item.get("embedding"), f"{where}.embedding")
        for number in vector:
            if type(number) is not float and (type(number) is not int):
                raise ShapeError(f"{where}.embedding should hold numbers, got {_kind(number)}")
        vectors.append((index, [float(number) for number in vector]))
    vectors.sort(key=lambda pair: pair[0])
    if [index for index, _ in vectors] != list(range(expected)):
        raise ShapeError("data's indexes are not 0..n-1")
    return [vector for _, vector in vectors]
