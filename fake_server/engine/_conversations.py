"""Stored responses: what a stateful API (``/api/v1/chat``) chains with
``previous_response_id``.

One node per stored response, keyed by its id: the messages it added (the new input and the
answer), its parent, and the system prompt its chain started with. Resolving an id walks the
parents, so the same id can be continued twice (a branch). Bounded in count and in bytes:
the oldest nodes go first (a chain through a forgotten node is "not found"). ``reset()``
forgets them all (a fresh state has an empty store).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

#: Stored responses kept at most, and the bytes of text they may hold together.
DEFAULT_CONVERSATION_LIMIT = 1000
DEFAULT_CONVERSATION_BYTES = 16 * 1024 * 1024

__all__ = [
    "DEFAULT_CONVERSATION_BYTES",
    "DEFAULT_CONVERSATION_LIMIT",
    "Conversations",
    "Exchange",
    "Message",
]

Message = tuple[str, str]
"""A role (``user``, ``assistant``) and the text of one message."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One stored response: the messages it added to its chain, and where it came from."""

    id: str
    parent: str | None
    messages: tuple[Message, ...]
    system_prompt: str | None
    model: str
    api: str

    @property
    def size(self) -> int:
        return sum(len(text) for _, text in self.messages) + len(self.system_prompt or "")


class Conversations:
    """The stored responses of one state. Not thread-safe by itself: the engine's lock."""

    def __init__(
        self,
        limit: int = DEFAULT_CONVERSATION_LIMIT,
        max_bytes: int = DEFAULT_CONVERSATION_BYTES,
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._nodes: OrderedDict[str, Exchange] = OrderedDict()
        self._bytes = 0
        #: responses stored so far (a seed for the next id, so ids never repeat)
        self.count = 0

    def __len__(self) -> int:
        return len(self._nodes)

    def add(self, exchange: Exchange) -> None:
        self.count += 1
        self._nodes[exchange.id] = exchange
        self._bytes += exchange.size
        while self._nodes and (len(self._nodes) > self.limit or self._bytes > self.max_bytes):
            _, dropped = self._nodes.popitem(last=False)
            self._bytes -= dropped.size

    def get(self, response_id: str) -> Exchange | None:
        return self._nodes.get(response_id)

    def chain(self, response_id: str) -> list[Exchange] | None:
        """The exchanges from the chain's first to ``response_id``; None if it (or one of
        its ancestors) is not stored."""
        out: list[Exchange] = []
        current: str | None = response_id
        while current is not None:
            node = self._nodes.get(current)
            if node is None:
                return None
            out.append(node)
            current = node.parent
        out.reverse()
        return out
