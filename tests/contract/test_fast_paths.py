"""The fake's fast request check gives the whole schema's verdict on every example and on
every broken copy of the valid ones."""

from __future__ import annotations

from typing import Any

import pytest

from fake_server._app import ALLOWED_ROLES, chat_request_is_valid
from fake_server._schemas import validator
from tests.contract.examples import INVALID, VALID
from tests.contract.test_schemas import _variants

SCHEMA = "openai/chat-completion-request.schema.json"


def _roles_known(document: Any) -> bool:
    """The fake checks roles (with LM Studio's own message) before the schema."""
    messages = document.get("messages") if isinstance(document, dict) else None
    return isinstance(messages, list) and all(
        isinstance(m, dict) and m.get("role") in ALLOWED_ROLES for m in messages
    )


def _documents() -> list[Any]:
    documents = [d for _, d in VALID[SCHEMA]] + [d for _, d, _ in INVALID[SCHEMA]]
    for _, document in VALID[SCHEMA]:
        documents.extend(_variants(document))
    return [d for d in documents if _roles_known(d)]


def test_there_are_enough_cases() -> None:
    assert len(_documents()) > 200


@pytest.mark.parametrize("chunk", range(4))
def test_fast_chat_check_agrees_with_the_whole_schema(chunk: int) -> None:
    whole = validator(SCHEMA)
    documents = _documents()[chunk::4]
    disagreements = [d for d in documents if chat_request_is_valid(d) != whole.is_valid(d)]
    assert disagreements == []
