"""The fake's state: everything ``reset()`` restores, swapped as a whole.

A request reads the state once when it starts and keeps that snapshot to its end, so a
``reset()`` during a stalled stream cannot mix two states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .._catalog import Catalog
from .._profiles import Profile
from ._chaos import Chaos
from ._conversations import Conversations
from ._downloads import Downloads, default_downloadables
from ._rules import Rule
from ._store import ResponseStore

__all__ = ["State"]


@dataclass
class State:
    """Settings, catalog and rules of one fake."""

    catalog: Catalog
    profile: Profile
    seed: int
    jit: bool
    api_token: str | None
    validate: bool
    cors: bool
    single_loaded_fallback: bool
    clock: Callable[[], float]
    rules: list[Rule] = field(default_factory=list)
    chaos: Chaos | None = None
    while_loading: str = "wait"
    #: LM Studio's "Only Keep Last JIT Loaded Model": a JIT load unloads the previous one
    auto_evict: bool = True
    #: where reasoning goes (None: the profile's format)
    reasoning_format: str | None = None
    #: the responses a stateful API stored (``previous_response_id``)
    conversations: Conversations = field(default_factory=Conversations)
    #: what can be downloaded, and the download jobs
    downloads: Downloads = field(default_factory=lambda: Downloads(default_downloadables()))
    #: responses kept for ``previous_response_id`` (``reset()`` forgets them)
    responses: ResponseStore = field(default_factory=ResponseStore)

    def copy(self) -> State:
        """A fresh copy: its own catalog, the rules with their counts at zero, chaos with its
        random source back at its seed, no stored responses, the same downloads on offer and
        no jobs."""
        return replace(
            self,
            catalog=self.catalog.copy(),
            rules=[replace(r, calls=0) for r in self.rules],
            chaos=None if self.chaos is None else replace(self.chaos),
            conversations=Conversations(self.conversations.limit, self.conversations.max_bytes),
            downloads=self.downloads.copy(),
            responses=self.responses.copy(),
        )
