"""The door of LM Studio's own SDKs (``lmstudio`` for Python, ``@lmstudio/sdk`` for
JavaScript): websockets on ``/<namespace>`` of the same port, each speaking LM Studio's
RPC-and-channel protocol after an auth handshake.

Predictions and embeddings are turns of the same engine as the HTTP doors, so ``fake.chat``
and ``fake.embeddings`` rules answer them (``when(api="sdk")`` narrows a rule to this door),
and ``fake.models`` rules answer the model lists. ``_session`` runs a socket, ``_frames``
holds the frames and the checks of incoming ones, ``_shapes`` the model infos and errors,
``_models`` and ``_predict`` the endpoints.
"""

from __future__ import annotations

from typing import Any

from ..._catalog import Model
from ...engine import Decision, Reply, Rule, State, Stream, Turn, compose
from .._base import Call, JsonOut, Out, Route, SocketOut
from ..openai import ERRORS
from ..system import unexpected
from ._files import upload_file_base64
from ._frames import Field
from ._models import (
    count_tokens_rpc,
    embed_string,
    get_load_config,
    get_model_info,
    get_or_load,
    list_downloaded,
    list_loaded,
    load_model,
    specifier_issues,
    tokenize,
    unload_model,
    version,
)
from ._predict import apply_prompt_template, complete_raw_text, encode, history_issues, predict
from ._protocol import Endpoint, Namespace
from ._session import API, Session

__all__ = ["API", "MAX_FRAME_BYTES", "NAMESPACES", "preview", "routes"]

#: The largest frame read (``files.uploadFileBase64`` sends a whole file in one).
MAX_FRAME_BYTES = 64 * 1024 * 1024
MSG_UNKNOWN_NAMESPACE = (
    "Unknown LM Studio websocket namespace {name!r}: the SDKs connect to /{known}"
)

_STACK: Field = (dict, True)
_SPECIFIED: dict[str, Field] = {"specifier": (dict, True)}


def _specified(field: str) -> Any:
    def check(parameter: Any) -> list[str]:
        return specifier_issues(parameter.get(field), f"parameter.{field}")

    return check


def _model_endpoints(domain: str) -> tuple[dict[str, Endpoint], dict[str, Endpoint]]:
    """What ``llm`` and ``embedding`` share."""
    text: dict[str, Field] = {**_SPECIFIED, "inputString": (str, True)}
    rpcs = {
        "listLoaded": Endpoint(list_loaded),
        "getModelInfo": Endpoint(
            get_model_info,
            {**_SPECIFIED, "throwIfNotFound": (bool, False)},
            _specified("specifier"),
        ),
        "getLoadConfig": Endpoint(get_load_config, _SPECIFIED, _specified("specifier")),
        "tokenize": Endpoint(tokenize, text, _specified("specifier")),
        "countTokens": Endpoint(count_tokens_rpc, text, _specified("specifier")),
        "unloadModel": Endpoint(unload_model, {"identifier": (str, True)}),
    }
    channels = {
        "getOrLoad": Endpoint(
            get_or_load,
            {"identifier": (str, True), "loadConfigStack": _STACK, "loadTtlMs": (int, False)},
        ),
        "loadModel": Endpoint(
            load_model,
            {
                "modelKey": (str, True),
                "identifier": (str, False),
                "ttlMs": (int, False),
                "loadConfigStack": _STACK,
            },
        ),
    }
    return rpcs, channels


def _predict_extra(parameter: Any) -> list[str]:
    where = "creationParameter"
    return [
        *specifier_issues(parameter.get("modelSpecifier"), f"{where}.modelSpecifier"),
        *history_issues(parameter.get("history"), f"{where}.history"),
    ]


def _namespaces() -> dict[str, Namespace]:
    llm_rpcs, llm_channels = _model_endpoints("llm")
    llm_rpcs["applyPromptTemplate"] = Endpoint(
        apply_prompt_template,
        {**_SPECIFIED, "history": (dict, True)},
        lambda p: [
            *specifier_issues(p.get("specifier"), "parameter.specifier"),
            *history_issues(p.get("history"), "parameter.history"),
        ],
    )
    llm_channels["predict"] = Endpoint(
        predict,
        {
            "modelSpecifier": (dict, True),
            "history": (dict, True),
            "predictionConfigStack": _STACK,
            "fuzzyPresetIdentifier": (str, False),
        },
        _predict_extra,
    )
    llm_channels["completeRawText"] = Endpoint(
        complete_raw_text,
        {
            "modelSpecifier": (dict, True),
            "rawPrompt": (str, True),
            "predictionConfigStack": _STACK,
            "fuzzyPresetIdentifier": (str, False),
        },
        lambda p: specifier_issues(p.get("modelSpecifier"), "creationParameter.modelSpecifier"),
    )
    embedding_rpcs, embedding_channels = _model_endpoints("embedding")
    embedding_rpcs["embedString"] = Endpoint(
        embed_string,
        {"modelSpecifier": (dict, True), "inputString": (str, True)},
        lambda p: specifier_issues(p.get("modelSpecifier"), "parameter.modelSpecifier"),
    )
    spaces = [
        Namespace("llm", llm_rpcs, llm_channels),
        Namespace("embedding", embedding_rpcs, embedding_channels),
        Namespace(
            "system",
            {"listDownloadedModels": Endpoint(list_downloaded), "version": Endpoint(version)},
        ),
        Namespace(
            "files",
            {
                "uploadFileBase64": Endpoint(
                    upload_file_base64, {"name": (str, True), "contentBase64": (str, True)}
                )
            },
        ),
        # Namespaces the SDKs open (some eagerly) whose endpoints the fake does not serve:
        # a call there gets LM Studio's warning and an error, never silence.
        *(Namespace(n) for n in ("repository", "plugins", "diagnostics", "runtime")),
    ]
    return {n.name: n for n in spaces}


#: Every namespace the SDKs open, by name.
NAMESPACES: dict[str, Namespace] = _namespaces()


async def _upgrade(call: Call) -> Out:
    """``GET /<namespace>``: a websocket upgrade opens an SDK session; a plain GET gets
    LM Studio's catch-all answer, as before."""
    if call.headers.get("Upgrade", "").lower() != "websocket":
        return await unexpected(call)
    name = call.match_info["namespace"]
    namespace = NAMESPACES.get(name)
    call.entry.api = API
    if namespace is None:
        message = MSG_UNKNOWN_NAMESPACE.format(name=name, known=", /".join(NAMESPACES))
        return JsonOut(404, {"error": message})
    return SocketOut(lambda socket: Session(call, namespace, socket), MAX_FRAME_BYTES)


def routes() -> list[Route]:
    """The upgrade route: after every HTTP door's routes, before the catch-all."""
    return [Route("GET", "/{namespace:[^/]+}", _upgrade, ERRORS, body="none", auth=False)]


def preview(rule: Rule, state: State, model: Model) -> list[str]:
    """What is wrong with what ``rule`` would send through this door: a chat answer's tool
    calls must carry JSON objects (the SDK's ``toolCallRequest.arguments``)."""
    action = rule.action
    if rule.route != "chat" or not isinstance(action, (Reply, Stream)):
        return []
    turn = Turn("chat", API, {"model": model.id, "history": {"messages": []}}, model.id)
    decision = Decision(turn, model, rule, action, None)
    try:
        encode(decision, compose(decision, state.seed, 0))
    except ValueError as exc:
        return [str(exc)]
    return []
