"""The fake's model catalog: which models are downloaded, which are loaded, and how a
requested identifier resolves to one of them (LM Studio's JIT rules)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

ModelType = Literal["llm", "vlm", "embeddings"]
Purpose = Literal["chat", "completions", "embeddings"]

MODEL_TYPES: tuple[str, ...] = ("llm", "vlm", "embeddings")
COMPATIBILITY_TYPES: tuple[str, ...] = ("gguf", "mlx")

#: LM Studio loads a model with a 4096-token context unless told otherwise.
DEFAULT_LOADED_CONTEXT = 4096
#: The tokens a chat template adds around each message (role markers, separators): counted
#: when a prompt is checked against the loaded context, not in ``usage.prompt_tokens``.
TEMPLATE_TOKENS_PER_MESSAGE = 4
DEFAULT_CONTEXT_LENGTH = 8192
DEFAULT_QUANTIZATION = "Q4_K_M"
DEFAULT_EMBEDDING_DIMENSIONS = 768
#: LM Studio unloads a JIT-loaded model after 60 idle minutes unless the request set ``ttl``.
DEFAULT_JIT_TTL_SECONDS = 3600.0
#: ``created`` of every model in the strict OpenAI profile (LM Studio itself sends none).
DEFAULT_MODEL_CREATED = 1731990317

__all__ = [
    "DEFAULT_CONTEXT_LENGTH",
    "Catalog",
    "Model",
    "Resolution",
    "default_models",
]


@dataclass
class Model:
    """One downloaded model and its load state, as ``/api/v0/models`` describes it."""

    id: str
    type: ModelType = "llm"
    publisher: str = ""
    arch: str = "llama"
    compatibility_type: str = "gguf"
    quantization: str = DEFAULT_QUANTIZATION
    max_context_length: int = DEFAULT_CONTEXT_LENGTH
    loaded: bool = False
    loaded_context_length: int | None = None
    capabilities: list[str] | None = None
    #: a reasoning model: its answers carry reasoning (where depends on the reasoning format)
    reasoning: bool = False
    load_seconds: float = 0.0
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS
    created: int = DEFAULT_MODEL_CREATED
    #: idle seconds after which a loaded model is unloaded (None: never, unless JIT-loaded)
    ttl: float | None = None
    #: the ``ttl`` of the request whose JIT load is current (it wins over ``ttl`` until unload)
    load_ttl: float | None = field(default=None, repr=False)
    last_used: float | None = field(default=None, repr=False)
    #: loaded by a request (JIT), so subject to auto-evict; models loaded up front are not
    jit_loaded: bool = field(default=False, repr=False)
    loading: bool = field(default=False, repr=False)
    #: the file's size (None: reckoned from the parameter count and the quantization)
    size_bytes: int | None = None
    #: the loaded instances' numbers: 1 is ``id``, n is ``id:n`` (empty when loaded: [1])
    instance_numbers: list[int] = field(default_factory=list, repr=False)
    #: identifiers given to instances when they were loaded (the SDK's
    #: ``load_new_instance(key, "my-model")``), by instance number
    instance_names: dict[int, str] = field(default_factory=dict, repr=False)
    #: the settings the current load was asked for (``POST /api/v1/models/load``)
    load_options: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.publisher:
            self.publisher = self.id.split("/", 1)[0] if "/" in self.id else "lmstudio-community"
        if self.loaded and self.loaded_context_length is None:
            self.loaded_context_length = min(DEFAULT_LOADED_CONTEXT, self.max_context_length)

    @property
    def state(self) -> str:
        if self.loading:
            return "loading"
        return "loaded" if self.loaded else "not-loaded"

    def mark_loaded(self, *, jit: bool) -> None:
        self.loading = False
        self.loaded = True
        self.jit_loaded = jit
        if self.loaded_context_length is None:
            self.loaded_context_length = min(DEFAULT_LOADED_CONTEXT, self.max_context_length)

    @property
    def idle_ttl(self) -> float | None:
        """Idle seconds until this load ends: the loading request's ``ttl``, else the model's,
        else LM Studio's hour for a JIT load; None: stays loaded."""
        if self.load_ttl is not None:
            return self.load_ttl
        if self.ttl is not None:
            return self.ttl
        return DEFAULT_JIT_TTL_SECONDS if self.jit_loaded else None

    def mark_unloaded(self) -> None:
        self.load_ttl = None
        self.loaded = False
        self.loading = False
        self.jit_loaded = False
        self.loaded_context_length = None
        self.instance_numbers = []
        self.instance_names = {}
        self.load_options = {}

    @property
    def instances(self) -> list[int]:
        """The loaded instances' numbers (LM Studio names a second load ``id:2``)."""
        if not self.loaded:
            return []
        return list(self.instance_numbers) or [1]

    def instance_id(self, number: int) -> str:
        name = self.instance_names.get(number)
        if name is not None:
            return name
        return self.id if number == 1 else f"{self.id}:{number}"

    def add_instance(self) -> int:
        """One more loaded instance (the lowest free number); returns its number."""
        numbers = self.instances
        number = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
        self.instance_numbers = sorted([*numbers, number])
        return number

    def remove_instance(self, number: int) -> None:
        """Unload one instance; the model is unloaded with its last one."""
        numbers = [n for n in self.instances if n != number]
        self.instance_names.pop(number, None)
        if numbers:
            self.instance_numbers = numbers
        else:
            self.mark_unloaded()

    def copy(self) -> Model:
        # Neither dataclasses.replace (it runs __init__ and __post_init__) nor copy.copy (its
        # __reduce_ex__ round trip): reset() copies the whole catalog, and this is 3x faster.
        clone = Model.__new__(Model)
        clone.__dict__.update(self.__dict__)
        if clone.capabilities is not None:
            clone.capabilities = list(clone.capabilities)
        clone.instance_numbers = list(self.instance_numbers)
        clone.instance_names = dict(self.instance_names)
        clone.load_options = dict(self.load_options)
        return clone

    @property
    def context_length(self) -> int:
        """The context a request can fill: the loaded one, else the one a load would give."""
        return self.loaded_context_length or min(DEFAULT_LOADED_CONTEXT, self.max_context_length)

    def serves(self, purpose: Purpose) -> bool:
        return (self.type == "embeddings") == (purpose == "embeddings")


