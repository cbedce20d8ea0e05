"""The SDK door's wire shapes: model infos, LM Studio's serialized errors, KV configs and
prediction stats.

Model infos are the "JS-safe" superset of the reference (§6.0): every field of the SDK's
published schema plus the five that ``@lmstudio/sdk`` 2.x requires (``publisher``,
``indexedModelIdentifier``, ``deviceIdentifier``, ``ttlMs``, ``lastUsedTime``). The Python
SDK ignores fields it does not know; the JavaScript SDK drops a whole message that lacks one
it needs, and its call then never finishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..._catalog import Model
from ...engine import estimated_size, params_string
from ..openai_shapes import native_stats
from ..rest_v1._models import display_name

__all__ = [
    "INSTANCE_PREFIX",
    "domain",
    "error",
    "identifier_not_found",
    "instance_info",
    "kv_config",
    "load_config",
    "model_info",
    "model_path",
    "no_model_matching",
    "path_not_found",
    "prediction_stats",
]

#: ``instanceReference`` is opaque to the SDKs; the fake's is this prefix and the instance id
#: (the real format is not known), so a reference stays valid across ``reset()``.
INSTANCE_PREFIX = "inst-"
#: How many names an error's ``displayData`` lists at most (LM Studio sends a sample).
SAMPLE_SIZE = 10
#: The formats the Python SDK accepts (anything else raises in the client): an MLX model
#: is a folder of safetensors to LM Studio's SDK.
_FORMATS = {"gguf": "gguf", "mlx": "safetensors"}
_STOP_REASONS = {
    "stop": "eosFound",
    "length": "maxPredictedTokensReached",
    "tool_calls": "toolCalls",
}


def domain(model: Model) -> str:
    """``llm`` or ``embedding``: the SDK's model type (a vision model is an ``llm``)."""
    return "embedding" if model.type == "embeddings" else "llm"


def model_path(model: Model) -> str:
    """Where LM Studio would keep the model's file, under its models folder."""
    name = model.id.rpartition("/")[2]
    if model.compatibility_type == "mlx":
        return f"{model.publisher}/{name}-{model.quantization}"
    return f"{model.publisher}/{name}-GGUF/{name}-{model.quantization}.gguf"


def model_info(model: Model) -> dict[str, Any]:
    """A downloaded model's info (``listDownloadedModels``, ``startLoading``, ``resolved``)."""
    path = model_path(model)
    info: dict[str, Any] = {
        "type": domain(model),
        "modelKey": model.id,
        "format": _FORMATS.get(model.compatibility_type, "gguf"),
        "displayName": display_name(model),
        "publisher": model.publisher,
        "path": path,
        "sizeBytes": estimated_size(model),
        "indexedModelIdentifier": path,
        "deviceIdentifier": None,
    }
    params = params_string(model)
    if params is not None:
        info["paramsString"] = params
    info["architecture"] = model.arch
    if model.type != "embeddings":
        capabilities = model.capabilities or ()
        info["vision"] = model.type == "vlm" or "vision" in capabilities
        info["trainedForToolUse"] = "tool_use" in capabilities
    info["maxContextLength"] = model.max_context_length
    return info


def instance_info(model: Model, number: int) -> dict[str, Any]:
    """A loaded instance's info: the model's, with its identifier, reference, context, TTL."""
    info = model_info(model)
    identifier = model.instance_id(number)
    ttl = model.idle_ttl
    info["identifier"] = identifier
    info["instanceReference"] = INSTANCE_PREFIX + identifier
    info["ttlMs"] = None if ttl is None else int(ttl * 1000)
    info["lastUsedTime"] = None if model.last_used is None else int(model.last_used * 1000)
    info["contextLength"] = model.context_length
    return info


def load_config(model: Model) -> dict[str, Any]:
    """A loaded instance's load settings as a KV config (``getLoadConfig``, a prediction's
    ``loadModelConfig``). The JavaScript SDK reads the context length from it."""
    prefix = "embedding" if model.type == "embeddings" else "llm"
    fields: list[dict[str, Any]] = [
        {"key": f"{prefix}.load.contextLength", "value": model.context_length}
    ]
    if model.type != "embeddings":
        flash = model.load_options.get("flash_attention", False)
        fields += [
            {"key": "llm.load.llama.acceleration.offloadRatio", "value": 1},
            {"key": "llm.load.llama.flashAttention", "value": bool(flash)},
        ]
    return {"fields": fields}


def kv_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """A KV config (``{"fields": [{key, value}]}``) from merged settings."""
    return {"fields": [{"key": key, "value": value} for key, value in values.items()]}


def prediction_stats(
    usage: Mapping[str, int], finish: str, stop_reason: str | None = None
) -> dict[str, Any]:
    """A prediction's stats, from the same token counts and timings the HTTP doors report
    (``/api/v0``'s ``stats``). ``stop_reason`` overrides the one ``finish`` maps to."""
    native = native_stats(dict(usage), finish)
    ttft = native["time_to_first_token"]
    return {
        "stopReason": stop_reason or _STOP_REASONS.get(finish, "eosFound"),
        "tokensPerSecond": native["tokens_per_second"],
        "numGpuLayers": -1,
        "timeToFirstTokenSec": ttft,
        "totalTimeSec": round(ttft + native["generation_time"], 3),
        "promptTokensCount": usage["prompt_tokens"],
        "predictedTokensCount": usage["completion_tokens"],
        "totalTokensCount": usage["prompt_tokens"] + usage["completion_tokens"],
    }


# -- errors: LM Studio's serialized error (rpcError, channelError) ------------------------
def error(
    title: str,
    *,
    cause: str | None = None,
    suggestion: str | None = None,
    display: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``serializedLMSExtendedError``: the title twice (as LM Studio sends it), the rest
    when given. The JavaScript SDK drops a ``displayData`` that does not fit its code."""
    document: dict[str, Any] = {"title": title, "rootTitle": title}
    if cause is not None:
        document["cause"] = cause
    if suggestion is not None:
        document["suggestion"] = suggestion
    if display is not None:
        document["displayData"] = dict(display)
    return document


def no_model_matching(query: Mapping[str, Any], loaded: Sequence[str]) -> dict[str, Any]:
    """No loaded model fits a specifier (the Python SDK raises
    ``LMStudioModelNotFoundError``)."""
    return error(
        "No model found that fits the query",
        display={
            "code": "generic.noModelMatchingQuery",
            "query": dict(query),
            "loadedModelsSample": list(loaded[:SAMPLE_SIZE]),
            "totalLoadedModels": len(loaded),
        },
    )


def path_not_found(path: str, available: Sequence[str]) -> dict[str, Any]:
    """No downloaded model has this key or path (``getOrLoad``, ``loadModel``)."""
    return error(
        f'Cannot find a model with path "{path}"',
        display={
            "code": "generic.pathNotFound",
            "path": path,
            "availablePathsSample": list(available[:SAMPLE_SIZE]),
            "totalModels": len(available),
        },
    )


def identifier_not_found(identifier: str, loaded: Sequence[str]) -> dict[str, Any]:
    """No loaded instance has this identifier (``unloadModel``)."""
    return error(
        f'Cannot find model with identifier "{identifier}"',
        display={
            "code": "generic.identifierNotFound",
            "identifier": identifier,
            "loadedModelsSample": list(loaded[:SAMPLE_SIZE]),
            "totalLoadedModels": len(loaded),
        },
    )
