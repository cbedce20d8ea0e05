"""``GET /api/v1/models``, ``POST /api/v1/models/load`` and ``POST /api/v1/models/unload``:
the catalog as the REST API v1 describes it, and explicit loads.

An entry's facts LM Studio reads from the model's files (display name, parameter count,
size, bits per weight, variants) are reckoned from the catalog's fields; a loaded instance's
config is what its load asked for over LM Studio's defaults.
"""

from __future__ import annotations

from typing import Any

from ..._catalog import Model
from ...engine import (
    Fail,
    Raw,
    Respond,
    State,
    Turn,
    bits_per_weight,
    estimated_size,
    params_string,
)
from .._base import Call, Out, fault_out
from .._checks import checked
from ._errors import API, refuse
from ._shapes import scripted

#: LM Studio's defaults for what a load does not set (its docs' examples).
DEFAULT_EVAL_BATCH_SIZE = 512
DEFAULT_PARALLEL = 4
DEFAULT_FLASH_ATTENTION = True
DEFAULT_OFFLOAD_KV_CACHE = True
#: The experts a mixture-of-experts model uses unless a load says otherwise.
DEFAULT_NUM_EXPERTS = 4
#: Architectures that are mixtures of experts (their config lists ``num_experts``).
MOE_ARCHITECTURES = frozenset({"gpt-oss", "qwen3moe", "mixtral", "deepseek2", "granitehybrid"})
#: A reasoning model's settings: gpt-oss takes an effort, the others switch on and off.
REASONING_EFFORTS = ("low", "medium", "high")
REASONING_SWITCH = ("off", "on")
LOAD_OPTIONS = ("eval_batch_size", "flash_attention", "num_experts", "offload_kv_cache_to_gpu")
MODELS_SCHEMA = "lmstudio-v1/model-list.schema.json"
LOAD_SCHEMA = "lmstudio-v1/load.schema.json"
UNLOAD_SCHEMA = "lmstudio-v1/unload.schema.json"

__all__ = [
    "LOAD_OPTIONS",
    "instance_config",
    "load",
    "model_list",
    "model_type",
    "reasoning_options",
    "unload",
]


def model_type(model: Model) -> str:
    """``llm`` or ``embedding``: vision is a capability here, not a type."""
    return "embedding" if model.type == "embeddings" else "llm"


def reasoning_options(model: Model) -> tuple[tuple[str, ...], str] | None:
    """What ``reasoning`` a reasoning model takes, and its default; None for other models."""
    if not model.reasoning:
        return None
    if model.arch == "gpt-oss":
        return REASONING_EFFORTS, "medium"
    return REASONING_SWITCH, "on"


def _moe(model: Model) -> bool:
    params = params_string(model) or ""
    return model.arch in MOE_ARCHITECTURES or "-A" in params


def instance_config(model: Model, state: State, *, echo: bool = False) -> dict[str, Any]:
    """A loaded instance's settings: ``context_length`` and, for an LLM on llama.cpp, the
    engine's (``echo``: the ``load_config`` a load answers with, which has no ``parallel``)."""
    config: dict[str, Any] = {"context_length": model.context_length}
    if model.type == "embeddings" or (echo and model.compatibility_type == "mlx"):
        return config
    options = model.load_options
    config["eval_batch_size"] = options.get("eval_batch_size", DEFAULT_EVAL_BATCH_SIZE)
    if state.profile.rest_v1_instance_parallel and not echo:
        config["parallel"] = DEFAULT_PARALLEL
    config["flash_attention"] = options.get("flash_attention", DEFAULT_FLASH_ATTENTION)
    if _moe(model):
        config["num_experts"] = options.get("num_experts", DEFAULT_NUM_EXPERTS)
    elif not state.profile.rest_v1_instance_parallel:
        config["num_experts"] = 0  # 0.4.0 listed it on dense models too
    config["offload_kv_cache_to_gpu"] = options.get(
        "offload_kv_cache_to_gpu", DEFAULT_OFFLOAD_KV_CACHE
    )
    return config


def display_name(model: Model) -> str:
    """``qwen/qwen3-8b`` -> ``Qwen3 8B``: the name LM Studio shows, from the model's key."""
    words = model.id.rpartition("/")[2].replace("_", "-").split("-")
    shown = [
        w.upper() if w[:1].isdigit() and w[-1:] in "bB" else w[:1].upper() + w[1:] for w in words
    ]
    return " ".join(w for w in shown if w)