def default_models() -> list[Model]:
    """The catalog a fresh fake starts with: the three models of the reference's examples and
    a reasoning model (not loaded)."""
    return [
        Model(
            "qwen/qwen3-8b",
            type="llm",
            publisher="qwen",
            arch="qwen3",
            quantization="Q4_K_M",
            max_context_length=40960,
            loaded=True,
            loaded_context_length=4096,
            capabilities=["tool_use"],
        ),
        Model(
            "qwen2-vl-7b-instruct",
            type="vlm",
            publisher="mlx-community",
            arch="qwen2_vl",
            compatibility_type="mlx",
            quantization="4bit",
            max_context_length=32768,
        ),
        Model(
            "text-embedding-nomic-embed-text-v1.5",
            type="embeddings",
            publisher="nomic-ai",
            arch="nomic-bert",
            quantization="Q4_0",
            max_context_length=2048,
        ),
        Model(
            "openai/gpt-oss-20b",
            type="llm",
            publisher="openai",
            arch="gpt-oss",
            quantization="MXFP4",
            max_context_length=131072,
            capabilities=["tool_use"],
            reasoning=True,
        ),
    ]


class Resolution(NamedTuple):
    """How a requested model id resolved.

    ``outcome`` is ``ok`` (``model`` set; ``needs_load`` when JIT must load it first),
    ``unknown`` (``valid`` lists the ids LM Studio would suggest), ``no_models_loaded``
    or ``wrong_type`` (``model`` set). A named tuple: immutable, and cheap to build once a
    request (a frozen dataclass sets each field through ``object.__setattr__``).
    """

    outcome: Literal["ok", "unknown", "no_models_loaded", "wrong_type"]
    model: Model | None = None
    needs_load: bool = False
    valid: tuple[str, ...] = ()


