"""JIT loading: a request for a downloaded model that is not loaded waits while it loads.

A load is a task of its own: as in LM Studio, it goes on when the request that started it
goes away (a client timeout), so a retry finds it further along. Concurrent requests for the
same model share one load.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .._catalog import Model
from ._state import State

__all__ = ["Loader", "ModelLoading"]


class ModelLoading(Exception):
    """``while_loading="503"``: the model is loading, for ``left`` more seconds."""

    def __init__(self, model: Model, left: float) -> None:
        super().__init__(model.id)
        self.model = model
        self.left = left


class Loader:
    """The loads in progress, keyed by model object (a reset() catalog's model is another)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._loads: dict[int, asyncio.Event] = {}
        self._ends: dict[int, float] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def ensure_loaded(self, model: Model, state: State, ttl: Any) -> None:
        """Wait for ``model`` to load (starting the load if needed); with
        ``while_loading="503"`` start it and raise ``ModelLoading`` instead of waiting."""
        event = self._start(model, state, ttl)
        if state.while_loading == "503":
            loop = asyncio.get_running_loop()
            with self._lock:
                left = max(self._ends.get(id(model), loop.time()) - loop.time(), 0.0)
            raise ModelLoading(model, left)
        if event is not None:
            await event.wait()

    def _start(self, model: Model, state: State, ttl: Any) -> asyncio.Event | None:
        loop = asyncio.get_running_loop()
        key = id(model)
        with self._lock:
            if model.loaded:
                return None
            event = self._loads.get(key)
            if event is None:
                event = self._loads[key] = asyncio.Event()
                model.loading = True
                self._ends[key] = loop.time() + model.load_seconds
                task = loop.create_task(self._load(model, state, ttl, event, key))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        return event

    async def _load(
        self, model: Model, state: State, ttl: Any, event: asyncio.Event, key: int
    ) -> None:
        try:
            if model.load_seconds > 0:
                await asyncio.sleep(model.load_seconds)
            with self._lock:
                model.mark_loaded(jit=True)
                if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > 0:
                    model.load_ttl = float(ttl)  # the request's ttl applies to this load
                model.last_used = state.clock()
                if state.auto_evict:
                    state.catalog.evict_jit_models(keep=model)
        finally:
            with self._lock:
                model.loading = False
                self._loads.pop(key, None)
                self._ends.pop(key, None)
            event.set()