def model_entry(model: Model, state: State) -> dict[str, Any]:
    """One ``/api/v1/models`` entry, with LM Studio's keys in LM Studio's order."""
    llm = model.type != "embeddings"
    entry: dict[str, Any] = {
        "type": model_type(model),
        "publisher": model.publisher,
        "key": model.id,
        "display_name": display_name(model),
    }
    if llm:
        entry["architecture"] = model.arch
    entry["quantization"] = {
        "name": model.quantization,
        "bits_per_weight": bits_per_weight(model.quantization),
    }
    entry["size_bytes"] = estimated_size(model)
    entry["params_string"] = params_string(model)
    config = instance_config(model, state) if model.loaded else {}
    entry["loaded_instances"] = [
        {"id": model.instance_id(n), "config": config} for n in model.instances
    ]
    entry["max_context_length"] = model.max_context_length
    entry["format"] = model.compatibility_type
    if llm:
        capabilities: dict[str, Any] = {
            "vision": model.type == "vlm" or "vision" in (model.capabilities or ()),
            "trained_for_tool_use": "tool_use" in (model.capabilities or ()),
        }
        options = reasoning_options(model)
        if options is not None:
            capabilities["reasoning"] = {"allowed_options": list(options[0]), "default": options[1]}
        entry["capabilities"] = capabilities
        entry["description"] = None
        variant = f"{model.id}@{model.quantization.lower()}"
        entry["variants"] = [variant]
        entry["selected_variant"] = variant
    return entry


async def model_list(call: Call) -> Out:
    """Every downloaded model, loaded or not, whatever the JIT setting (``fake.models``
    rules answer it too)."""
    state = call.state
    decision = await call.engine.decide(Turn("models", API), state, call.entry)
    replaced = fault_out(decision)
    if replaced is not None:
        return replaced
    if isinstance(decision.action, (Fail, Respond, Raw)):
        return scripted(decision.action)
    with call.engine.lock:
        state.catalog.expire(state.clock())
        document = {"models": [model_entry(m, state) for m in state.catalog.models()]}
    out = checked(document, MODELS_SCHEMA, state, None, False)
    out.fault = decision.fault
    return out


def _model_or_404(state: State, key: str) -> Model:
    """The model ``key`` names (``key@quant`` too)."""
    base, at, quant = key.rpartition("@")
    model = state.catalog.get(key)
    if model is None and at:
        found = state.catalog.get(base)
        model = found if found is not None and found.quantization.lower() == quant.lower() else None
    if model is None:
        raise refuse(404, "model_not_found", f'Model "{key}" not found.')
    return model


async def load(call: Call, body: dict[str, Any]) -> Out:
    """Load a model and answer once it is loaded (LM Studio's call blocks; no progress).
    A model already loaded gets another instance, ``key:2``."""
    state = call.state
    key = body["model"]
    with call.engine.lock:
        state.catalog.expire(state.clock())
        model = _model_or_404(state, key)
    call.entry.model = model.id
    context = body.get("context_length")
    if context is not None and context > model.max_context_length:
        raise refuse(
            400,
            "invalid_request",
            f"context_length {context} is more than the model's maximum context length "
            f"({model.max_context_length})",
            param="context_length",
        )
    options = {k: body[k] for k in LOAD_OPTIONS if k in body}
    number = await call.engine.loader.load(model, state, context, options)
    with call.engine.lock:
        model.last_used = state.clock()
        document: dict[str, Any] = {
            "type": model_type(model),
            "instance_id": model.instance_id(number),
            "load_time_seconds": model.load_seconds,
            "status": "loaded",
        }
        if body.get("echo_load_config"):
            document["load_config"] = instance_config(model, state, echo=True)
    shape = ("load", "load_config" in document, tuple(document.get("load_config", ())))
    return checked(document, LOAD_SCHEMA, state, shape, False)


async def unload(call: Call, body: dict[str, Any]) -> Out:
    """Unload one instance, named by its instance id (``key`` or ``key:2``)."""
    state = call.state
    instance_id = body["instance_id"]
    with call.engine.lock:
        state.catalog.expire(state.clock())
        found = state.catalog.instance(instance_id)
        if found is None:
            raise refuse(
                404, "model_not_found", f'No loaded model instance with id "{instance_id}".'
            )
        model, number = found
        call.entry.model = model.id
        model.remove_instance(number)
    return checked({"instance_id": instance_id}, UNLOAD_SCHEMA, state, "unload", False)