class Catalog:
    """An ordered set of models. Not thread-safe by itself: the server holds its lock."""

    def __init__(self, models: Iterable[Model] = ()) -> None:
        self._models: dict[str, Model] = {}
        #: models on their way (downloads): added when the clock passes their time
        self._arrivals: list[tuple[float, Model]] = []
        for model in models:
            self.add(model)

    def add(self, model: Model) -> None:
        self._models[model.id] = model

    def remove(self, model_id: str) -> Model:
        try:
            return self._models.pop(model_id)
        except KeyError:
            raise KeyError(
                f"no model {model_id!r} in the fake's catalog; it has: {self.ids_text()}"
            ) from None

    def clear(self) -> None:
        self._models.clear()

    def get(self, model_id: str) -> Model | None:
        return self._models.get(model_id)

    def models(self) -> list[Model]:
        return list(self._models.values())

    def ids_text(self) -> str:
        return ", ".join(self._models) or "(none)"

    def listed(self, *, jit: bool) -> list[Model]:
        """What the model lists show: every model with JIT on, else the loaded ones."""
        if jit:
            return list(self._models.values())
        return [m for m in self._models.values() if m.loaded]

    def copy(self) -> Catalog:
        catalog = Catalog(m.copy() for m in self._models.values())
        catalog._arrivals = [(at, m.copy()) for at, m in self._arrivals]
        return catalog

    def schedule(self, model: Model, at: float) -> None:
        """Add ``model`` once the clock reaches ``at`` (a download that completes then)."""
        self._arrivals.append((at, model))

    def instance(self, instance_id: str) -> tuple[Model, int] | None:
        """The loaded instance ``instance_id`` (``key``, ``key:n`` or a name it was loaded
        with): its model and number."""
        model = self._models.get(instance_id)
        if model is not None:
            return (model, 1) if 1 in model.instances else None
        key, colon, number = instance_id.rpartition(":")
        model = self._models.get(key) if colon and number.isdigit() else None
        if model is not None and int(number) in model.instances:
            return model, int(number)
        for model in self._models.values():
            for index, name in model.instance_names.items():
                if name == instance_id and index in model.instances:
                    return model, index
        return None

    def lookup(self, requested: str) -> Model | None:
        """The model a request naming ``requested`` asks for: by id, instance id (``key:n``)
        or ``id@quantization``; None when the catalog has none."""
        return self._lookup(requested)

    def _lookup(self, requested: str) -> Model | None:
        model = self._models.get(requested)
        if model is not None:
            return model
        found = self.instance(requested)
        if found is not None:
            return found[0]
        base, at, quant = requested.rpartition("@")
        if at:
            model = self._models.get(base)
            if model is not None and model.quantization.lower() == quant.lower():
                return model
        return None

    def resolve(
        self,
        requested: str | None,
        purpose: Purpose,
        *,
        jit: bool,
        single_loaded_fallback: bool = False,
    ) -> Resolution:
        """Resolve ``requested`` for ``purpose`` following LM Studio's rules.

        A missing model id is served by a loaded model of the right kind (LM Studio answers
        with the loaded model). With JIT off only loaded models count, and with
        ``single_loaded_fallback`` (bug-tracker #619) an unknown id is served by the one
        loaded model.
        """
        loaded = [m for m in self._models.values() if m.loaded and m.serves(purpose)]
        if requested is None:
            if loaded:
                return Resolution("ok", loaded[0])
            return Resolution("no_models_loaded")
        model = self._lookup(requested)
        if model is not None and not model.serves(purpose):
            return Resolution("wrong_type", model)
        if model is not None and (model.loaded or jit):
            return Resolution("ok", model, needs_load=not model.loaded)
        if single_loaded_fallback and len(loaded) == 1:
            return Resolution("ok", loaded[0])
        if not jit:
            if not any(m.loaded for m in self._models.values()):
                return Resolution("no_models_loaded")
            return Resolution("unknown", valid=_ids(m for m in self._models.values() if m.loaded))
        return Resolution("unknown", valid=_ids(self._models.values()))

    def expire(self, now: float) -> list[Model]:
        """Bring the catalog to ``now``: idle TTL unloads every loaded model idle for longer
        than its ``idle_ttl``; downloads finished by then add their model."""
        if self._arrivals:
            for _, model in [a for a in self._arrivals if a[0] <= now]:
                self._models.setdefault(model.id, model)
            self._arrivals = [a for a in self._arrivals if a[0] > now]
        expired = [
            m
            for m in self._models.values()
            if m.loaded
            and (ttl := m.idle_ttl) is not None
            and m.last_used is not None
            and now - m.last_used > ttl
        ]
        for model in expired:
            model.mark_unloaded()
        return expired

    def evict_jit_models(self, keep: Model) -> list[Model]:
        """Auto-evict: unload every other JIT-loaded model (LM Studio keeps one)."""
        evicted = [m for m in self._models.values() if m.jit_loaded and m is not keep]
        for model in evicted:
            model.mark_unloaded()
        return evicted


