"""The responses a stateful door keeps for chaining (``previous_response_id``).

LM Studio keeps them on disk, for ever; the fake keeps them in its state, so ``reset()``
forgets them, and bounds them (the oldest are forgotten first) so that no client can make it
grow without end. Items are kept in the door's own wire form: the engine only stores them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: At most this many responses are kept; the oldest are forgotten first.
MAX_STORED_RESPONSES = 1024
#: And at most about this many bytes of their items (measured as the request and answer bodies).
MAX_STORED_BYTES = 64 * 1024 * 1024

__all__ = ["MAX_STORED_BYTES", "MAX_STORED_RESPONSES", "ResponseStore", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response: the response it continued (``parent``), the items it added to the
    conversation (its own input, then its output) and their size in bytes."""

    id: str
    parent: str | None
    items: tuple[Any, ...]
    size: int


class ResponseStore:
    """Stored responses by id, bounded in count and bytes. Not thread-safe by itself: the
    engine's lock guards it, as it guards the rest of the state."""

    def __init__(
        self, max_count: int = MAX_STORED_RESPONSES, max_bytes: int = MAX_STORED_BYTES
    ) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._nodes: OrderedDict[str, StoredResponse] = OrderedDict()
        self._bytes = 0
        #: responses created so far (stored or not): numbers each one, so two identical
        #: requests still get two ids
        self.created = 0

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._nodes

    def next_number(self) -> int:
        """The number of the next response created (0, 1, 2...)."""
        number = self.created
        self.created += 1
        return number

    def put(self, node: StoredResponse) -> None:
        old = self._nodes.pop(node.id, None)
        if old is not None:
            self._bytes -= old.size
        self._nodes[node.id] = node
        self._bytes += node.size
        while self._nodes and (len(self._nodes) > self.max_count or self._bytes > self.max_bytes):
            _, dropped = self._nodes.popitem(last=False)
            self._bytes -= dropped.size

    def chain(self, response_id: str) -> list[StoredResponse] | None:
        """The conversation ending with ``response_id``, oldest first; None when that id is
        not stored. A parent already forgotten ends the walk (the chain starts after it)."""
        node = self._nodes.get(response_id)
        if node is None:
            return None
        found: list[StoredResponse] = []
        seen: set[str] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            found.append(node)
            node = self._nodes.get(node.parent) if node.parent is not None else None
        found.reverse()
        return found

    def items(self, chain: Sequence[StoredResponse]) -> list[Any]:
        """The items of a chain, in conversation order."""
        return [item for node in chain for item in node.items]

    def copy(self) -> ResponseStore:
        twin = ResponseStore(self.max_count, self.max_bytes)
        twin._nodes = OrderedDict(self._nodes)
        twin._bytes = self._bytes
        twin.created = self.created
        return twin
