"""Loading models: JIT (a request for a downloaded model that is not loaded waits while it
loads) and explicit loads (``POST /api/v1/models/load``).

A load is a task of its own: as in LM Studio, it goes on when the request that started it
goes away (a client timeout), so a retry finds it further along. Concurrent requests for the
same model share one load, whichever kind started it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
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

    async def ensure_loaded(
        self, model: Model, state: State, ttl: Any, context_length: int | None = None
    ) -> None:
        """Wait for ``model`` to load (starting a JIT load, with ``context_length`` if given,
        if needed); with ``while_loading="503"`` start it and raise ``ModelLoading`` instead
        of waiting."""
        event = self._start(model, state, ttl, True, context_length, {})
        if state.while_loading == "503":
            loop = asyncio.get_running_loop()
            with self._lock:
                left = max(self._ends.get(id(model), loop.time()) - loop.time(), 0.0)
            raise ModelLoading(model, left)
        if event is not None:
            await event.wait()

    async def load(
        self,
        model: Model,
        state: State,
        context_length: int | None,
        options: Mapping[str, Any],
    ) -> int:
        """An explicit load: wait until ``model`` is loaded (joining a load in progress) and
        return the instance's number. A model already loaded gets another instance (``:2``),
        which takes its own ``load_seconds``. No TTL, no auto-evict: it stays until unloaded."""
        with self._lock:
            already = model.loaded
        if already:
            if model.load_seconds > 0:
                await asyncio.sleep(model.load_seconds)
            with self._lock:
                if model.loaded:
                    return model.add_instance()
        event = self._start(model, state, None, False, context_length, options)
        if event is not None:
            await event.wait()
        with self._lock:
            return model.instances[0] if model.instances else model.add_instance()

    def _start(
        self,
        model: Model,
        state: State,
        ttl: Any,
        jit: bool,
        context_length: int | None,
        options: Mapping[str, Any],
    ) -> asyncio.Event | None:
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
                load = self._load(model, state, ttl, jit, context_length, dict(options))
                task = loop.create_task(load)
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        return event

    async def _load(
        self,
        model: Model,
        state: State,
        ttl: Any,
        jit: bool,
        context_length: int | None,
        options: dict[str, Any],
    ) -> None:
        key = id(model)
        event = self._loads[key]
        try:
            if model.load_seconds > 0:
                await asyncio.sleep(model.load_seconds)
            with self._lock:
                if context_length is not None:
                    model.loaded_context_length = min(context_length, model.max_context_length)
                model.mark_loaded(jit=jit)
                model.load_options = options
                if jit and isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > 0:
                    model.load_ttl = float(ttl)  # the request's ttl applies to this load
                model.last_used = state.clock()
                if jit and state.auto_evict:
                    state.catalog.evict_jit_models(keep=model)
        finally:
            with self._lock:
                model.loading = False
                self._loads.pop(key, None)
                self._ends.pop(key, None)
            event.set()