def _ids(models: Iterable[Model]) -> tuple[str, ...]:
    return tuple(m.id for m in models)


def new_model(
    model_id: str,
    type: ModelType = "llm",
    *,
    context_length: int = DEFAULT_CONTEXT_LENGTH,
    loaded: bool = True,
    capabilities: Sequence[str] | None = None,
    quantization: str = DEFAULT_QUANTIZATION,
    publisher: str | None = None,
    arch: str | None = None,
    compatibility_type: str = "gguf",
    loaded_context_length: int | None = None,
    load_seconds: float = 0.0,
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
    ttl: float | None = None,
    reasoning: bool = False,
) -> Model:
    """A model from ``add_model``'s arguments, checked (``ValueError`` says what is wrong)."""
    check_model_fields(
        model_id,
        type,
        context_length,
        capabilities,
        compatibility_type=compatibility_type,
        load_seconds=load_seconds,
        ttl=ttl,
        embedding_dimensions=embedding_dimensions,
    )
    return Model(
        model_id,
        type=type,
        publisher=publisher or "",
        arch=arch or ("nomic-bert" if type == "embeddings" else "llama"),
        compatibility_type=compatibility_type,
        quantization=quantization,
        max_context_length=context_length,
        loaded=bool(loaded),
        loaded_context_length=loaded_context_length,
        capabilities=None if capabilities is None else list(capabilities),
        load_seconds=float(load_seconds),
        embedding_dimensions=embedding_dimensions,
        ttl=None if ttl is None else float(ttl),
        reasoning=bool(reasoning),
    )


#: Bounds that keep one model from blocking the server (a vector of millions of numbers
#: takes the event loop for seconds) or a load from never ending.
MAX_EMBEDDING_DIMENSIONS = 65_536
MAX_CONTEXT_LENGTH = 10_000_000
MAX_SECONDS = 3600.0


def check_model_fields(
    model_id: object,
    type: object,
    context_length: object,
    capabilities: Sequence[object] | None,
    *,
    compatibility_type: object = "gguf",
    load_seconds: object = 0.0,
    ttl: object = None,
    embedding_dimensions: object = DEFAULT_EMBEDDING_DIMENSIONS,
) -> None:
    """Validate ``add_model`` arguments with messages that say what to pass instead."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError(f"model id must be a non-empty string, got {model_id!r}")
    if any(ord(ch) < 32 for ch in model_id):
        raise ValueError(f"model id {model_id!r} contains control characters")
    if type not in MODEL_TYPES:
        raise ValueError(f"model type must be one of {', '.join(MODEL_TYPES)}; got {type!r}")
    if not _whole(context_length, 1, MAX_CONTEXT_LENGTH):
        raise ValueError(
            f"context_length must be a positive integer (at most {MAX_CONTEXT_LENGTH}), "
            f"got {context_length!r}"
        )
    if capabilities is not None and not all(isinstance(c, str) for c in capabilities):
        raise ValueError(f"capabilities must be a list of strings, got {capabilities!r}")
    if compatibility_type not in COMPATIBILITY_TYPES:
        raise ValueError(f"compatibility_type must be 'gguf' or 'mlx', got {compatibility_type!r}")
    if not seconds_in_range(load_seconds, 0.0, MAX_SECONDS):
        raise ValueError(
            f"load_seconds must be a non-negative number (at most {MAX_SECONDS:g} s), "
            f"got {load_seconds!r}"
        )
    if ttl is not None and not (seconds_in_range(ttl, 0.0, 365 * 86400.0) and ttl):
        raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
    if not _whole(embedding_dimensions, 1, MAX_EMBEDDING_DIMENSIONS):
        raise ValueError(
            f"embedding_dimensions must be a positive integer (at most "
            f"{MAX_EMBEDDING_DIMENSIONS}), got {embedding_dimensions!r}"
        )


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def seconds_in_range(value: object, low: float, high: float) -> bool:
    """A finite number of seconds from ``low`` to ``high`` (NaN and infinities are not)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return math.isfinite(value) and low <= value <= high
